"""The account history stops keeping password hashes and login times.

The values are blanked before the columns go: on PostgreSQL a dropped column's values stay in
every row on disk until the row is rewritten, whereas an UPDATE leaves only dead row versions,
which (auto)vacuum reclaims. docs/security.md#account-history says what else to do (VACUUM FULL,
old backups).
"""

from django.db import migrations


def blank_hashes(apps, schema_editor):
    history = apps.get_model("accounts", "HistoricalUser")
    history.objects.using(schema_editor.connection.alias).update(password="", last_login=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_sessions_valid_after")]

    operations = [
        migrations.RunPython(blank_hashes, migrations.RunPython.noop),
        migrations.RemoveField(model_name="historicaluser", name="last_login"),
        migrations.RemoveField(model_name="historicaluser", name="password"),
    ]
