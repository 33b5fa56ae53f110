"""A bad environment stops the start with the name of the variable that is wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(**env: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter, as `manage.py` or gunicorn would."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "CELERY_BROKER_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://root@localhost/carereg"),
        ("DATABASE_URL", "postgresql://localhost:5432/"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//"),
        ("REDIS_URL", "localhost:6379"),
        ("SECURE_HSTS_SECONDS", "a year"),
        ("SESSION_COOKIE_AGE", "12h"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(variable, value):
    result = start(**{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_the_defaults_start_on_sqlite_with_the_embedded_broker_and_say_nothing_else():
    result = start(DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert result.stderr == ""  # no broker warning (kombu's "No hostname was supplied")


def test_serving_with_debug_off_refuses_the_development_secret_key():
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", "import carereg.wsgi"],
        cwd=ROOT,
        env={**clean, "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "carereg.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_deploy_check_passes_under_production_settings():
    result = subprocess.run(["scripts/check_deploy.sh"], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_fails_without_https_hardening():
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **clean,
            "DEBUG": "false",
            "CAREREG_HTTPS": "false",
            "SECRET_KEY": "k" * 30 + "abcdefghijklmnopqrstuvwxyz",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr + result.stdout
