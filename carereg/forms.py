from django.core.exceptions import ValidationError
from django.forms import Form


def show_errors_on_form(form: Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
