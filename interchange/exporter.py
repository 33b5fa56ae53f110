"""Registry CSV export: one row per open episode with the registry columns
(docs/clinical-definitions.md#registry-columns).

The columns come from the same SQL as the caseload dashboard (with_registry_columns and the
episode summary), so a file and the screen never disagree. One query whatever the size, read
in chunks, each row with its open flags: the export's memory does not grow with the registry.
"""

import datetime
import zoneinfo
from collections.abc import Iterator

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Clinic
from interchange.models import ExportRun
from patients.models import Episode
from registry.caseload import order_by_column, with_registry_columns
from registry.models import Flag

COLUMNS = (
    "mrn",
    "clinic",
    "status",
    "enrolled_on",
    "weeks_in_treatment",
    "completed_contacts",
    "last_contact_on",
    "last_case_review_on",
    "next_contact_due",
    "baseline_phq9",
    "latest_phq9",
    "phq9_change_pct",
    "baseline_gad7",
    "latest_gad7",
    "gad7_change_pct",
    "minutes_this_month",
    "flags",
)
CHUNK = 2000
# Annotation or field -> export column, for the values copied as they are.
FIELDS = {
    "patient__mrn": "mrn",
    "patient__clinic__code": "clinic",
    "status": "status",
    "enrolled_on": "enrolled_on",
    "initial_assessment": "weeks_in_treatment",
    "completed_contacts": "completed_contacts",
    "last_contact_on": "last_contact_on",
    "last_case_review_on": "last_case_review_on",
    "next_contact_due": "next_contact_due",
    "phq9_baseline": "baseline_phq9",
    "phq9_latest": "latest_phq9",
    "phq9_change": "phq9_change_pct",
    "gad7_baseline": "baseline_gad7",
    "gad7_latest": "latest_gad7",
    "gad7_change": "gad7_change_pct",
    "minutes_this_month": "minutes_this_month",
}


def today_in(clinics) -> datetime.date:
    """Today in the zone of the first of these clinics (as the app's pages count it), else the default zone."""
    zone = clinics.order_by("pk").values_list("timezone", flat=True).first() if clinics is not None else None
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(zone)) if zone else timezone.localdate()


def filename(today: datetime.date) -> str:
    return f"carereg-caseload-{today:%Y-%m-%d}.csv"


def export_rows(episodes: QuerySet[Episode], today: datetime.date, sort: str = "") -> Iterator[list]:
    """The header, then one row per open episode: by clinic and MRN, or by a dashboard sort key.

    `episodes` is already narrowed to what the reader may see. Values are as read (numbers,
    dates, text): carereg.lib.csv writes and defuses them.
    """
    rows = with_registry_columns(episodes.open(), today).annotate(open_flags=open_flags_mask())
    rows = order_by_column(rows, sort) if sort else rows.order_by("patient__clinic__code", "patient__mrn", "pk")
    yield list(COLUMNS)
    for values in rows.values("open_flags", *FIELDS).iterator(chunk_size=CHUNK):
        yield row_for(values, today)


# Bit n stands for the open flag of kind Flag.PRIORITY[n]: an episode has at most one open flag
# of a kind (the flag_one_open_per_kind constraint) and no other kinds (flag_kind_valid), so
# the sum of its open flags' bits says exactly which it has.
FLAG_BITS = [(1 << rank, kind.value) for rank, kind in enumerate(Flag.PRIORITY)]


def open_flags_mask() -> Coalesce:
    """The episode's open flag kinds as one number (FLAG_BITS), carried by its own row: a map of
    every episode's flags held beside the rows would grow with the registry."""
    bits = [When(kind=kind, then=Value(bit)) for bit, kind in FLAG_BITS]
    open_flags = Flag.objects.filter(episode=OuterRef("pk"), resolved_at__isnull=True).order_by().values("episode")
    mask = open_flags.annotate(mask=Sum(Case(*bits, output_field=IntegerField()))).values("mask")
    return Coalesce(Subquery(mask, output_field=IntegerField()), Value(0))


def flag_kinds(mask: int) -> list[str]:
    """The open flag kinds of an open_flags_mask, most urgent first (Flag.PRIORITY)."""
    return [kind for bit, kind in FLAG_BITS if mask & bit]


def row_for(values: dict, today: datetime.date) -> list:
    cells = {column: values[name] for name, column in FIELDS.items()}
    cells["weeks_in_treatment"] = (today - values["initial_assessment"]).days // 7
    cells["flags"] = ";".join(flag_kinds(values["open_flags"]))
    return [cells[column] for column in COLUMNS]


def record_export(*, by_username: str, how: str, clinics, filters: dict, patient_count: int) -> ExportRun:
    run = ExportRun.objects.create(by_username=by_username, how=how, filters=filters, patient_count=patient_count)
    run.clinics.set(clinics if clinics is not None else Clinic.objects.all())
    return run
