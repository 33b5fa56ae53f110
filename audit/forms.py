import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Clinic, User
from audit.emergency import REASON_MIN_LENGTH
from carereg.dates import DATE_INPUT
from patients.models import Patient

MAX_PERIOD_DAYS = 366


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=DATE_INPUT)
    end = forms.DateField(label="To (included)", widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["start"].initial = today - datetime.timedelta(days=30)
        self.fields["end"].initial = today
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's form tag has it

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end of the period must not be before its start.")
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("start", f"Choose a period of at most {MAX_PERIOD_DAYS} days.")
        return data

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The period as aware datetimes in the current (clinic's) time zone, end exclusive."""
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.cleaned_data["start"], datetime.time.min, zone)
        end = datetime.datetime.combine(self.cleaned_data["end"] + datetime.timedelta(days=1), datetime.time.min, zone)
        return start, end


class PatientAccessForm(PeriodForm):
    """Which patient: by MRN (in a POST body, never the URL) and clinic."""

    field_order = ["clinic", "mrn", "start", "end"]
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none(), empty_label=None)
    mrn = forms.CharField(label="MRN", max_length=32)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["clinic"].queryset = user.visible_clinics()
        self.helper.add_input(Submit("show", "Show who accessed this patient"))

    def clean(self):
        data = super().clean()
        clinic, mrn = data.get("clinic"), (data.get("mrn") or "").strip()
        if clinic and mrn:
            patient = Patient.objects.visible_to(self.user).filter(clinic=clinic, mrn=mrn).first()
            if patient is None:
                self.add_error("mrn", "No patient with this MRN in that clinic.")
            data["patient"] = patient
        return data


class UserAccessForm(PeriodForm):
    field_order = ["user", "start", "end"]
    user = forms.ModelChoiceField(label="Staff member", queryset=User.objects.none())

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        staff = User.objects.all() if user.is_superuser else User.objects.filter(clinics__in=user.clinics.all())
        self.fields["user"].queryset = staff.distinct().order_by("last_name", "first_name", "username")


class EmergencyAccessForm(forms.Form):
    """The patient: the record just refused (kept in the session), or an MRN and clinic code."""

    refused = forms.BooleanField(required=False, label="The patient record I was just refused")
    clinic_code = forms.SlugField(label="Clinic code", max_length=32, required=False)
    mrn = forms.CharField(label="MRN", max_length=32, required=False)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=REASON_MIN_LENGTH,
        help_text=f"Why you need this record now (at least {REASON_MIN_LENGTH} characters). The patient's clinic "
        "admins are told at once and will read it.",
    )

    def __init__(self, *args, refused_patient_id: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused_patient_id = refused_patient_id
        if refused_patient_id is None:
            del self.fields["refused"]
        else:
            self.fields["refused"].label = f"The patient record I was just refused (registry id {refused_patient_id})"
            self.fields["refused"].initial = True
        self.helper = FormHelper()
        self.helper.add_input(Submit("grant", "Open the record in an emergency", css_class="btn-danger"))

    def clean(self):
        """The reason first: without a valid one, no patient is looked up and nothing about one is
        said, so the form cannot tell whether an MRN exists (docs/access-log.md#emergency-access)."""
        data = super().clean()
        refused = bool(data.get("refused")) and self.refused_patient_id is not None
        if not refused and not data.get("clinic_code"):
            self.add_error("clinic_code", "Give the clinic code of the patient's clinic.")
        if not refused and not (data.get("mrn") or "").strip():
            self.add_error("mrn", "Give the patient's MRN in that clinic.")
        if self.errors:
            return data
        data["patient"] = self.named_patient()
        if data["patient"] is None and refused:
            raise ValidationError("That record no longer exists.")
        if data["patient"] is None:
            self.add_error("mrn", "No patient with this MRN in that clinic.")
        return data

    def named_patient(self) -> Patient | None:
        """The patient the form names (the record just refused, or clinic code and MRN), if there is one."""
        data = getattr(self, "cleaned_data", {})
        if data.get("refused") and self.refused_patient_id is not None:
            return Patient.objects.filter(pk=self.refused_patient_id).first()
        code, mrn = data.get("clinic_code"), (data.get("mrn") or "").strip()
        return Patient.objects.filter(clinic__code=code, mrn=mrn).first() if code and mrn else None

    def named_clinic_id(self) -> int | None:
        """The clinic the form names (for the log: its admins see attempts on their clinic)."""
        code = getattr(self, "cleaned_data", {}).get("clinic_code")
        return Clinic.objects.filter(code=code).values_list("pk", flat=True).first() if code else None
