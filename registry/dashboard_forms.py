"""The caseload dashboard's controls. Only non-identifying choices go in the URL."""

from django import forms

from accounts.models import Role, User
from patients.models import Episode
from registry.caseload import DEFAULT_SORT, MY_PATIENTS_FIELD, SORTS
from registry.models import Flag

SORT_CHOICES = [(key, key) for key in SORTS] + [(f"-{key}", f"-{key}") for key in SORTS]


class CaseloadForm(forms.Form):
    team = forms.ChoiceField(label="Caseload", required=False)
    status = forms.ChoiceField(
        choices=[("", "Any open status")] + [c for c in Episode.Status.choices if c[0] != Episode.Status.DISCHARGED],
        required=False,
    )
    flag = forms.ChoiceField(choices=[("", "Any or no flag")] + Flag.Kind.choices, required=False)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, widget=forms.HiddenInput)

    def __init__(self, data, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        care_managers = (
            User.objects.filter(role=Role.CARE_MANAGER, clinics__in=user.visible_clinics())
            .distinct()
            .order_by("last_name", "first_name")
        )
        mine = [("mine", "My patients")] if user.role in MY_PATIENTS_FIELD else []
        self.fields["team"].choices = (
            mine + [("all", "All care managers")] + [(str(cm.pk), f"{cm}'s caseload") for cm in care_managers]
        )
        for name in ("team", "status", "flag"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def default_team(self) -> str:
        return "mine" if self.user.role in MY_PATIENTS_FIELD else "all"

    def cleaned(self) -> dict:
        """The chosen values, falling back to defaults for anything missing or not offered."""
        self.is_valid()  # keeps the fields that are valid in cleaned_data
        values = self.cleaned_data
        return {
            "team": values.get("team") or self.default_team(),
            "status": values.get("status", ""),
            "flag": values.get("flag", ""),
            "sort": values.get("sort") or DEFAULT_SORT,
        }


class SearchForm(forms.Form):
    q = forms.CharField(label="Search by name or MRN", max_length=100, required=False)
