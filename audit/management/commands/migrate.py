"""Django's migrate, logged in as the tables' owner when DATABASE_OWNER_URL is set.

The app's own role (DATABASE_URL) may not create or alter tables; the owner may. After the
migrations, audit.dbroles.apply_grants_after_migrate (post_migrate, still as the owner) grants
the app role its rows again and keeps the audit tables append-only
(docs/security.md#database-roles).
"""

from django.conf import settings
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections

from audit.dbroles import connected_as


class Command(migrate.Command):
    help = migrate.Command.help + " Connects as DATABASE_OWNER_URL's role when that is set."

    def handle(self, *args, **options):
        owner = settings.DATABASE_OWNER
        if owner is None or options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        if options["verbosity"] >= 1:
            self.stdout.write(f"Migrating as the tables' owner, role {owner['USER']} (DATABASE_OWNER_URL).")
        with connected_as(connections[DEFAULT_DB_ALIAS], owner):
            return super().handle(*args, **options)
