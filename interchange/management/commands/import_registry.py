from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from interchange.importer import import_registry
from interchange.importing import limits
from interchange.importing.columns import FILES
from interchange.models import ImportRun


class Command(BaseCommand):
    help = (
        "Import patients.csv, contacts.csv and measurements.csv (and reviews.csv when there is one) from DIR, "
        "all or nothing, as the user --by names (into that user's clinics). Running it again creates nothing twice. "
        "The upload page's limits apply: 50 MB a file, CAREREG_IMPORT_MAX_ROWS rows in all."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "directory", help="Folder holding patients.csv, contacts.csv, measurements.csv and optionally reviews.csv"
        )
        parser.add_argument("--by", required=True, help="Username of the person importing: the actor in history")

    def handle(self, *args, directory, by, **options):
        user = User.objects.filter(username=by, is_active=True).first()
        if user is None:
            raise CommandError(f"No active account {by!r}.")
        folder = Path(directory)
        if not folder.is_dir():
            raise CommandError(f"{directory} is not a folder.")
        paths = {name: folder / name for name in FILES if (folder / name).is_file()}
        try:
            for name, path in paths.items():
                try:
                    limits.check_file_size(path.stat().st_size)
                except ValidationError as error:
                    raise ValidationError(f"{name}: {error.messages[0]}") from None
            files = {name: path.read_bytes() for name, path in paths.items()}
            limits.check_row_count(files)
        except ValidationError as error:
            raise CommandError(f"Nothing was imported: {error.messages[0]}") from None
        result = import_registry(files=files, by=user, how=ImportRun.How.COMMAND)
        if not result.succeeded:
            for message in result.errors:
                self.stderr.write(message)
            raise CommandError(result.summary()[0])
        for line in result.summary():
            self.stdout.write(line)
        self.stdout.write(f"Imported in {result.seconds:.1f} s.")
