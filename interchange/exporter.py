"""Registry CSV export: one row per open episode with the registry columns
(docs/clinical-definitions.md#registry-columns).

The columns come from the same SQL as the caseload dashboard (with_registry_columns and the
episode summary), so a file and the screen never disagree. Two queries whatever the size:
the open flags of the episodes, then the episodes themselves, read in chunks.
"""

import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import QuerySet
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
    episodes = episodes.open()
    flags = open_flag_kinds(episodes)
    rows = with_registry_columns(episodes, today)
    rows = order_by_column(rows, sort) if sort else rows.order_by("patient__clinic__code", "patient__mrn", "pk")
    yield list(COLUMNS)
    for values in rows.values("pk", *FIELDS).iterator(chunk_size=CHUNK):
        yield row_for(values, flags.get(values["pk"], []), today)


def open_flag_kinds(episodes: QuerySet[Episode]) -> dict[int, list[str]]:
    """Each episode's open flag kinds, most urgent first (Flag.PRIORITY): one query for them all."""
    kinds = defaultdict(list)
    open_flags = Flag.objects.filter(resolved_at__isnull=True, episode__in=episodes.order_by().values("pk"))
    for episode_id, kind in open_flags.values_list("episode_id", "kind"):
        kinds[episode_id].append(kind)
    rank = {kind: position for position, kind in enumerate(Flag.PRIORITY)}
    return {
        episode_id: sorted(found, key=lambda kind: rank.get(kind, len(rank))) for episode_id, found in kinds.items()
    }


def row_for(values: dict, flags: list[str], today: datetime.date) -> list:
    cells = {column: values[name] for name, column in FIELDS.items()}
    cells["weeks_in_treatment"] = (today - values["initial_assessment"]).days // 7
    cells["flags"] = ";".join(flags)
    return [cells[column] for column in COLUMNS]


def record_export(*, by_username: str, how: str, clinics, filters: dict, patient_count: int) -> ExportRun:
    run = ExportRun.objects.create(by_username=by_username, how=how, filters=filters, patient_count=patient_count)
    run.clinics.set(clinics if clinics is not None else Clinic.objects.all())
    return run
