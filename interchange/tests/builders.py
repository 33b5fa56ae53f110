"""CSV files for import tests, written row by row with readable defaults."""

import csv
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from interchange.importing.columns import COLUMNS, CONTACTS, MEASUREMENTS, PATIENTS, REVIEWS


def day(offset: int) -> datetime.date:
    """today + offset days (negative: in the past)."""
    return timezone.localdate() + datetime.timedelta(days=offset)


def iso(offset: int) -> str:
    return day(offset).isoformat()


def patient(**fields) -> dict:
    return {
        "mrn": "A-1",
        "clinic": "north",
        "first_name": "Ann",
        "last_name": "Young",
        "birth_date": "1970-01-01",
        "sex": "female",
        "care_manager": "cm",
        "psychiatric_consultant": "",
        "pcp": "",
        "enrolled_on": iso(-90),
        "status": "active",
        "discharged_on": "",
        "discharge_reason": "",
        **fields,
    }


def contact(**fields) -> dict:
    return {
        "mrn": "A-1",
        "clinic": "north",
        "date": iso(-85),
        "kind": "follow_up",
        "mode": "phone",
        "reached": "yes",
        "minutes": "20",
        "interventions": "",
        "next_contact_on": "",
        "note": "",
        **fields,
    }


def measurement(**fields) -> dict:
    return {
        "mrn": "A-1",
        "clinic": "north",
        "date": iso(-85),
        "instrument": "PHQ9",
        "items": "2 2 2 2 2 2 2 2 0",
        "total": "",
        **fields,
    }


def review(**fields) -> dict:
    return {
        "mrn": "A-1",
        "clinic": "north",
        "date": iso(-80),
        "consultant": "drchen",
        "note": "Moderate depression; start sertraline 50 mg.",
        **fields,
    }


def csv_text(name: str, rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS[name], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def files(patients=(), contacts=(), measurements=(), reviews=None) -> dict[str, bytes]:
    """The three files; reviews.csv too when reviews are given (an empty list: the header alone)."""
    made = {
        PATIENTS: csv_text(PATIENTS, list(patients)).encode(),
        CONTACTS: csv_text(CONTACTS, list(contacts)).encode(),
        MEASUREMENTS: csv_text(MEASUREMENTS, list(measurements)).encode(),
    }
    if reviews is not None:
        made[REVIEWS] = csv_text(REVIEWS, list(reviews)).encode()
    return made


def write_folder(folder, **rows) -> None:
    for name, content in files(**rows).items():
        (folder / name).write_bytes(content)


FIELDS = {PATIENTS: "patients", CONTACTS: "contacts", MEASUREMENTS: "measurements", REVIEWS: "reviews"}


def uploads(**rows) -> dict:
    """The files as the upload form's fields; reviews.csv only when reviews are given."""
    return {
        FIELDS[name]: SimpleUploadedFile(name, content, content_type="text/csv")
        for name, content in files(**rows).items()
    }
