import time

from django.core.management.base import BaseCommand, CommandError

from accounts.mfa import ensure_demo_devices
from accounts.models import User
from patients.models import Patient
from registry.demo import CLINICS, DEMO_PASSWORD, STAFF, seed_demo


class Command(BaseCommand):
    help = (
        "Load a synthetic demo registry (no real people): two clinics, their staff, and patients "
        "whose scores improve, stall and relapse. Does nothing if the demo clinics already have "
        "patients, unless --add is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=240)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--add", action="store_true", help="Add patients even if the demo is loaded already.")

    def handle(self, *args, patients, seed, add, **options):
        if patients < 0:
            raise CommandError("--patients must be 0 or more.")
        codes = [code for code, _, _ in CLINICS]
        existing = Patient.objects.filter(clinic__code__in=codes).count()
        if existing and not add:
            self.stdout.write(f"The demo is loaded already ({existing} patients); --add to add more.")
        else:
            started = time.perf_counter()
            rows = seed_demo(patients=patients, seed=seed)
            self.stdout.write(
                f"Seeded {len(rows.patients)} patients, {len(rows.episodes)} episodes, {len(rows.contacts)} contacts, "
                f"{len(rows.measurements)} scores in {time.perf_counter() - started:.1f} s."
            )
        self._print_logins()

    def _print_logins(self) -> None:
        ensure_demo_devices(["admin", *(row[0] for row in STAFF)])
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write(f"  {'admin':10} superuser (Django admin at /admin/)")
        for username, first, last, role, clinics, _ in STAFF:
            label = User(role=role).get_role_display()
            self.stdout.write(f"  {username:10} {first} {last}, {label}, {', '.join(clinics)}")
        self.stdout.write(
            "\nAfter the password CareReg asks for a code from an authenticator app. The demo accounts'\n"
            "authenticators come from a published demo seed: with DEBUG on (as `make run` sets it) the\n"
            "code page shows the current code; or get it with\n"
            "  DEBUG=true .venv/bin/python manage.py demo_code maria\n"
            "(both refuse with DEBUG off, and for any account that is not a demo account)."
        )
