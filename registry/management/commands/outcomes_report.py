import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Clinic
from carereg.lib import csv as csv_file
from patients.models import Episode
from registry.outcomes import CSV_HEADER, MEASURES, Period, csv_records, figure_rows, outcome_figures


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Print the outcome and program figures as CSV (docs/clinical-definitions.md#quality-measures): "
        "one row per clinic and care manager and measure, with numerator, denominator and rate "
        "(empty care_manager: the clinic's total). Measures: "
        + ", ".join(MEASURES)
        + ". The period defaults to the 12 months up to today."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", help="Clinic code (default: every clinic)")
        parser.add_argument("--from", dest="start", help="First day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="Last day, YYYY-MM-DD (default: today)")

    def handle(self, *args, clinic, start, end, **options):
        today = timezone.localdate()
        end_day = _date(end) if end else today
        start_day = _date(start) if start else end_day.replace(year=end_day.year - 1) + datetime.timedelta(days=1)
        if start_day > end_day:
            raise CommandError(f"--from {start_day} is after --to {end_day}.")
        clinics = Clinic.objects.order_by("code")
        if clinic:
            clinics = clinics.filter(code=clinic)
            if not clinics:
                raise CommandError(f"No clinic {clinic!r}.")
        episodes = Episode.objects.filter(patient__clinic__in=clinics)
        figures = outcome_figures(episodes, Period(start_day, end_day), today)
        writer = csv_file.Writer(self.stdout)
        writer.writerow(CSV_HEADER)
        writer.writerows(csv_records(figure_rows(figures, clinics)))
