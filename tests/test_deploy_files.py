"""The deployment's files say what the code does: every setting the code reads is in the
environment file template, with its meaning, and the units run what the repository ships."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "deploy" / "carereg.env.example"


def settings_read_from_the_environment() -> set[str]:
    settings = (REPO / "carereg" / "settings.py").read_text()
    gunicorn = (REPO / "deploy" / "gunicorn.conf.py").read_text()
    return set(re.findall(r'env_\w+\(\s*"([A-Z][A-Z0-9_]+)"', settings)) | set(
        re.findall(r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"', gunicorn)
    )


def test_every_setting_read_from_the_environment_is_in_the_template_with_its_meaning():
    lines = TEMPLATE.read_text().splitlines()
    listed = {}
    for number, line in enumerate(lines):
        found = re.match(r"#?([A-Z][A-Z0-9_]+)=", line)
        if found:
            listed[found.group(1)] = number
    read = settings_read_from_the_environment()

    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "TRUSTED_PROXIES"} <= read
    assert read - set(listed) == set(), "add these to deploy/carereg.env.example, with what they mean"
    for name in read:  # a comment above each setting, or above the group of settings it is in
        above = listed[name] - 1
        while re.match(r"#?[A-Z][A-Z0-9_]+=", lines[above]):
            above -= 1
        assert lines[above].startswith("# "), name


def test_the_units_run_the_shipped_gunicorn_settings_and_the_celery_app():
    units = REPO / "deploy" / "systemd"
    web = (units / "carereg-web@.service").read_text()

    assert "--config /srv/carereg/deploy/gunicorn.conf.py --bind 127.0.0.1:%i" in web
    assert "EnvironmentFile=/etc/carereg/carereg.env" in web
    assert "celery -A carereg worker" in (units / "carereg-worker.service").read_text()
    assert "celery -A carereg beat" in (units / "carereg-beat.service").read_text()
    nginx = (REPO / "deploy" / "nginx" / "carereg.conf").read_text()
    assert "server 127.0.0.1:8001" in nginx and "server 127.0.0.1:8002" in nginx
    assert "non_idempotent" not in nginx.replace('no "non_idempotent"', "")


def test_every_unit_under_a_read_only_system_can_write_the_folders_the_template_puts_under_var_lib():
    """ProtectSystem=strict makes /var read-only: the import uploads, bulk-export files and the
    file cache the environment template puts under /var/lib/carereg need the unit's StateDirectory."""
    template = TEMPLATE.read_text()
    assert "=/var/lib/carereg/imports" in template and "=/var/lib/carereg/bulk-export" in template
    for unit in (REPO / "deploy" / "systemd").glob("*.service"):
        text = unit.read_text()
        if "ProtectSystem=strict" in text:
            assert "StateDirectory=carereg\n" in text, unit.name
