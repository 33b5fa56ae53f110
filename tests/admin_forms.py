"""What a browser would post back from a Django admin form it was shown, unchanged: the tests
post it as someone else (or after changing one field) to prove what the server refuses."""

from django import forms


def posted_values(form: forms.BaseForm) -> dict:
    """The form's current values as POST data, widget by widget (split date and time, checkboxes,
    multiple choices); disabled fields are left out, as a browser leaves them out."""
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        bound = form[name]
        value = bound.value()
        widget = field.widget
        if isinstance(widget, forms.MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{bound.html_name}_{index}"] = "" if part is None else str(part)
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        else:
            data[bound.html_name] = "" if value is None else str(value)
    return data
