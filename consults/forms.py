from django import forms
from django.utils import timezone

from accounts.models import Role, User
from patients.forms import DATE_INPUT


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
    episode = forms.ModelChoiceField(label="Patient", queryset=None)
    note = forms.CharField(label="Question for the consultant", max_length=300, required=False)

    def __init__(self, *args, episodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["episode"].queryset = episodes
        self.fields["episode"].label_from_instance = lambda e: (
            f"{e.patient.last_name}, {e.patient.first_name} ({e.patient.mrn})"
        )


class QuestionForm(forms.Form):
    note = forms.CharField(label="Question for the consultant", max_length=300, required=False)
