from django import forms
from django.core.exceptions import ValidationError

from carereg.dates import DATE_INPUT
from registry.instruments import INSTRUMENTS, PHQ9
from registry.models import RegistrySettings
from registry.services import Answers
from selfreport.models import SELF_REPORT_INSTRUMENTS, Channel, Language, MessagingSettings
from selfreport.phone import mobile_number
from selfreport.services import NO_EMAIL
from selfreport.wording import TEXT

INSTRUMENT_CHOICES = [(code, INSTRUMENTS[code].name) for code in SELF_REPORT_INSTRUMENTS]


class SendForm(forms.Form):
    """The care manager's: which questionnaires, in which language, by e-mail (to which
    address) or by text (to the number of the patient's consent)."""

    instruments = forms.MultipleChoiceField(
        choices=INSTRUMENT_CHOICES, widget=forms.CheckboxSelectMultiple, initial=[PHQ9.code]
    )
    language = forms.ChoiceField(choices=Language.choices)
    channel = forms.ChoiceField(label="Send by", choices=Channel.choices, initial=Channel.EMAIL)
    email = forms.EmailField(label="E-mail address", required=False)
    every_days = forms.TypedChoiceField(
        label="Then send again",
        choices=[("", "Just this once"), (14, "Every 2 weeks"), (28, "Every 4 weeks")],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("channel") == Channel.EMAIL and not data.get("email") and "email" not in self.errors:
            self.add_error("email", NO_EMAIL)
        return data


class TextConsentForm(forms.Form):
    """The patient's consent to texts, told to a member of staff, and the mobile number."""

    phone_number = forms.CharField(label="Mobile number", max_length=32)
    agreed = forms.BooleanField(
        label="The patient agrees to receive text messages from the clinic: questionnaire links and reminders",
        error_messages={"required": "Tick this only when the patient has agreed to texts."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone_number"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})

    def clean_phone_number(self) -> str:
        return mobile_number(self.cleaned_data["phone_number"])


class MessagingSettingsForm(forms.ModelForm):
    class Meta:
        model = MessagingSettings
        fields = ["quiet_hours_start", "quiet_hours_end", "reminder_days_before_expiry"]
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean_reminder_days_before_expiry(self) -> int:
        days = self.cleaned_data["reminder_days_before_expiry"]
        link_days = RegistrySettings.for_clinic(self.instance.clinic).self_report_link_days
        if days and days >= link_days:
            raise ValidationError(
                f"A link lasts {link_days} days (registry settings): remind fewer days than that before it "
                "expires, or 0 for no reminder."
            )
        return days


class BirthDateForm(forms.Form):
    birth_date = forms.DateField(widget=DATE_INPUT)

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].label = TEXT[language]["birth_date"]


class QuestionnaireForm(forms.Form):
    """One instrument's questions, in the patient's language; every question must be answered."""

    def __init__(self, *args, code: str, language: str, **kwargs):
        super().__init__(*args, prefix=code.lower(), **kwargs)
        self.code, self.text = code, TEXT[language]
        self.instrument = INSTRUMENTS[code]
        wording = self.instrument.wording(language)
        self.title, self.question = wording.name, wording.question
        for number, question in enumerate(wording.items, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=f"{number}. {question}",
                choices=list(enumerate(wording.labels_for(number))),
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": self.text["missing"].format(number=number)},
            )
        for extra in self.instrument.extra_questions:  # unscored, e.g. the PHQ-9's difficulty question
            text, answers = extra.wording(language)
            self.fields[extra.field] = forms.TypedChoiceField(
                label=text,
                choices=list(enumerate(answers)),
                coerce=int,
                widget=forms.RadioSelect,
                required=False,
                empty_value=None,
            )

    def item_fields(self):
        return [self[name] for name in self.fields if name.startswith("item_")]

    def extra_fields(self):
        return [self[extra.field] for extra in self.instrument.extra_questions]

    def answers(self) -> Answers:
        items = [self.cleaned_data[name] for name in self.fields if name.startswith("item_")]
        extras = {extra.field: self.cleaned_data.get(extra.field) for extra in self.instrument.extra_questions}
        return Answers(self.code, items, **extras)

    def calls_for_crisis_help(self) -> bool:
        """The answers the instrument's safety rule calls for (PHQ-9 item 9 of 1 or more): the
        patient is shown the crisis line at once (docs/clinical-definitions.md#safety)."""
        return self.instrument.raises_safety_flag(self.answers().answers)
