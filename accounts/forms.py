from django import forms

from accounts.mfa import TOTP_SHAPE, normalize


class CodeForm(forms.Form):
    """A code from the authenticator app (six digits) or a backup code (eight characters)."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The six-digit code your authenticator app shows now, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        code = normalize(self.cleaned_data["code"])
        if not (TOTP_SHAPE.match(code) or (len(code) == 8 and code.isalnum())):
            raise forms.ValidationError("Enter the six digits from your app, or an eight-character backup code.")
        return code


class AppCodeForm(forms.Form):
    """A code from the authenticator app only: where the phone itself must be at hand."""

    code = forms.CharField(
        label="Code from your app",
        max_length=10,
        help_text="The six digits your authenticator app shows now.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        code = normalize(self.cleaned_data["code"])
        if not TOTP_SHAPE.match(code):
            raise forms.ValidationError("Enter the six digits your app shows.")
        return code


class EnrollForm(AppCodeForm):
    """The first code of a newly added app, on the set-up page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = "After adding CareReg to your app, type the six-digit code it shows."
        self.fields["code"].widget.attrs["autofocus"] = True
