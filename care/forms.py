from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.functional import cached_property

from care import services
from care.models import EducationGiven, EducationTopic, Medication, MedicationReport, Referral
from care.panels import intervention_summary
from carereg.dates import DATE_INPUT
from carereg.forms import show_errors_on_form
from patients.models import Episode
from registry.models import Intervention

NOT_ASKED = [("", "Not asked")]


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    if layout:
        helper.layout = Layout(*layout)
    return helper


def _not_future(day, what: str):
    if day and day > timezone.localdate():
        raise forms.ValidationError(f"The {what} date cannot be in the future.")
    return day


# --- Screens of their own ------------------------------------------------------------------------


class MedicationForm(forms.ModelForm):
    class Meta:
        model = Medication
        fields = ["name", "dose", "instructions", "started_on", "prescriber", "prescriber_name"]
        widgets = {"started_on": DATE_INPUT}
        labels = {"prescriber": "Prescriber (the patient's PCP)"}

    def __init__(self, *args, episode: Episode, **kwargs):
        super().__init__(*args, **kwargs)
        pcp_id = episode.patient.pcp_id
        self.fields["prescriber"].queryset = self.fields["prescriber"].queryset.filter(pk=pcp_id)
        self.fields["prescriber"].empty_label = "Someone else (name them below)"
        self.fields["started_on"].initial = timezone.localdate
        self.helper = _helper(
            Row(Column("name"), Column("dose")),
            "instructions",
            Row(Column("started_on"), Column("prescriber"), Column("prescriber_name")),
        )

    def clean_started_on(self):
        return _not_future(self.cleaned_data["started_on"], "start")

    def clean(self):
        data = super().clean()
        if data.get("prescriber") and data.get("prescriber_name", "").strip():
            self.add_error("prescriber_name", "Choose the PCP or name another prescriber, not both.")
        return data

    def _post_clean(self):
        pass  # the service validates the medication as a whole


class StopMedicationForm(forms.Form):
    stopped_on = forms.DateField(label="Stopped on", widget=DATE_INPUT, initial=timezone.localdate)
    stop_reason = forms.CharField(label="Why was it stopped?", max_length=300)

    def clean_stopped_on(self):
        return _not_future(self.cleaned_data["stopped_on"], "stop")


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(label="Referral to", choices=[("", "---------")] + Referral.Kind.choices)
    to_whom = forms.CharField(label="Organisation or person", max_length=200)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    sent_on = forms.DateField(label="Sent on", widget=DATE_INPUT, initial=timezone.localdate)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(Row(Column("kind"), Column("to_whom"), Column("sent_on")), "reason")

    def clean_sent_on(self):
        return _not_future(self.cleaned_data["sent_on"], "sent")


class ReferralStatusForm(forms.Form):
    status = forms.ChoiceField(label="New status")
    on = forms.DateField(
        label="Date", widget=DATE_INPUT, help_text="The appointment date when scheduling; else the day it closed."
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    def __init__(self, *args, referral: Referral, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, Referral.Status(s).label) for s in referral.allowed_next_statuses()]


