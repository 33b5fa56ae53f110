"""Deploy-time checks (`manage.py check --deploy`) that keep PHI and link tokens out of logs."""

from django.conf import settings
from django.core.checks import Error, Tags, register

# E-mail backends that never deliver: what they do with a message instead. A self-report
# e-mail holds a live link (its token answers as the patient); a console backend prints it
# into the server's log.
LOCAL_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "prints every message, links and addresses, to the log",
    "django.core.mail.backends.filebased.EmailBackend": "writes every message, links and addresses, to files",
    "django.core.mail.backends.locmem.EmailBackend": "keeps every message in memory and sends none",
}


@register(Tags.security, deploy=True)
def check_email_backend(app_configs, **kwargs) -> list[Error]:
    """With DEBUG off, mail must be sent, not printed (docs/access-log.md#e-mail)."""
    what = LOCAL_EMAIL_BACKENDS.get(settings.EMAIL_BACKEND)
    if settings.DEBUG or what is None:
        return []
    return [
        Error(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}, which {what}.",
            hint="Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST (EMAIL_PORT, "
            "EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS as the mail server needs).",
            id="audit.E001",
        )
    ]
