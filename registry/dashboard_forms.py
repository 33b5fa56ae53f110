"""The caseload dashboard's controls. Only non-identifying choices go in the URL; the search
text lives in the session, and only for a while (SEARCH_KEPT_FOR)."""

import datetime
import time

from django import forms

from accounts.models import Role, User
from patients.models import Episode
from registry.caseload import DEFAULT_SORT, MY_PATIENTS_FIELD, SORTS, UNASSIGNED
from registry.models import CaseloadPreferences, Flag

SORT_CHOICES = [(key, key) for key in SORTS] + [(f"-{key}", f"-{key}") for key in SORTS]


class CaseloadForm(forms.Form):
    team = forms.ChoiceField(label="Caseload", required=False)
    status = forms.ChoiceField(
        choices=[("", "Any open status")] + [c for c in Episode.Status.choices if c[0] != Episode.Status.DISCHARGED],
        required=False,
    )
    flag = forms.MultipleChoiceField(
        label="Flags",
        choices=Flag.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
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
            mine
            + [("all", "All care managers"), (UNASSIGNED, "Unassigned (no care manager)")]
            + [(str(cm.pk), f"{cm}'s caseload") for cm in care_managers]
        )
        for name in ("team", "status"):
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
            "flags": tuple(values.get("flag", ())),
            "sort": values.get("sort") or DEFAULT_SORT,
        }


class SearchForm(forms.Form):
    q = forms.CharField(label="Search by name or MRN", max_length=100, required=False)


# --- The search, kept in the session -----------------------------------------------------

SEARCH_SESSION_KEY = "caseload_search"
# A search stays while the user works through its results (opening a patient and coming back
# included) and lapses after this long unused, so that it never greets them hours later.
SEARCH_KEPT_FOR = datetime.timedelta(minutes=15)


def remember_search(session, text: str) -> None:
    if text:
        session[SEARCH_SESSION_KEY] = {"q": text, "at": time.time()}
    else:
        session.pop(SEARCH_SESSION_KEY, None)


def active_search(session, *, touch: bool = False) -> str:
    """The search text in force, or "" once it has lapsed; touch: it is being used now."""
    kept = session.get(SEARCH_SESSION_KEY)
    if not isinstance(kept, dict) or time.time() - kept.get("at", 0) > SEARCH_KEPT_FOR.total_seconds():
        session.pop(SEARCH_SESSION_KEY, None)
        return ""
    if touch:
        remember_search(session, kept["q"])
    return kept["q"]


# --- The user's columns ------------------------------------------------------------------

# (key, heading) of every column but the patient's name, which is always shown.
COLUMNS = [
    ("flags", "Flags"),
    ("mrn", "MRN"),
    ("status", "Status"),
    ("enrolled", "Enrolled"),
    ("initial_assessment", "Initial assessment"),
    ("last_contact", "Last contact"),
    ("contacts", "Contacts"),
    ("weeks", "Weeks"),
    ("next_due", "Next due"),
    ("phq9_baseline", "PHQ-9 first"),
    ("phq9_latest", "PHQ-9 last"),
    ("phq9_change", "PHQ-9 %"),
    ("gad7_baseline", "GAD-7 first"),
    ("gad7_latest", "GAD-7 last"),
    ("gad7_change", "GAD-7 %"),
    ("minutes", "Min this month"),
    ("last_review", "Last review"),
    ("open_recs", "Open recs"),
    ("care_manager", "Care manager"),
]


class ColumnsForm(forms.Form):
    shown = forms.MultipleChoiceField(
        label="Columns shown",
        choices=COLUMNS,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    compact = forms.BooleanField(
        label="Compact rows (more patients on the screen)",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    @classmethod
    def of(cls, preferences: CaseloadPreferences | None) -> "ColumnsForm":
        hidden = set(preferences.hidden_columns) if preferences else set()
        return cls(
            initial={
                "shown": [key for key, _ in COLUMNS if key not in hidden],
                "compact": bool(preferences and preferences.compact),
            }
        )

    def save(self, user) -> CaseloadPreferences:
        shown = set(self.cleaned_data["shown"])
        preferences, _ = CaseloadPreferences.objects.update_or_create(
            user=user,
            defaults={
                "hidden_columns": [key for key, _ in COLUMNS if key not in shown],
                "compact": self.cleaned_data["compact"],
            },
        )
        return preferences


def shown_columns(preferences: CaseloadPreferences | None) -> dict[str, bool]:
    hidden = set(preferences.hidden_columns) if preferences else set()
    return {key: key not in hidden for key, _ in COLUMNS}
