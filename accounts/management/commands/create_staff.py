import getpass
import os
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Clinic, Role
from accounts.provisioning import ensure_staff


def _fte(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise CommandError(f"--fte must be a number such as 0.8, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Create a staff account in a clinic, or add the clinic and update the role of an existing "
        "one (safe to run again). The password comes from CAREREG_PASSWORD or a prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--clinic", required=True, help="Clinic code")
        parser.add_argument("--fte", type=_fte, help="Care managers: 1.0 is full time")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, clinic, fte, first_name, last_name, email, **options):
        try:
            clinic_obj = Clinic.objects.get(code=clinic)
        except Clinic.DoesNotExist:
            raise CommandError(f"No clinic with code {clinic!r}; create it with create_clinic first.") from None
        password = os.environ.get("CAREREG_PASSWORD")
        if password is None and options.get("interactive", True) and os.isatty(0):
            password = getpass.getpass(f"Password for {username} (empty keeps an existing one): ") or None
        try:
            user, created = ensure_staff(
                username=username,
                role=role,
                clinic=clinic_obj,
                password=password,
                fte=fte,
                first_name=first_name,
                last_name=last_name,
                email=email,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {user.username} ({user.get_role_display()}) at {clinic_obj.code}")
