from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Role, User
from care.models import Medication
from carereg.dates import DATE_INPUT
from consults.models import Recommendation
from consults.notes import clean_diagnoses


class CaseReviewForm(forms.Form):
    reviewed_on = forms.DateField(label="Reviewed on", widget=DATE_INPUT, initial=timezone.localdate)
    consultant = forms.ModelChoiceField(queryset=User.objects.none())
    summary = forms.CharField(label="Discussion and recommendations", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consultant"].queryset = User.objects.filter(
            role=Role.PSYCHIATRIC_CONSULTANT, clinics=clinic, is_active=True
        ).order_by("last_name")


class AddToAgendaForm(forms.Form):
    episode = forms.ModelChoiceField(
        label="Patient",
        queryset=None,
        error_messages={"invalid_choice": "Choose a patient from the caseload.", "required": "Choose a patient."},
    )
    note = forms.CharField(label="Question for the consultant", max_length=300, required=False)

    def __init__(self, *args, episodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["episode"].queryset = episodes
        self.fields["episode"].label_from_instance = lambda e: (
            f"{e.patient.last_name}, {e.patient.first_name} ({e.patient.mrn})"
        )


class QuestionForm(forms.Form):
    note = forms.CharField(label="Question for the consultant", max_length=300, required=False)


class QuestionsForm(forms.Form):
    """The question of every row still on an agenda, saved together (by the page's one Save, or
    with any other button of the page): a question typed in one row is never dropped because
    another row was saved. A row the post does not carry keeps its question."""

    def __init__(self, data=None, *, items):
        self.items = list(items)
        if data is not None:
            data = data.copy()
            for item in self.items:
                data.setdefault(self.key(item), item.note)
        super().__init__(data, initial={self.key(item): item.note for item in self.items})
        for item in self.items:
            patient = item.episode.patient
            self.fields[self.key(item)] = forms.CharField(
                label=f"Question for the consultant about {patient.last_name}, {patient.first_name}",
                max_length=300,
                required=False,
            )

    @staticmethod
    def key(item) -> str:
        return f"note-{item.pk}"

    def questions(self) -> dict[int, str]:
        return {item.pk: self.cleaned_data[self.key(item)] for item in self.items}

    def field_for(self, item):
        return self[self.key(item)]


class SessionForm(forms.Form):
    meeting_on = forms.DateField(label="Meeting date", widget=DATE_INPUT)
    format = forms.ChoiceField(choices=[("in_person", "In person"), ("phone", "Phone"), ("video", "Video")])


class NoteForm(forms.Form):
    """The consultation note's text. Recommendations are added one by one beside it."""

    reviewed_on = forms.DateField(label="Reviewed on", widget=DATE_INPUT)
    assessment = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    diagnoses = forms.CharField(
        label="Diagnostic impression (ICD-10)",
        required=False,
        help_text="Codes separated by commas, e.g. F33.1, F41.1",
        widget=forms.TextInput(attrs={"list": "icd10-common", "autocomplete": "off"}),
    )
    summary = forms.CharField(label="Reasoning", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    minutes = forms.IntegerField(label="Minutes discussed", min_value=0, max_value=240, required=False)

    def clean_diagnoses(self) -> list[str]:
        try:
            return clean_diagnoses(self.cleaned_data["diagnoses"].replace(";", ",").split(","))
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["diagnoses"]) from None


class RecommendationForm(forms.Form):
    kind = forms.ChoiceField(label="Recommendation", choices=Recommendation.Kind.choices)
    drug = forms.CharField(label="Medication", max_length=100, required=False)
    dose = forms.CharField(max_length=100, required=False)
    details = forms.CharField(label="Details", max_length=2000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget.attrs["class"] = "form-select form-select-sm"
        for name in ("drug", "dose", "details"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"


class AmendmentForm(forms.Form):
    text = forms.CharField(label="Amendment", widget=forms.Textarea(attrs={"rows": 3}))


class CommunicateForm(forms.Form):
    when = forms.DateTimeField(
        label="When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    how = forms.ChoiceField(
        choices=[c for c in Recommendation.Channel.choices if c[0] != Recommendation.Channel.IN_APP]
    )


class ResponseForm(forms.Form):
    # No answer is chosen beforehand: the PCP (or the care manager who heard it) picks one.
    response = forms.ChoiceField(
        label="PCP response",
        choices=[
            ("", "Choose a response…"),
            ("accepted", "Accepted"),
            ("modified", "Accepted with changes"),
            ("declined", "Declined"),
        ],
        error_messages={"required": "Choose the PCP's response: accepted, accepted with changes, or declined."},
    )
    note = forms.CharField(label="Changes, or why declined", max_length=2000, required=False)


class ImplementedForm(forms.Form):
    on = forms.DateField(label="Implemented on", widget=DATE_INPUT)


class ImplementedMedicationForm(ImplementedForm):
    """A medication recommendation implemented, and the medication list changed to match in the
    same step: the change is offered filled in from the recommendation (docs/user-guide.md#recommendations)."""

    update_list = forms.BooleanField(label="Change the medication list to match", required=False, initial=True)
    medication = forms.ModelChoiceField(
        label="Medication on the list", queryset=Medication.objects.none(), required=False
    )
    name = forms.CharField(label="Medication", max_length=200, required=False)
    dose = forms.CharField(max_length=100, required=False)
    instructions = forms.CharField(label="Frequency / instructions", max_length=200, required=False)
    stop_reason = forms.CharField(label="Why stopped", max_length=300, required=False)

    def __init__(self, *args, recommendation: Recommendation, **kwargs):
        self.kind = recommendation.kind
        current = Medication.objects.valid().filter(episode=recommendation.episode, stopped_on__isnull=True)
        same = next((m for m in current if m.name.strip().lower() == recommendation.drug.strip().lower()), None)
        kwargs["initial"] = {**self._filled_in(recommendation, same), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.fields["medication"].queryset = current.order_by("name", "pk")
        Kind = Recommendation.Kind
        if self.kind == Kind.START_MEDICATION:
            del self.fields["medication"], self.fields["stop_reason"]
        elif self.kind == Kind.STOP_MEDICATION:
            del self.fields["name"], self.fields["dose"], self.fields["instructions"]
            self.fields["medication"].label = "Medication stopped"
        else:
            del self.fields["stop_reason"]
            self.fields["medication"].empty_label = "None of these: add it to the list"

    @staticmethod
    def _filled_in(recommendation: Recommendation, same: Medication | None) -> dict:
        return {
            "medication": same,
            "name": recommendation.drug,
            "dose": recommendation.dose,
            "instructions": same.instructions if same else "",
            "stop_reason": (
                f"On the psychiatric consultant's recommendation of {recommendation.recommended_on:%Y-%m-%d}."
            ),
        }

    def clean(self):
        data = super().clean()
        if not data.get("update_list"):
            return data
        if self.kind == Recommendation.Kind.STOP_MEDICATION:
            if not data.get("medication"):
                self.add_error("medication", "Choose the medication that was stopped.")
            if not data.get("stop_reason", "").strip():
                self.add_error("stop_reason", "Say why the medication was stopped.")
            return data
        for name in ("name", "dose"):
            if name in self.fields and not data.get(name, "").strip():
                self.add_error(name, "Give the medication and its dose, or leave the list as it is.")
        return data
