from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Clinic, Role, User
from carereg.dates import DATE_INPUT
from patients import services
from patients.models import Episode, Patient
from patients.plans import ASSESSMENT_FIELDS, RELAPSE_PLAN_FIELDS, diagnoses_text, parse_diagnoses, recommendations

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
        if self.instance.pk:  # editing: the version opened, so a save over someone else's is refused
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, initial=self.instance.version)
            self.helper.layout.append("version")

    @classmethod
    def after_conflict(cls, stale: "PatientForm", *, clinics) -> "PatientForm":
        """The form again after someone else saved first: what is saved now, the version now
        saved, and on top only what this user changed from the version they opened (found in
        history), so saving it again overwrites nothing of the other person's."""
        current = Patient.objects.get(pk=stale.instance.pk)
        opened = current.history.filter(version=stale.cleaned_data["version"]).first()
        opened = cls(instance=opened.instance if opened else current, clinics=clinics)
        now = cls(instance=current, clinics=clinics)
        data = {name: now[name].value() for name in now.fields}
        for name, field in stale.fields.items():
            if name != "version" and field.has_changed(opened[name].initial, stale[name].data):
                data[name] = stale[name].data
        form = cls(data, instance=current, clinics=clinics)
        form.is_valid()
        return form

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

    def __init__(self, *args, clinics, user, **kwargs):
        super().__init__(*args, clinics=clinics, **kwargs)
        self.fields["clinic"].queryset = clinics
        if len(clinics) == 1:
            self.fields["clinic"].initial = clinics[0]
            self.fields["clinic"].widget = forms.HiddenInput()
        if user.role == Role.CARE_MANAGER:  # who enrolls usually follows the patient: one less thing to forget
            self.fields["care_manager"].initial = user.pk

    def clean(self):
        """The enrollment service's own checks (MRN taken, care team, consent date) beside the
        form's, so that every error shows on the first submit."""
        data = super().clean()
        if data.get("clinic"):
            fields = {name: data.get(name) for name in ("mrn", *CARE_TEAM) if name not in self.errors}
            problems = services.enrollment_errors(clinic=data["clinic"], enrolled_on=data.get("enrolled_on"), **fields)
            for name, message in problems.items():
                if name not in self.errors:
                    self.add_error(name, message)
        return data

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


# --- The care manager's plans (patients/plans.py) -------------------------------------------

YES_NO = [("", "---------"), ("yes", "Yes"), ("no", "No")]


