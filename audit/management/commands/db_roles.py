"""Create the owner and app roles and their grants in the app's PostgreSQL database.

Run once, as a superuser (DATABASE_URL a superuser's URL for this one command), and again
whenever in doubt: every statement can be run twice. --print only shows the SQL, for a
database administrator who prefers to run it with psql. The roles are given no password here
(none is ever typed on a command line): set them with psql's \\password
(docs/security.md#database-roles).
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from audit.dbroles import current_role, setup_statements


class Command(BaseCommand):
    help = "Create the PostgreSQL owner and app roles of docs/security.md#database-roles and grant them."

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="Role that owns the tables and runs migrations.")
        parser.add_argument("--app", required=True, help="Role the web app and workers connect as.")
        parser.add_argument("--print", action="store_true", help="Print the SQL instead of running it.")

    def handle(self, *, owner, app, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL set-up: DATABASE_URL names no PostgreSQL database.")
        try:
            statements = setup_statements(database=connection.settings_dict["NAME"], owner=owner, app=app)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        if options["print"]:
            self.stdout.write(";\n\n".join(statements) + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cursor.fetchone()[0]:
                role = current_role(cursor)
                raise CommandError(f"Connected as {role}, not a superuser: run it with a superuser's DATABASE_URL.")
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            self.style.SUCCESS(
                f"Roles {owner} (owner, runs migrations) and {app} (the app) are set up in "
                f"{connection.settings_dict['NAME']}. Give each a password with psql's \\password."
            )
        )
