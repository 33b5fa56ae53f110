import getpass

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Clinic, User
from carereg.lib import csv as csv_file
from interchange import exporter
from interchange.models import ExportRun
from patients.models import Episode


def _system_user() -> str:
    try:
        return f"system user {getpass.getuser()}"
    except (KeyError, OSError):
        return "system user"


class Command(BaseCommand):
    help = (
        "Write the registry as CSV, one row per open episode with the registry columns. --by limits it "
        "to that user's clinics; --clinic to one clinic. Every export is recorded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", help="Clinic code")
        parser.add_argument("--out", help="File to write (default: standard output)")
        parser.add_argument("--by", help="Username of the person exporting; limits the export to their clinics")

    def handle(self, *args, clinic, out, by, **options):
        user, episodes, clinics = None, Episode.objects.all(), Clinic.objects.all()
        if by:
            user = User.objects.filter(username=by, is_active=True).first()
            if user is None:
                raise CommandError(f"No active account {by!r}.")
            episodes, clinics = Episode.objects.visible_to(user), user.visible_clinics()
        if clinic:
            chosen = clinics.filter(code=clinic).first()
            if chosen is None:
                raise CommandError(f"No clinic {clinic!r}" + (f" among {by}'s clinics." if by else "."))
            episodes, clinics = episodes.filter(patient__clinic=chosen), Clinic.objects.filter(pk=chosen.pk)
        today = exporter.today_in(clinics)
        count = episodes.open().count()
        exporter.record_export(
            by_username=user.username if user else _system_user(),
            how=ExportRun.How.COMMAND,
            clinics=clinics,
            filters={"clinic": clinic or ""},
            patient_count=count,
        )
        lines = csv_file.lines(exporter.export_rows(episodes, today))
        if out:
            with open(out, "w", encoding="utf-8", newline="") as file:
                file.writelines(lines)
            self.stderr.write(f"Wrote {count} patients to {out}.")
        else:
            for line in lines:
                self.stdout.write(line, ending="")
