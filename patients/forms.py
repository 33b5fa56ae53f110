from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.utils import timezone

from accounts.models import Clinic, Role, User
from patients.models import Episode, Patient

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

DEMOGRAPHICS = ["mrn", "first_name", "last_name", "birth_date", "sex", "preferred_language"]
CONTACT_DETAILS = ["phone", "email", "address_line", "city", "state", "postal_code"]
CARE_TEAM = ["care_manager", "pcp", "psychiatric_consultant"]


def staff_choices(clinics, role: str):
    return User.objects.filter(role=role, clinics__in=clinics, is_active=True).distinct().order_by("last_name")


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = DEMOGRAPHICS + CONTACT_DETAILS + CARE_TEAM
        widgets = {"birth_date": DATE_INPUT}
        labels = {"birth_date": "Date of birth", "pcp": "PCP"}

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["care_manager"].queryset = staff_choices(clinics, Role.CARE_MANAGER)
        self.fields["pcp"].queryset = staff_choices(clinics, Role.MEDICAL_PROVIDER)
        self.fields["psychiatric_consultant"].queryset = staff_choices(clinics, Role.PSYCHIATRIC_CONSULTANT)
        self.fields["phone"].widget.attrs["inputmode"] = "tel"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = self._layout()

    def _layout(self) -> Layout:
        return Layout(
            Fieldset(
                "Patient",
                Row(Column("mrn"), Column("first_name"), Column("last_name")),
                Row(Column("birth_date"), Column("sex"), Column("preferred_language")),
            ),
            Fieldset(
                "Contact details",
                Row(Column("phone"), Column("email")),
                Row(
                    Column("address_line", css_class="col-md-6"), Column("city"), Column("state"), Column("postal_code")
                ),
            ),
            Fieldset("Care team", Row(Column("care_manager"), Column("pcp"), Column("psychiatric_consultant"))),
        )

    def clean_birth_date(self):
        born = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if born < today.replace(year=today.year - 120):
            raise forms.ValidationError("The date of birth is more than 120 years ago.")
        return born

    def clean_mrn(self):
        return self.cleaned_data["mrn"].strip()


class EnrollForm(PatientForm):
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none())
    enrolled_on = forms.DateField(label="Enrollment (consent) date", widget=DATE_INPUT, initial=timezone.localdate)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, clinics=clinics, **kwargs)
        self.fields["clinic"].queryset = clinics
        if len(clinics) == 1:
            self.fields["clinic"].initial = clinics[0]
            self.fields["clinic"].widget = forms.HiddenInput()

    def _layout(self) -> Layout:
        layout = super()._layout()
        layout.insert(0, Fieldset("Enrollment", Row(Column("clinic"), Column("enrolled_on"))))
        layout.append(Submit("enroll", "Enroll patient"))
        return layout

    def patient_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in DEMOGRAPHICS + CONTACT_DETAILS + CARE_TEAM}


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="New status")
    on = forms.DateField(label="Date", widget=DATE_INPUT, initial=timezone.localdate)
    discharge_reason = forms.ChoiceField(choices=[("", "---------")] + Episode.DischargeReason.choices, required=False)
    discharge_note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, episode: Episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (s.value, s.label) for s in map(Episode.Status, episode.allowed_next_statuses())
        ]
        self.helper = FormHelper()
        self.helper.add_input(Submit("change", "Change status", css_class="btn-outline-primary"))

    def clean(self):
        data = super().clean()
        if data.get("status") == Episode.Status.DISCHARGED and not data.get("discharge_reason"):
            self.add_error("discharge_reason", "Give the reason for discharge.")
        if data.get("status") != Episode.Status.DISCHARGED and data.get("discharge_reason"):
            self.add_error("discharge_reason", "A discharge reason goes only with a discharge.")
        return data


class ReenrollForm(forms.Form):
    enrolled_on = forms.DateField(label="New enrollment (consent) date", widget=DATE_INPUT, initial=timezone.localdate)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("reenroll", "Enroll again"))
