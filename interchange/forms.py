from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma

from interchange.importer import CONTACTS, MEASUREMENTS, PATIENTS, REVIEWS, count_rows

MAX_UPLOAD_MB = 50
FILE_FIELDS = {"patients": PATIENTS, "contacts": CONTACTS, "measurements": MEASUREMENTS, "reviews": REVIEWS}


class ImportForm(forms.Form):
    patients = forms.FileField(label=PATIENTS)
    contacts = forms.FileField(label=CONTACTS)
    measurements = forms.FileField(label=MEASUREMENTS)
    reviews = forms.FileField(label=REVIEWS, required=False, help_text="Optional: case reviews held already.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in FILE_FIELDS:
            self.fields[name].widget.attrs["accept"] = ".csv,text/csv"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's form carries the token
        self.helper.add_input(Submit("import", "Import"))

    def clean(self):
        data = super().clean()
        for name in FILE_FIELDS:
            upload = data.get(name)
            if upload is not None and upload.size > MAX_UPLOAD_MB * 1024 * 1024:
                self.add_error(name, f"This file is larger than {MAX_UPLOAD_MB} MB; import it with manage.py.")
        if self.errors:
            return data
        self._contents = {
            filename: data[name].read() for name, filename in FILE_FIELDS.items() if data.get(name) is not None
        }
        self.row_count = sum(count_rows(content) for content in self._contents.values())
        limit = settings.CAREREG_IMPORT_MAX_ROWS
        if self.row_count > limit:
            raise forms.ValidationError(
                f"The files hold {intcomma(self.row_count)} rows; an upload takes at most {intcomma(limit)}. "
                "Split them (each import adds only what is new, so the parts can follow one another) "
                "or import them with manage.py import_registry."
            )
        return data

    def contents(self) -> dict[str, bytes]:
        """Each file's bytes under the name the importer knows it by; an optional file left out is not there."""
        return self._contents
