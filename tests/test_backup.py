"""make backup / make restore (scripts/backup.sh, scripts/restore.sh): a backup restored into a
fresh database holds every patient, every history row, every row of every table."""

import os
import subprocess
import uuid

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone

from patients import services as patient_services
from tests.factories import record_contact, record_score

SCRIPTS = settings.BASE_DIR / "scripts"


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return subprocess.run(
        [str(SCRIPTS / script), *args], env={**environment, **env}, capture_output=True, text=True, timeout=120
    )


def url_of(params: dict) -> str:
    auth = params["user"] + (f":{params['password']}" if params.get("password") else "")
    return f"postgresql://{auth}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{params['dbname']}"


def rows_per_table(params: dict) -> dict[str, int]:
    with psycopg.connect(**params) as db:
        tables = [row[0] for row in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {table: db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def test_backup_refuses_a_database_that_is_not_postgresql_with_a_clear_message(tmp_path):
    result = run("backup.sh", DATABASE_URL="sqlite:///db.sqlite3", BACKUP_DIR=str(tmp_path))

    assert result.returncode == 2
    assert "DATABASE_URL must name a PostgreSQL database" in result.stderr
    assert "sqlite" not in result.stderr  # the URL, which may hold a password, is not echoed
    assert list(tmp_path.iterdir()) == []


def test_restore_asks_for_confirmation(tmp_path):
    backup = tmp_path / "carereg-20260101-000000.dump"
    backup.write_bytes(b"not used")

    result = run("restore.sh", str(backup), DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")

    assert result.returncode == 3
    assert "CONFIRM=yes" in result.stderr


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_backup_restored_into_a_fresh_database_holds_every_patient_and_history_row(
    tmp_path, clinic, care_manager, postgresql_params
):
    today = timezone.localdate()
    for n in range(3):
        patient = patient_services.enroll_patient(
            clinic=clinic,
            enrolled_on=today,
            by=care_manager,
            mrn=f"B-{n}",
            first_name="Ana",
            last_name=f"Lima {n}",
            birth_date="1980-01-01",
            sex="female",
            care_manager=care_manager,
        )
        patient_services.update_patient(patient=patient, by=care_manager, phone=f"555-010{n}")
        episode = patient.episodes.get()
        record_contact(episode, today, care_manager)
        record_score(episode, "PHQ9", 12 + n, today, care_manager)
    source = rows_per_table(postgresql_params)
    fresh = {**postgresql_params, "dbname": f"carereg_restore_{uuid.uuid4().hex[:10]}"}

    backup = run("backup.sh", DATABASE_URL=url_of(postgresql_params), BACKUP_DIR=str(tmp_path))
    assert backup.returncode == 0, backup.stderr
    dump = backup.stdout.strip()
    assert dump.startswith(str(tmp_path / "carereg-")) and dump.endswith(".dump")
    with psycopg.connect(**{**postgresql_params, "dbname": "postgres"}, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{fresh["dbname"]}"')
    try:
        restore = run("restore.sh", dump, DATABASE_URL=url_of(fresh), CONFIRM="yes")
        assert restore.returncode == 0, restore.stderr
        restored = rows_per_table(fresh)
    finally:
        with psycopg.connect(**{**postgresql_params, "dbname": "postgres"}, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh["dbname"]}"')

    assert restored == source
    assert restored["patients_patient"] == 3
    assert restored["patients_historicalpatient"] == 6  # created, then the phone changed
    assert restored["registry_historicalcontact"] == source["registry_historicalcontact"] > 0
