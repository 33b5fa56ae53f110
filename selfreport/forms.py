from django import forms

from patients.forms import DATE_INPUT
from registry.scoring import INSTRUMENTS, PHQ9
from registry.services import Answers
from selfreport.models import SELF_REPORT_INSTRUMENTS, Language
from selfreport.wording import TEXT

INSTRUMENT_CHOICES = [(code, INSTRUMENTS[code].name) for code in SELF_REPORT_INSTRUMENTS]


class SendForm(forms.Form):
    """The care manager's: which questionnaires, in which language, to which address."""

    instruments = forms.MultipleChoiceField(
        choices=INSTRUMENT_CHOICES, widget=forms.CheckboxSelectMultiple, initial=["PHQ9"]
    )
    language = forms.ChoiceField(choices=Language.choices)
    email = forms.EmailField(label="E-mail address")
    every_days = forms.TypedChoiceField(
        label="Then send again",
        choices=[("", "Just this once"), (14, "Every 2 weeks"), (28, "Every 4 weeks")],
        coerce=int,
        empty_value=None,
        required=False,
    )


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
        self.title = self.text[f"{code}_name"]
        answers = list(enumerate(self.text["answers"]))
        for number, question in enumerate(self.text[code], start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=f"{number}. {question}",
                choices=answers,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": self.text["missing"].format(number=number)},
            )
        if code == PHQ9.code:
            self.fields["difficulty"] = forms.TypedChoiceField(
                label=self.text["difficulty"],
                choices=list(enumerate(self.text["difficulty_answers"])),
                coerce=int,
                widget=forms.RadioSelect,
                required=False,
                empty_value=None,
            )

    def item_fields(self):
        return [self[name] for name in self.fields if name.startswith("item_")]

    def answers(self) -> Answers:
        items = [self.cleaned_data[name] for name in self.fields if name.startswith("item_")]
        return Answers(self.code, items, self.cleaned_data.get("difficulty"))
