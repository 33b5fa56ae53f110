import datetime
import uuid
import zoneinfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from carereg.dates import DATE_INPUT
from registry.instruments import INSTRUMENTS, OPTIONAL_INSTRUMENTS
from registry.instruments.base import Instrument
from registry.models import MAX_CONTACT_MINUTES, Contact, Intervention, RegistrySettings, SafetyAssessment
from registry.services import Answers


class ItemAnswersForm(forms.Form):
    """One radio row per item of an instrument. The total shown in the browser is a
    convenience; the server scores the answers itself.

    With required=False (scores optional at a contact) the form may be left blank, but a
    questionnaire begun must be finished: each missing item is named.
    """

    def __init__(self, *args, instrument: Instrument, required: bool = True, **kwargs):
        kwargs.setdefault("prefix", instrument.code.lower())
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.required = required
        for number, text in enumerate(instrument.items, start=1):
            labels = instrument.labels_for(number)
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=f"{number}. {text}",
                choices=[(value, f"{value} {label}") for value, label in enumerate(labels)],
                coerce=int,
                widget=forms.RadioSelect,
                required=False,
                error_messages={"invalid_choice": f"Item {number}: choose one of 0-{len(labels) - 1}."},
            )
        for question in instrument.extra_questions:  # unscored, e.g. the PHQ-9's difficulty question
            self.fields[question.field] = forms.TypedChoiceField(
                label=question.text,
                choices=[("", "Not asked")] + list(enumerate(question.answers)),
                coerce=int,
                empty_value=None,
                required=False,
            )

    def extra_fields(self):
        return [self[question.field] for question in self.instrument.extra_questions]

    def extra_values(self) -> dict:
        return {question.field: self.cleaned_data.get(question.field) for question in self.instrument.extra_questions}

    def item_fields(self):
        return [self[f"item_{n}"] for n in range(1, self.instrument.item_count + 1)]

    def item_rows(self) -> list[tuple[forms.BoundField, SafeString]]:
        """Each item's field with the cells of its answers, for the table of registry/_item_table.html."""
        return [(field, radio_cells(field)) for field in self.item_fields()]

    def answer_values(self) -> list[int | None]:
        return [self.cleaned_data.get(f"item_{n}") for n in range(1, self.instrument.item_count + 1)]

    def is_blank(self) -> bool:
        return all(value in (None, "") for value in self.answer_values()) and all(
            value is None for value in self.extra_values().values()
        )

    def clean(self):
        data = super().clean()
        if not self.required and self.is_blank():
            return data
        for number, value in enumerate(self.answer_values(), start=1):
            if value in (None, "") and f"item_{number}" not in self.errors:
                self.add_error(f"item_{number}", f"{self.instrument.name} item {number} is not answered.")
        return data

    def answers(self) -> Answers | None:
        if not self.required and self.is_blank():
            return None
        return Answers(self.instrument.code, self.answer_values(), **self.extra_values())


def radio_cells(field: forms.BoundField) -> SafeString:
    """One table cell with a radio button per answer of an item, as registry/_item_table.html
    drew them with a loop over the field's choices: drawn here because that loop (4 answers of
    9 items, each several lookups) was the largest part of the record-contact page's template
    time (docs/benchmarks.md#cpu-per-request). registry/tests/test_forms.py keeps the two equal."""
    label_id = conditional_escape(f"{field.auto_id}_label")
    name = conditional_escape(field.html_name)
    cells = []
    for choice in field.subwidgets:
        choice_id = conditional_escape(choice.id_for_label)
        checked = " checked" if choice.data["selected"] else ""
        cells.append(
            f'\n        <td class="text-center"><input class="form-check-input" type="radio" name="{name}" '
            f'value="{conditional_escape(choice.data["value"])}" id="{choice_id}"\n'
            f'          aria-labelledby="{label_id} {choice_id}_text"{checked}>\n'
            f'          <span class="visually-hidden" id="{choice_id}_text">{conditional_escape(choice.choice_label)}'
            "</span></td>\n        "
        )
    return mark_safe("".join(cells))


class MeasurementForm(ItemAnswersForm):
    taken_on = forms.DateField(label="Date taken", widget=DATE_INPUT, initial=timezone.localdate)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["taken_on"])


