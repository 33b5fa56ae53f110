from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError

from interchange.importing import limits
from interchange.importing.columns import CONTACTS, MEASUREMENTS, PATIENTS, REVIEWS

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
        """The import limits (docs/data-formats.md#import-limits), the same as the command's:
        each file's size before it is read, then the rows of all the files together."""
        data = super().clean()
        for name in FILE_FIELDS:
            upload = data.get(name)
            if upload is not None:
                try:
                    limits.check_file_size(upload.size)
                except ValidationError as error:
                    self.add_error(name, error)
        if self.errors:
            return data
        self._contents = {
            filename: data[name].read() for name, filename in FILE_FIELDS.items() if data.get(name) is not None
        }
        self.row_count = limits.check_row_count(self._contents, what="an upload")
        return data

    def contents(self) -> dict[str, bytes]:
        """Each file's bytes under the name the importer knows it by; an optional file left out is not there."""
        return self._contents
