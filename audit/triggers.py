"""The database refuses to change or delete an access event, whatever the application asks.

Migration 0002 installs these triggers. The message names the table so the error says why.
A change to them must come as a new migration; the flush command (audit/management/
commands/flush.py) lifts them around a test database's flush only.
"""

TABLE = "audit_accessevent"
MESSAGE = "audit_accessevent is append-only: access events cannot be changed or deleted"

POSTGRESQL_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION audit_accessevent_refuse() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE TRIGGER audit_accessevent_no_update_or_delete
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_accessevent_refuse()
    """,
    f"""
    CREATE TRIGGER audit_accessevent_no_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_accessevent_refuse()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS audit_accessevent_no_truncate ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_accessevent_no_update_or_delete ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_accessevent_refuse()",
]

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER audit_accessevent_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER audit_accessevent_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_accessevent_no_update",
    "DROP TRIGGER IF EXISTS audit_accessevent_no_delete",
]

CREATE = {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}
DROP = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}


def install(cursor, vendor: str) -> None:
    for statement in CREATE.get(vendor, []):
        cursor.execute(statement)


def remove(cursor, vendor: str) -> None:
    for statement in DROP.get(vendor, []):
        cursor.execute(statement)
