"""The import's files and columns (docs/data-formats.md#files-carereg-reads-the-registry-import),
and reading a file into its rows as text: header, encoding, CSV. Pure: no database."""

import csv
import io
from dataclasses import dataclass

PATIENTS, CONTACTS, MEASUREMENTS, REVIEWS = "patients.csv", "contacts.csv", "measurements.csv", "reviews.csv"
FILES = (PATIENTS, CONTACTS, MEASUREMENTS, REVIEWS)
OPTIONAL_FILES = (REVIEWS,)  # left out: the import is as it was without it; given: checked like the others
COLUMNS = {
    PATIENTS: (
        "mrn",
        "clinic",
        "first_name",
        "last_name",
        "birth_date",
        "sex",
        "care_manager",
        "psychiatric_consultant",
        "pcp",
        "enrolled_on",
        "status",
        "discharged_on",
        "discharge_reason",
    ),
    CONTACTS: (
        "mrn",
        "clinic",
        "date",
        "kind",
        "mode",
        "reached",
        "minutes",
        "interventions",
        "next_contact_on",
        "note",
    ),
    MEASUREMENTS: ("mrn", "clinic", "date", "instrument", "items", "total"),
    REVIEWS: ("mrn", "clinic", "date", "consultant", "note"),
}

Rows = list[tuple[int, dict[str, str]]]  # (physical line, {column: stripped text})


@dataclass(frozen=True)
class RowError:
    file: str
    line: int | None  # physical line in the file, the header being line 1; None: the file itself
    column: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.column}: {self.message}"

    def sort_key(self) -> tuple:
        columns = COLUMNS.get(self.file, ())
        column = columns.index(self.column) if self.column in columns else -1
        return (FILES.index(self.file) if self.file in FILES else len(FILES), self.line or 0, column)


def read_csv(name: str, data: bytes | str | None) -> tuple[Rows, list[RowError]]:
    """The data rows of one file as (physical line, {column: stripped text}), or what is wrong."""
    if data is None:
        return [], [RowError(name, None, "file", "missing")]
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            return [], [RowError(name, line, "file", "not UTF-8 text")]
    else:
        text = data
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    expected = COLUMNS[name]
    rows, errors, header, previous = [], [], None, 0
    try:
        for record in reader:
            line, previous = previous + 1, reader.line_num  # a quoted value may span lines: where it began
            if header is None:
                header = [cell.strip().lower() for cell in record]
                errors += _header_problems(name, header)
                if errors:
                    return [], errors
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                errors.append(RowError(name, line, "row", f"expected {len(header)} values, found {len(record)}"))
                continue
            rows.append((line, {column: cell.strip() for column, cell in zip(header, record, strict=True)}))
    except csv.Error as error:
        errors.append(RowError(name, reader.line_num, "row", f"cannot be read as CSV ({error})"))
    if header is None:
        errors.append(
            RowError(name, 1, "header", f"the file is empty; the first line names the columns: {','.join(expected)}")
        )
    return rows, errors


def _header_problems(name: str, header: list[str]) -> list[RowError]:
    expected = COLUMNS[name]
    problems = []
    repeated = sorted({column for column in header if header.count(column) > 1})
    missing = [column for column in expected if column not in header]
    extra = [column or "(empty)" for column in dict.fromkeys(header) if column not in expected]
    if repeated:
        problems.append(RowError(name, 1, "header", f"repeated column(s): {', '.join(repeated)}"))
    if missing:
        problems.append(RowError(name, 1, "header", f"missing column(s): {', '.join(missing)}"))
    if extra:
        problems.append(RowError(name, 1, "header", f"unexpected column(s): {', '.join(extra)}"))
    return problems


def count_rows(data: bytes) -> int:
    """The data rows of a file as read_csv reads them (the header and blank lines aside).

    For the import limits, before anything is checked; a file that is not UTF-8 CSV counts its
    lines, and the import then says what is wrong with it.
    """
    try:
        records = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        return max(sum(1 for record in records if any(cell.strip() for cell in record)) - 1, 0)
    except (UnicodeDecodeError, csv.Error):
        return data.count(b"\n")
