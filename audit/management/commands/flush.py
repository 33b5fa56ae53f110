"""Django's flush, able to empty the append-only access log of a test database only.

Tests that commit (live server, Celery worker) end with a flush that deletes (SQLite) or
truncates (PostgreSQL) every table; the access log's triggers would refuse it. On any other
database flush runs unchanged, so the triggers refuse it there.
"""

from django.core.management.commands import flush
from django.db import connections

from audit import triggers


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if not _is_test_database(connection):
            return super().handle(**options)
        with connection.cursor() as cursor:
            triggers.remove(cursor, connection.vendor)
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                triggers.install(cursor, connection.vendor)


def _is_test_database(connection) -> bool:
    test_name = connection.settings_dict.get("TEST", {}).get("NAME")
    name = str(connection.settings_dict.get("NAME") or "")
    return bool(name) and (name == str(test_name or "") or name.startswith("test_") or "memory" in name)
