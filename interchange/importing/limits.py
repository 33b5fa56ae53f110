"""How much one import may hold (docs/data-formats.md#import-limits): the same caps for the
upload page and `manage.py import_registry`, checked here and nowhere else. A file's size is
checked before it is read, the rows before any row is checked."""

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError

from interchange.importing.columns import count_rows

MAX_FILE_MB = 50
SPLIT = "each import adds only what is new, so the parts can follow one another"


def check_file_size(size: int) -> None:
    """Refuse a file larger than MAX_FILE_MB."""
    if size > MAX_FILE_MB * 1024 * 1024:
        raise ValidationError(f"This file is larger than {MAX_FILE_MB} MB: split it ({SPLIT}).", code="too_large")


def check_row_count(files: Mapping[str, bytes], *, what: str = "an import") -> int:
    """The files' data rows, all files together, or a refusal above CAREREG_IMPORT_MAX_ROWS.

    what: how the message names the import ("an upload" on the page)."""
    rows = sum(count_rows(data) for data in files.values())
    limit = settings.CAREREG_IMPORT_MAX_ROWS
    if rows > limit:
        raise ValidationError(
            f"The files hold {rows:,} rows; {what} takes at most {limit:,}. "
            f"Split them ({SPLIT}, patients before the contacts and scores that belong to them).",
            code="too_many_rows",
        )
    return rows
