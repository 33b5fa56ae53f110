"""The access log is append-only in the database itself: triggers refuse UPDATE, DELETE and
(PostgreSQL) TRUNCATE of audit_accessevent. The SQL is in audit/triggers.py.

On SQLite a later migration that remakes this table (altering one of its fields) drops the
triggers with it: such a migration must install them again.
"""

from django.db import migrations

from audit import triggers


def install(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        triggers.install(cursor, schema_editor.connection.vendor)


def remove(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        triggers.remove(cursor, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