class ContactForm(forms.ModelForm):
    interventions = forms.MultipleChoiceField(
        choices=Intervention.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    # A new token each time the form is shown: a second post of the same form saves nothing.
    submission = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)

    class Meta:
        model = Contact
        fields = [
            "contact_date",
            "contact_time",
            "kind",
            "with_whom",
            "mode",
            "reached",
            "minutes",
            "interventions",
            "note",
            "next_contact_on",
        ]
        widgets = {
            "contact_date": DATE_INPUT,
            "contact_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "next_contact_on": DATE_INPUT,
            "note": forms.Textarea(attrs={"rows": 3}),
            "minutes": forms.NumberInput(attrs={"min": 0, "max": MAX_CONTACT_MINUTES}),
        }

    def __init__(self, *args, clinic=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["contact_date"].initial = lambda: self._now().date()
        self.fields["minutes"].help_text = "Care manager time for CoCM billing."
        self.fields["reached"].help_text = "Untick for an outreach attempt that did not reach the patient."
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("contact_date"), Column("contact_time"), Column("minutes")),
            Row(Column("kind"), Column("with_whom"), Column("mode")),
            "reached",
            "interventions",
            "note",
            Row(Column("next_contact_on", css_class="col-md-4")),
            "submission",
        )

    def _now(self) -> datetime.datetime:
        """Now on the clinic's clock (the patient's clinic, whichever clinic the user opened first)."""
        zone = zoneinfo.ZoneInfo(self.clinic.timezone) if self.clinic else None
        return timezone.localtime(timezone=zone)

    def clean_contact_date(self):
        day = self.cleaned_data["contact_date"]
        if day > self._now().date():
            raise forms.ValidationError("The contact date cannot be in the future.")
        return day

    def clean(self):
        data = super().clean()
        day, time, now = data.get("contact_date"), data.get("contact_time"), self._now()
        if day == now.date() and time and time > now.time().replace(second=59, microsecond=999999):
            self.add_error("contact_time", f"The contact time cannot be in the future (it is {now:%H:%M} now).")
        return data


class SafetyAssessmentForm(forms.ModelForm):
    actions = forms.MultipleChoiceField(
        label="What was done", choices=SafetyAssessment.Action.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = SafetyAssessment
        fields = ["assessed_at", "risk_level", "actions", "note"]
        widgets = {
            "assessed_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "note": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {"note": "Assessment and plan", "assessed_at": "Assessed at"}

    follow_up_in_days = forms.IntegerField(
        label="Close follow-up in (days)",
        min_value=1,
        max_value=30,
        required=False,
        help_text="The next contact becomes due this many days after the assessment.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessed_at"].initial = lambda: timezone.localtime().replace(second=0, microsecond=0)
        self.order_fields(["assessed_at", "risk_level", "actions", "follow_up_in_days", "note"])

    def clean_assessed_at(self):
        when = self.cleaned_data["assessed_at"]
        if when > timezone.now():
            raise forms.ValidationError("The assessment time cannot be in the future.")
        return when

    def clean(self):
        data = super().clean()
        actions, days = data.get("actions") or [], data.get("follow_up_in_days")
        scheduled = SafetyAssessment.Action.FOLLOW_UP_SCHEDULED
        if scheduled in actions and not days and "follow_up_in_days" not in self.errors:
            self.add_error("follow_up_in_days", "Say in how many days the close follow-up is.")
        elif days and scheduled not in actions and "actions" in data:
            data["actions"] = [*actions, scheduled]  # a number of days is a follow-up scheduled
        return data

    def assessment_fields(self) -> dict:
        """What the service takes: the follow-up as a date, counted from the assessment's day."""
        fields = {name: self.cleaned_data[name] for name in ("assessed_at", "risk_level", "actions", "note")}
        days = self.cleaned_data.get("follow_up_in_days")
        day = timezone.localtime(fields["assessed_at"]).date()
        fields["follow_up_on"] = day + datetime.timedelta(days=days) if days else None
        return fields


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(max_length=500, label="Why was this entered in error?")


class ResolveFlagForm(forms.Form):
    note = forms.CharField(
        label="Why is this flag resolved?", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class RequestReviewForm(forms.Form):
    reason = forms.CharField(
        label="What should the consultant discuss?", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class RegistrySettingsForm(forms.ModelForm):
    enabled_instruments = forms.MultipleChoiceField(
        label="Instruments care managers see (besides the PHQ-9)",
        choices=[(code, INSTRUMENTS[code].name) for code in OPTIONAL_INSTRUMENTS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = RegistrySettings
        fields = [
            "active_cadence_days",
            "relapse_prevention_cadence_days",
            "first_followup_days",
            "not_improving_after_days",
            "case_review_recency_days",
            "measurement_overdue_days",
            "recommendation_open_days",
            "baseline_lookback_days",
            "agenda_weekday",
            "agenda_hour",
            "referral_overdue_days",
            "no_contact_discharge_days",
            "self_report_link_days",
            "pcl5_positive_at",
            "enabled_instruments",
            "caseload_population",
        ]
