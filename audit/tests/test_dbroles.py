"""Least-privilege database roles: migrations run as the owner, the app's role reads and writes
rows and can neither alter the audit tables nor rewrite them (docs/security.md#database-roles).

The PostgreSQL tests set the roles up as an operator would, on a database of their own:
manage.py db_roles as a superuser, manage.py migrate with DATABASE_OWNER_URL, then log in as
the app's role and try everything a compromised app would.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from psycopg import errors

from audit.checks import app_role_cannot_rewrite_the_audit_log
from audit.dbroles import checked_role, grant_statements
from carereg.env import env_owner_credentials

ROOT = Path(__file__).resolve().parents[2]
REFUSED = errors.InsufficientPrivilege


def run(command: list[str], env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_OWNER_URL"}}
    return subprocess.run(command, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=timeout)


def manage(*args: str, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], env, timeout)


def script(name: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return run([str(ROOT / "scripts" / name), *args], env)


def url(role: str, database: str) -> str:
    server = settings.DATABASES["default"]
    host, port = server["HOST"] or "127.0.0.1", server["PORT"] or 5432
    password = f":{server['PASSWORD']}" if role == server["USER"] and server["PASSWORD"] else ""
    return f"postgresql://{role}{password}@{host}:{port}/{database}"


@pytest.fixture(scope="module")
def roles():
    """A database set up with the two roles and migrated as the owner; dropped afterwards."""
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.fail("PostgreSQL only: this fixture is used by tests marked postgresql")
    suffix = uuid.uuid4().hex[:8]
    names = {"database": f"carereg_roles_{suffix}", "owner": f"carereg_{suffix}_owner", "app": f"carereg_{suffix}_app"}
    superuser = settings.DATABASES["default"]["USER"]
    with psycopg.connect(url(superuser, "postgres"), autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{names["database"]}"')
    try:
        with psycopg.connect(url(superuser, names["database"]), autocommit=True) as db:
            # Left by a deployment that ran as one role: db_roles hands it to the owner.
            db.execute("CREATE TABLE legacy_notes (id serial PRIMARY KEY, body text)")
        as_superuser = {"DATABASE_URL": url(superuser, names["database"])}
        made = manage("db_roles", "--owner", names["owner"], "--app", names["app"], env=as_superuser)
        assert made.returncode == 0, made.stdout + made.stderr
        migrated = manage(
            "migrate",
            "--noinput",
            env={
                "DATABASE_URL": url(names["app"], names["database"]),
                "DATABASE_OWNER_URL": url(names["owner"], names["database"]),
            },
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        yield {**names, "migrate_output": migrated.stdout}
    finally:
        with psycopg.connect(url(superuser, "postgres"), autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{names["database"]}" WITH (FORCE)')
            server.execute(f"DROP ROLE IF EXISTS {names['app']}")
            server.execute(f"DROP ROLE IF EXISTS {names['owner']}")


def connect_as(roles: dict, role: str) -> psycopg.Connection:
    return psycopg.connect(url(roles[role], roles["database"]), autocommit=True)


def refused(db: psycopg.Connection, sql: str) -> bool:
    try:
        db.execute(sql)
    except REFUSED:
        return True
    return False


ACCESS_EVENT = (
    "INSERT INTO audit_accessevent (at, username, method, url_name, kind, outcome, status_code) "
    "VALUES (now(), 'cm', 'GET', 'registry:dashboard', 'list', 'allowed', 200)"
)


@pytest.mark.postgresql
def test_migrations_ran_as_the_owner_who_owns_every_table(roles):
    with connect_as(roles, "owner") as db:
        owners = dict(
            db.execute(
                "SELECT relname, pg_get_userbyid(relowner) FROM pg_class "
                "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
            ).fetchall()
        )

    assert f"role {roles['owner']}" in roles["migrate_output"]
    assert {"audit_accessevent", "fhirapi_apicalllog", "patients_patient", "legacy_notes"} <= set(owners)
    assert set(owners.values()) == {roles["owner"]}


@pytest.mark.postgresql
def test_the_app_role_cannot_alter_rewrite_or_empty_the_audit_tables(roles):
    with connect_as(roles, "app") as db:
        db.execute(ACCESS_EVENT)
        assert db.execute("SELECT count(*) FROM audit_accessevent").fetchone()[0] >= 1
        db.execute("SELECT count(*) FROM fhirapi_apicalllog")

        for table in ("audit_accessevent", "fhirapi_apicalllog"):
            assert refused(db, f"ALTER TABLE {table} DISABLE TRIGGER USER"), table
            assert refused(db, f"ALTER TABLE {table} DISABLE TRIGGER ALL"), table
            assert refused(db, f"UPDATE {table} SET status_code = 200"), table
            assert refused(db, f"DELETE FROM {table}"), table
            assert refused(db, f"TRUNCATE {table}"), table
            assert refused(db, f"DROP TABLE {table}"), table
        assert refused(db, "SET session_replication_role = replica")
        assert refused(db, "CREATE TABLE mine (id int)")
        assert db.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
        assert db.execute("SELECT count(*) FROM audit_accessevent").fetchone()[0] >= 1


@pytest.mark.postgresql
def test_the_app_role_runs_the_app(roles):
    env = {"DATABASE_URL": url(roles["app"], roles["database"]), "CELERY_BROKER_URL": ""}

    clinic = manage("create_clinic", "west", "--name", "West Side", env=env)
    seeded = manage("seed_demo", "--patients", "4", env=env)

    assert clinic.returncode == 0, clinic.stdout + clinic.stderr
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    with connect_as(roles, "app") as db:
        assert db.execute("SELECT count(*) FROM patients_patient").fetchone()[0] == 4
        assert db.execute("SELECT count(*) FROM patients_historicalpatient").fetchone()[0] >= 4
        db.execute("UPDATE accounts_clinic SET name = 'North Valley FM' WHERE code = 'west'")
        db.execute(ACCESS_EVENT)


@pytest.mark.postgresql
def test_tables_of_later_migrations_are_granted_and_every_migrate_makes_the_log_append_only_again(roles):
    with connect_as(roles, "owner") as db:
        db.execute("CREATE TABLE later_table (id serial PRIMARY KEY, note text)")
        db.execute(f"GRANT UPDATE, DELETE ON audit_accessevent TO {roles['app']}")  # a careless migration
    with connect_as(roles, "app") as db:
        db.execute("INSERT INTO later_table (note) VALUES ('x')")
        db.execute("UPDATE later_table SET note = 'y'")
        db.execute("DELETE FROM later_table")

    again = manage(
        "migrate",
        "--noinput",
        env={
            "DATABASE_URL": url(roles["app"], roles["database"]),
            "DATABASE_OWNER_URL": url(roles["owner"], roles["database"]),
        },
    )

    assert again.returncode == 0, again.stdout + again.stderr
    with connect_as(roles, "app") as db:
        db.execute(ACCESS_EVENT)
        assert refused(db, "UPDATE audit_accessevent SET username = 'x'")
        assert refused(db, "DELETE FROM audit_accessevent")


def deploy_check(database_url: str) -> subprocess.CompletedProcess:
    return manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "CAREREG_HTTPS": "true",
            "SECRET_KEY": "deploy-check-" + "k" * 50,
            "ALLOWED_HOSTS": "carereg.example.org",
        },
        timeout=120,
    )


@pytest.mark.postgresql
def test_the_deploy_check_passes_as_the_app_and_warns_as_the_owner(roles):
    as_app = deploy_check(url(roles["app"], roles["database"]))
    as_owner = deploy_check(url(roles["owner"], roles["database"]))

    assert "audit.W" not in as_app.stdout + as_app.stderr
    assert "audit.W002" in as_owner.stdout + as_owner.stderr
    assert as_owner.returncode != 0


@pytest.mark.postgresql
@pytest.mark.django_db
def test_the_deploy_check_warns_when_the_app_connects_as_a_superuser():
    (warning,) = app_role_cannot_rewrite_the_audit_log()

    assert warning.id == "audit.W001"
    assert connection.settings_dict["USER"] in warning.msg


@pytest.mark.django_db
def test_the_deploy_check_says_nothing_about_roles_on_sqlite():
    if connection.vendor == "sqlite":
        assert app_role_cannot_rewrite_the_audit_log() == []
    else:
        assert [w.id for w in app_role_cannot_rewrite_the_audit_log()] == ["audit.W001"]


def test_grants_keep_the_audit_tables_to_select_and_insert():
    statements = "\n".join(grant_statements(owner="carereg_owner", app="carereg_app"))

    for table in ("audit_accessevent", "fhirapi_apicalllog"):
        assert f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON public.{table} FROM carereg_app" in statements
        assert f"GRANT SELECT, INSERT ON public.{table} TO carereg_app" in statements
    assert "ALTER DEFAULT PRIVILEGES FOR ROLE carereg_owner" in statements


@pytest.mark.parametrize("name", ["", "Carereg", "app; DROP TABLE x", 'a"b', "x" * 64, "1app"])
def test_role_names_that_are_not_plain_identifiers_are_refused(name):
    with pytest.raises(ImproperlyConfigured):
        checked_role(name)


def test_the_owner_url_must_name_the_apps_database(monkeypatch):
    app = {"ENGINE": "django.db.backends.postgresql", "NAME": "carereg", "HOST": "db", "PORT": 5432, "USER": "app"}

    monkeypatch.setenv("DATABASE_OWNER_URL", "postgresql://owner:s3cret@db:5432/carereg")
    assert env_owner_credentials("DATABASE_OWNER_URL", app) == {"USER": "owner", "PASSWORD": "s3cret"}
    monkeypatch.setenv("DATABASE_OWNER_URL", "postgresql://owner@db:5432/other")
    with pytest.raises(ImproperlyConfigured, match="same database"):
        env_owner_credentials("DATABASE_OWNER_URL", app)
    monkeypatch.setenv("DATABASE_OWNER_URL", "sqlite:///x.sqlite3")
    with pytest.raises(ImproperlyConfigured, match="PostgreSQL"):
        env_owner_credentials("DATABASE_OWNER_URL", app)
    monkeypatch.delenv("DATABASE_OWNER_URL")
    assert env_owner_credentials("DATABASE_OWNER_URL", app) is None


@pytest.mark.postgresql
def test_a_backup_by_the_app_restored_by_the_owner_is_append_only_again_after_migrate(roles, tmp_path):
    as_app = {"DATABASE_URL": url(roles["app"], roles["database"])}
    as_owner = {"DATABASE_URL": url(roles["owner"], roles["database"])}
    with connect_as(roles, "app") as db:
        db.execute(ACCESS_EVENT)
        events = db.execute("SELECT count(*) FROM audit_accessevent").fetchone()[0]

    backup = script("backup.sh", env={**as_app, "BACKUP_DIR": str(tmp_path)})
    assert backup.returncode == 0, backup.stderr
    restore = script("restore.sh", backup.stdout.strip(), env={**as_owner, "CONFIRM": "yes"})
    assert restore.returncode == 0, restore.stderr
    migrated = manage("migrate", "--noinput", env={**as_app, "DATABASE_OWNER_URL": as_owner["DATABASE_URL"]})
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    with connect_as(roles, "app") as db:
        assert db.execute("SELECT count(*) FROM audit_accessevent").fetchone()[0] == events
        db.execute(ACCESS_EVENT)
        db.execute("UPDATE accounts_clinic SET timezone = timezone")
        assert refused(db, "UPDATE audit_accessevent SET username = 'x'")
        assert refused(db, "ALTER TABLE audit_accessevent DISABLE TRIGGER USER")
