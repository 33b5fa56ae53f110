"""Least-privilege PostgreSQL roles: the tables' owner runs migrations, the app only reads and
writes rows, and the audit tables take from it nothing but SELECT and INSERT
(docs/security.md#database-roles).

The access log's triggers (audit/triggers.py) refuse UPDATE, DELETE and TRUNCATE, but a
table's owner may disable triggers, and a superuser may skip them all
(session_replication_role). So the role the web app and workers connect as must be neither:
then nothing it is made to run can rewrite the log.
"""

import re
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

# Append-only audit tables: rows are added, never changed or removed. The access log (its
# triggers refuse changes whoever asks) and the API call log (one row per call, written once).
# Not the import and export runs: an import's run is updated as it goes.
APPEND_ONLY_MODELS = ["audit.AccessEvent", "fhirapi.ApiCallLog"]

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SCHEMA = "public"
ROW_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def append_only_tables() -> list[str]:
    return [apps.get_model(label)._meta.db_table for label in APPEND_ONLY_MODELS]


def checked_role(name: str) -> str:
    """A role name safe to write into SQL as it is (lower case letters, digits, underscores)."""
    if not ROLE_NAME.match(name or ""):
        raise ImproperlyConfigured(
            f"{name!r} is not a role name CareReg sets up: lower-case letters, digits and underscores, "
            "starting with a letter or underscore, at most 63 characters."
        )
    return name


def grant_statements(*, owner: str, app: str) -> list[str]:
    """Run by the owner after every migration (and by db_roles): rows for the app, the audit
    tables append-only, and the same for tables that later migrations create."""
    owner, app = checked_role(owner), checked_role(app)
    return [
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {app}",
        f"GRANT {ROW_PRIVILEGES} ON ALL TABLES IN SCHEMA {SCHEMA} TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {app}",
        *[_append_only(table, app) for table in append_only_tables()],
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {SCHEMA} GRANT {ROW_PRIVILEGES} ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {SCHEMA} GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]


def _append_only(table: str, app: str) -> str:
    """SELECT and INSERT only, once the table exists (db_roles may run before the first migrate)."""
    return (
        f"DO $$ BEGIN IF to_regclass('{SCHEMA}.{table}') IS NOT NULL THEN "
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {SCHEMA}.{table} FROM {app}, PUBLIC; "
        f"GRANT SELECT, INSERT ON {SCHEMA}.{table} TO {app}; END IF; END $$"
    )


def _ensure_role(role: str) -> str:
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} LOGIN; END IF; END $$"
    )


def _take_ownership(owner: str) -> str:
    """Every table, view, free-standing sequence and function of the schema becomes the owner's
    (a deployment that ran as one role is converted; a sequence of a table follows its table)."""
    return f"""DO $$
DECLARE object record;
BEGIN
  FOR object IN
    SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
    WHERE c.relnamespace = '{SCHEMA}'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND pg_get_userbyid(c.relowner) <> '{owner}'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO {owner}', CASE WHEN object.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                   object.name);
  END LOOP;
  FOR object IN
    SELECT p.oid::regprocedure AS name FROM pg_proc p
    WHERE p.pronamespace = '{SCHEMA}'::regnamespace AND pg_get_userbyid(p.proowner) <> '{owner}'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO {owner}', object.name);
  END LOOP;
END $$"""


def setup_statements(*, database: str, owner: str, app: str) -> list[str]:
    """Run once by a superuser, in the app's database: both roles, the database and schema
    made the owner's, the app's access to them, then the grants."""
    owner, app = checked_role(owner), checked_role(app)
    if owner == app:
        raise ImproperlyConfigured("The owner and the app must be two roles.")
    limits = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    return [
        _ensure_role(owner),
        _ensure_role(app),
        f"ALTER ROLE {owner} {limits}",
        f"ALTER ROLE {app} {limits} NOINHERIT",
        f"REVOKE {owner} FROM {app}",  # a member of the owner role could act as the owner
        f'ALTER DATABASE "{database}" OWNER TO {owner}',
        f"REVOKE CREATE ON SCHEMA {SCHEMA} FROM PUBLIC",
        f"ALTER SCHEMA {SCHEMA} OWNER TO {owner}",
        f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {app}',
        _take_ownership(owner),
        *grant_statements(owner=owner, app=app),
    ]


def current_role(cursor) -> str:
    cursor.execute("SELECT current_user")
    return cursor.fetchone()[0]


def apply_grants_after_migrate(using: str, **kwargs) -> None:
    """post_migrate: when migrations ran as the owner (DATABASE_OWNER_URL), grant the app role
    (DATABASE_URL's user) its rows again, new tables included, and keep the audit tables
    append-only. With one role for everything there is no one to grant (check --deploy warns)."""
    connection = connections[using]
    app = settings.DATABASES[using].get("USER")
    if connection.vendor != "postgresql" or not app:
        return
    with connection.cursor() as cursor:
        owner = current_role(cursor)
        if owner == app:
            return
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app])
        if cursor.fetchone() is None:
            raise ImproperlyConfigured(
                f"The app's role {app!r} (DATABASE_URL's user) does not exist: create the roles with "
                "manage.py db_roles first (docs/security.md#database-roles)."
            )
        for statement in grant_statements(owner=owner, app=app):
            cursor.execute(statement)


@contextmanager
def connected_as(connection, credentials: dict):
    """The connection logs in with other credentials (USER, PASSWORD) inside the block, to the
    same database; the settings are left as they were."""
    app_settings = connection.settings_dict
    connection.close()
    connection.settings_dict = {**app_settings, **credentials}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = app_settings
