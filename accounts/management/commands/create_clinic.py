from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.provisioning import ensure_clinic, set_up_clinic


class Command(BaseCommand):
    help = "Create a clinic, or update its name if the code exists already (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("code", help="Short code, e.g. north")
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", help="IANA time zone, e.g. America/Chicago")

    def handle(self, *args, code, name, timezone, **options):
        try:
            clinic, created = ensure_clinic(code=code, name=name, timezone=timezone)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"{'Created' if created else 'Updated'} clinic {clinic.code}: {clinic.name}")
        for line in set_up_clinic(clinic):  # e.g. the care app's starter handouts for a new library
            self.stdout.write(line)