class EducationGivenForm(forms.ModelForm):
    class Meta:
        model = EducationGiven
        fields = ["topic", "given_on", "how", "note"]
        widgets = {"given_on": DATE_INPUT}

    def __init__(self, *args, episode: Episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = EducationTopic.objects.filter(clinic_id=episode.patient.clinic_id, active=True)
        self.fields["given_on"].initial = timezone.localdate
        self.helper = _helper(Row(Column("topic"), Column("given_on"), Column("how")), "note")

    def clean_given_on(self):
        return _not_future(self.cleaned_data["given_on"], "given")

    def _post_clean(self):
        pass  # the service validates


class EducationTopicForm(forms.ModelForm):
    class Meta:
        model = EducationTopic
        fields = ["title", "category", "language", "active", "handout_text"]
        widgets = {"handout_text": forms.Textarea(attrs={"rows": 12})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(Row(Column("title"), Column("category"), Column("language")), "active", "handout_text")

    def _post_clean(self):
        pass  # the service checks the title is unique in the clinic's library


# --- Beside a contact, in one sitting ------------------------------------------------------------


class MedicationReportForm(forms.Form):
    adherence = forms.ChoiceField(choices=NOT_ASKED + MedicationReport.Adherence.choices, required=False)
    side_effect_severity = forms.ChoiceField(
        label="Side effects", choices=NOT_ASKED + MedicationReport.Severity.choices, required=False
    )
    side_effects = forms.CharField(label="Which side effects", max_length=1000, required=False)
    effectiveness = forms.ChoiceField(
        label="Effectiveness (patient's view)",
        choices=NOT_ASKED + MedicationReport.Effectiveness.choices,
        required=False,
    )

    def __init__(self, *args, medication: Medication, **kwargs):
        kwargs.setdefault("prefix", f"med-{medication.pk}")
        super().__init__(*args, **kwargs)
        self.medication = medication
        self.helper = _helper(
            Row(Column("adherence"), Column("side_effect_severity"), Column("side_effects"), Column("effectiveness"))
        )

    def is_blank(self) -> bool:
        return not any(self.cleaned_data.get(name) for name in self.fields)

    def clean(self):
        data = super().clean()
        severity, text = data.get("side_effect_severity"), (data.get("side_effects") or "").strip()
        if text and not severity:
            self.add_error("side_effect_severity", "Say how severe the side effects are.")
        if severity and severity != MedicationReport.Severity.NONE and not text:
            self.add_error("side_effects", "Describe the side effects.")
        return data

    def to_input(self) -> services.ReportInput | None:
        if self.is_blank():
            return None
        return services.ReportInput(medication=self.medication, **self.cleaned_data)


class SessionForm(forms.Form):
    intervention = forms.ChoiceField(choices=[("", "---------")] + Intervention.choices, required=False)
    session_number = forms.IntegerField(
        label="Session", min_value=1, max_value=99, required=False, help_text="Empty: the next one."
    )
    planned_sessions = forms.IntegerField(
        label="of (planned)", min_value=1, max_value=99, required=False, help_text="Empty: as planned before."
    )
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Row(
                Column("intervention", css_class="col-md-4"),
                Column("session_number", css_class="col-md-2"),
                Column("planned_sessions", css_class="col-md-2"),
                Column("note", css_class="col-md-4"),
            )
        )

    def clean(self):
        data = super().clean()
        others = [data.get("session_number"), data.get("planned_sessions"), (data.get("note") or "").strip()]
        if not data.get("intervention") and any(v not in (None, "") for v in others):
            self.add_error("intervention", "Choose the intervention this session belongs to.")
        number, planned = data.get("session_number"), data.get("planned_sessions")
        if number and planned and number > planned:
            self.add_error("planned_sessions", f"Session {number} is past the {planned} planned.")
        return data

    def to_input(self) -> services.SessionInput | None:
        if not self.cleaned_data.get("intervention"):
            return None
        return services.SessionInput(key=self.prefix, **self.cleaned_data)


class ContactReferralForm(forms.Form):
    kind = forms.ChoiceField(label="Refer to", choices=[("", "No referral")] + Referral.Kind.choices, required=False)
    to_whom = forms.CharField(label="Organisation or person", max_length=200, required=False)
    reason = forms.CharField(label="Reason for referral", max_length=2000, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "referral")
        super().__init__(*args, **kwargs)
        self.helper = _helper(Row(Column("kind"), Column("to_whom"), Column("reason")))

    def clean(self):
        data = super().clean()
        if data.get("kind"):
            for name, message in [("to_whom", "Say who the patient is referred to."), ("reason", "Give the reason.")]:
                if not (data.get(name) or "").strip() and name not in self.errors:
                    self.add_error(name, message)
        elif (data.get("to_whom") or "").strip() or (data.get("reason") or "").strip():
            self.add_error("kind", "Choose what kind of referral this is.")
        return data

    def to_input(self) -> services.ReferralInput | None:
        if not self.cleaned_data.get("kind"):
            return None
        return services.ReferralInput(key=self.prefix, **self.cleaned_data)


class FetchedChoices(ModelChoiceIterator):
    """The choices from the queryset's rows once fetched, where Django's iterator reads them
    again: the record-contact page asks whether the library has topics before drawing them."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for topic in self.queryset:
            yield self.choice(topic)


class FetchedOnceMultipleChoiceField(forms.ModelMultipleChoiceField):
    iterator = FetchedChoices


class ContactEducationForm(forms.Form):
    topics = FetchedOnceMultipleChoiceField(
        label="Education given",
        queryset=EducationTopic.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    how = forms.ChoiceField(label="How", choices=[("", "---------")] + EducationGiven.How.choices, required=False)
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, episode: Episode, **kwargs):
        kwargs.setdefault("prefix", "education")
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = EducationTopic.objects.filter(clinic_id=episode.patient.clinic_id, active=True)
        self.helper = _helper("topics", Row(Column("how"), Column("note")))

    def clean(self):
        data = super().clean()
        if data.get("topics") and not data.get("how"):
            self.add_error("how", "Say how the education was given.")
        if not data.get("topics") and (data.get("how") or (data.get("note") or "").strip()):
            self.add_error("topics", "Choose the topics given.")
        return data

    def to_input(self) -> services.EducationInput | None:
        if not self.cleaned_data.get("topics"):
            return None
        return services.EducationInput(key=self.prefix, **self.cleaned_data)


class TreatmentForms:
    """The care parts of the record-contact page: a report per current medication, two
    intervention sessions, a referral and education given. Each is optional."""

    SESSION_ROWS = 2
    template = "care/_contact_treatment_fields.html"  # a part of the record-contact page (registry/visits.py)

    def __init__(self, data, *, episode: Episode):
        self.episode = episode
        self.medications = list(
            Medication.objects.valid().filter(episode=episode, stopped_on__isnull=True).order_by("name", "pk")
        )
        self.report_forms = [MedicationReportForm(data, medication=m) for m in self.medications]
        self.session_forms = [SessionForm(data, prefix=f"session-{n}") for n in range(1, self.SESSION_ROWS + 1)]
        self.referral_form = ContactReferralForm(data)
        self.education_form = ContactEducationForm(data, episode=episode)
        self.non_field_errors: list[str] = []

    @cached_property
    def intervention_summary(self):
        return intervention_summary(self.episode)

    @property
    def forms(self) -> list[forms.Form]:
        return [*self.report_forms, *self.session_forms, self.referral_form, self.education_form]

    def is_valid(self) -> bool:
        return all([form.is_valid() for form in self.forms])  # a list: every form is checked

    def session_inputs(self) -> list[services.SessionInput]:
        return [s for s in (f.to_input() for f in self.session_forms) if s]

    def interventions_with(self, codes) -> list[str]:
        """The contact's intervention codes, with those of the sessions recorded at it."""
        return list(dict.fromkeys([*codes, *(s.intervention for s in self.session_inputs())]))

    def save(self, *, contact, by) -> services.TreatmentDetails:
        return services.record_treatment_details(
            contact=contact,
            by=by,
            medication_reports=[r for r in (f.to_input() for f in self.report_forms) if r],
            sessions=self.session_inputs(),
            referral=self.referral_form.to_input(),
            education=self.education_form.to_input(),
        )

    def show_errors(self, error: ValidationError) -> bool:
        """Put a TreatmentDetailsError's parts beside their forms; False for any other error."""
        if not isinstance(error, services.TreatmentDetailsError):
            return False
        by_prefix = {form.prefix: form for form in self.forms}
        for key, part in error.parts.items():
            if key in by_prefix:
                show_errors_on_form(by_prefix[key], part)
            else:
                self.non_field_errors.extend(part.messages)
        return True
