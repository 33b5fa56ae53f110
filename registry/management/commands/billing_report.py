import datetime

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Clinic
from carereg.lib import csv as csv_file
from patients.models import Episode
from registry.billing import CSV_COLUMNS, billing_rows, csv_values


def parse_month(text: str) -> datetime.date:
    """'2026-11' -> 2026-11-01; anything else is a CommandError that says what is expected."""
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except (TypeError, ValueError):
        raise CommandError(f"--month must be a month as YYYY-MM (e.g. 2026-11), not {text!r}.") from None


class Command(BaseCommand):
    help = (
        "CoCM billing report for a calendar month as CSV (mrn,clinic,care_manager,episode_month,minutes,codes): "
        "one row per episode open at any time in the month, billable or not."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="The calendar month, YYYY-MM")
        parser.add_argument("--clinic", help="Clinic code (default: every clinic)")

    def handle(self, *args, month, clinic, **options):
        first_day = parse_month(month)
        episodes = Episode.objects.all()
        if clinic:
            chosen = Clinic.objects.filter(code=clinic).first()
            if chosen is None:
                raise CommandError(f"No clinic with the code {clinic!r}.")
            episodes = episodes.filter(patient__clinic=chosen)
        writer = csv_file.Writer(self.stdout)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(map(csv_values, billing_rows(episodes, first_day)))