def _yes_no(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


def _as_yes_no(value) -> str:
    return "" if value is None else "yes" if value else "no"


class _PlanForm(forms.Form):
    """Blank completion date: saved as a draft. Dated: complete, and every part is checked."""

    completed_on = forms.DateField(
        label="Completed on", widget=DATE_INPUT, required=False, help_text="Leave empty to save a draft."
    )

    def clean_completed_on(self):
        day = self.cleaned_data["completed_on"]
        if day and day > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return day


class InitialAssessmentForm(_PlanForm):
    presenting_problems = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    diagnoses = forms.CharField(
        label="Diagnoses (ICD-10-CM)",
        widget=forms.Textarea(attrs={"rows": 3, "list": "icd10-common"}),
        required=False,
        help_text="One a line, code first: F32.1 Major depressive disorder, single episode, moderate. "
        "A common code alone gets its usual label.",
    )
    alcohol_use = forms.CharField(max_length=300, required=False)
    tobacco_use = forms.CharField(max_length=300, required=False)
    cannabis_use = forms.CharField(max_length=300, required=False)
    other_drug_use = forms.CharField(label="Other drug use", max_length=300, required=False)
    substance_use_notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000)
    current_suicidal_ideation = _yes_no("Current suicidal ideation")
    past_suicide_attempts = _yes_no("History of suicide attempts")
    access_to_means = _yes_no("Access to lethal means")
    safety_notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000)
    stressors = forms.CharField(
        label="Psychosocial stressors", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000
    )
    supports = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000)
    patient_goals = forms.CharField(
        label="Patient's goals, in their own words",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )
    move_to_active = forms.BooleanField(
        label="Move the episode to active treatment on the completion date", required=False
    )

    def __init__(self, *args, episode: Episode, **kwargs):
        super().__init__(*args, **kwargs)
        if episode.status != Episode.Status.ENROLLED:
            del self.fields["move_to_active"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset("Presenting problems and diagnoses", "presenting_problems", "diagnoses"),
            Fieldset(
                "Substance use",
                Row(Column("alcohol_use"), Column("tobacco_use")),
                Row(Column("cannabis_use"), Column("other_drug_use")),
                "substance_use_notes",
            ),
            Fieldset(
                "Safety",
                Row(Column("current_suicidal_ideation"), Column("past_suicide_attempts"), Column("access_to_means")),
                "safety_notes",
            ),
            Fieldset("Stressors, supports and goals", "stressors", "supports", "patient_goals"),
            Fieldset("Completion", "completed_on", *(["move_to_active"] if "move_to_active" in self.fields else [])),
        )

    @staticmethod
    def initial_from(assessment) -> dict:
        initial = {name: getattr(assessment, name) for name in ASSESSMENT_FIELDS}
        initial["diagnoses"] = diagnoses_text(assessment.diagnoses)
        for name in ("current_suicidal_ideation", "past_suicide_attempts", "access_to_means"):
            initial[name] = _as_yes_no(initial[name])
        initial["completed_on"] = assessment.completed_on
        return initial

    def clean_diagnoses(self) -> list[dict]:
        try:
            return parse_diagnoses(self.cleaned_data["diagnoses"])
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["diagnoses"]) from None

    def clean(self):
        data = super().clean()
        if data.get("move_to_active") and not data.get("completed_on"):
            self.add_error("move_to_active", "Only a completed (dated) assessment moves the episode on.")
        return data

    def assessment_fields(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("completed_on", "move_to_active")}


class TreatmentPlanForm(forms.Form):
    goals = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    target = forms.CharField(max_length=200, help_text="The default is the registry's: PHQ-9 < 5 or 50% reduction.")
    current_treatments = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text="A summary: medications and doses, psychotherapy, other care.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_target(self):
        target = self.cleaned_data["target"].strip()
        if not target:
            raise forms.ValidationError("Give the treatment target.")
        return target


class PlanChangeForm(forms.Form):
    changed_on = forms.DateField(label="Date of the change", widget=DATE_INPUT, initial=timezone.localdate)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="E.g. not improving at 10 weeks: consultant recommended a dose increase.",
    )
    what_changed = forms.CharField(label="What changed", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    recommendation = forms.ModelChoiceField(
        queryset=None, required=False, label="From the consultant's recommendation (optional)"
    )

    def __init__(self, *args, episode: Episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recommendation"].queryset = recommendations().of_signed_notes(episode)
        self.fields["recommendation"].label_from_instance = lambda r: (
            f"{r.recommended_on:%Y-%m-%d}: {r} ({r.get_status_display().lower()})"
        )
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_changed_on(self):
        day = self.cleaned_data["changed_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return day


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(label="Why was it entered in error?", max_length=1000)


class RelapsePlanForm(_PlanForm):
    warning_signs = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    coping_strategies = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    maintenance_treatment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    contacts = forms.CharField(
        label="Who to contact",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text="Names and phone numbers: the care manager, the clinic, family. The 988 crisis line is always "
        "printed on the patient's copy.",
    )
    when_to_come_back = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000)
    move_to_relapse_prevention = forms.BooleanField(
        label="Move the episode to relapse prevention on the completion date", required=False
    )

    def __init__(self, *args, episode: Episode, **kwargs):
        super().__init__(*args, **kwargs)
        if episode.status != Episode.Status.ACTIVE:
            del self.fields["move_to_relapse_prevention"]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        data = super().clean()
        if data.get("move_to_relapse_prevention") and not data.get("completed_on"):
            self.add_error("move_to_relapse_prevention", "Date the completed plan to move to relapse prevention.")
        return data

    def plan_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in RELAPSE_PLAN_FIELDS}
