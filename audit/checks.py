"""Deploy-time checks (`manage.py check --deploy`) that keep the audit trail honest:

- the app must not connect to PostgreSQL as a role that could rewrite the audit log (a
  superuser, or the audit tables' owner), nor hold more than SELECT and INSERT on them
  (docs/security.md#database-roles); on SQLite there are no roles: nothing to say;
- mail must be sent, not printed, so that PHI and link tokens stay out of logs
  (docs/access-log.md#e-mail)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from audit.dbroles import append_only_tables

HINT = (
    "Create an owner and an app role (manage.py db_roles), run migrations as the owner "
    "(DATABASE_OWNER_URL) and connect the app as the other (DATABASE_URL): docs/security.md#database-roles."
)

ROLE_SQL = "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
TABLES_SQL = """
SELECT c.relname,
       pg_has_role(current_user, c.relowner, 'MEMBER'),
       has_table_privilege(c.oid, 'UPDATE') OR has_table_privilege(c.oid, 'DELETE')
           OR has_table_privilege(c.oid, 'TRUNCATE')
FROM pg_class c WHERE c.oid = ANY(ARRAY(SELECT to_regclass(name) FROM unnest(%s::text[]) AS name))
ORDER BY c.relname
"""


@register(Tags.security, deploy=True)
def app_role_cannot_rewrite_the_audit_log(app_configs=None, **kwargs):
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute(ROLE_SQL)
            role, is_superuser = cursor.fetchone()
            cursor.execute(TABLES_SQL, [append_only_tables()])
            tables = cursor.fetchall()
    except DatabaseError as error:
        return [Warning(f"Could not check the database roles: {type(error).__name__}.", hint=HINT, id="audit.W004")]
    if is_superuser:
        return [
            Warning(
                f"The app connects to PostgreSQL as the superuser {role}: it could switch off the access "
                "log's triggers (session_replication_role) and rewrite the log.",
                hint=HINT,
                id="audit.W001",
            )
        ]
    owned = [name for name, owns, _ in tables if owns]
    if owned:
        return [
            Warning(
                f"The app connects as {role}, which owns (or may act as the owner of) {', '.join(owned)}: "
                "it could disable the triggers (ALTER TABLE ... DISABLE TRIGGER) and rewrite the log.",
                hint=HINT,
                id="audit.W002",
            )
        ]
    rewritable = [name for name, _, may_rewrite in tables if may_rewrite]
    if rewritable:
        return [
            Warning(
                f"The app's role {role} may UPDATE, DELETE or TRUNCATE {', '.join(rewritable)}, which are append-only.",
                hint="Run manage.py migrate as the owner (DATABASE_OWNER_URL): it grants the app SELECT and "
                "INSERT only there. docs/security.md#database-roles.",
                id="audit.W003",
            )
        ]
    return []


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
