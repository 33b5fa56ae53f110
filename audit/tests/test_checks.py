"""check --deploy refuses an e-mail backend that prints or keeps mail: a self-report e-mail holds
a live link, and the console backend would print it (and the patient's address) into the log."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit.checks import check_email_backend

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = "django.core.mail.backends.console.EmailBackend"


@pytest.mark.parametrize(
    "backend",
    [CONSOLE, "django.core.mail.backends.filebased.EmailBackend", "django.core.mail.backends.locmem.EmailBackend"],
)
def test_a_backend_that_does_not_send_is_an_error_with_debug_off(settings, backend):
    settings.DEBUG, settings.EMAIL_BACKEND = False, backend

    (error,) = check_email_backend(None)

    assert (error.id, error.level) == ("audit.E001", 40)
    assert backend in error.msg


def test_smtp_passes_and_development_may_print(settings):
    settings.DEBUG, settings.EMAIL_BACKEND = False, "django.core.mail.backends.smtp.EmailBackend"
    assert check_email_backend(None) == []

    settings.DEBUG, settings.EMAIL_BACKEND = True, CONSOLE
    assert check_email_backend(None) == []


@pytest.mark.parametrize("backend", [CONSOLE, None])  # None: the default when EMAIL_BACKEND is unset
def test_check_deploy_fails_under_production_settings_with_the_console_backend(backend):
    env = {
        k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "EMAIL_BACKEND", "DATABASE_URL"}
    }
    env |= {"DEBUG": "false", "CAREREG_HTTPS": "true", "SECRET_KEY": "k" * 30 + "abcdefghijklmnopqrstuvwxyz"}
    env |= {"ALLOWED_HOSTS": "carereg.example.org"} | ({"EMAIL_BACKEND": backend} if backend else {})

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "audit.E001" in result.stderr
