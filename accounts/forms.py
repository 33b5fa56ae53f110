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


class EnrollForm(forms.Form):
    code = forms.CharField(
        label="Code from your app",
        max_length=10,
        help_text="After adding CareReg to your app, type the six-digit code it shows.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        code = normalize(self.cleaned_data["code"])
        if not TOTP_SHAPE.match(code):
            raise forms.ValidationError("Enter the six digits your app shows.")
        return code
