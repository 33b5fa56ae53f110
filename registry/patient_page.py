"""What the patient page shows of the registry (patients/panels.py): the summary, the timeline
of contacts and scores, the flags, the forms to record, and the charts."""

import datetime
from collections import defaultdict
from operator import itemgetter

from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils import timezone

from patients.models import Episode
from registry.billing import billable_minutes
from registry.caseload import month_bounds
from registry.charts import Marker, charts_of_scores
from registry.definitions.change import percent_change
from registry.definitions.followup import next_contact_due
from registry.forms import ContactForm, ItemAnswersForm
from registry.instruments import INSTRUMENTS
from registry.models import ITEM_FIELDS, Contact, Flag, Measurement, RegistrySettings
from registry.safety import SafetyFacts, mark_review_state, safety_facts_from
from registry.scoring import GAD7, PHQ9

# The timeline shows this many entries (contacts and scores on their own) a page, newest first,
# so the page costs the same whatever the history's length (docs/user-guide.md#the-timeline).
TIMELINE_PAGE_SIZE = 20


def registry_panel(request: HttpRequest, episode: Episode, context: dict) -> dict:
    every_score = episode.measurements.values_list(*SCORE_COLUMNS)
    rows = list(every_score)  # for the charts, and the timeline's page
    timeline_page = _timeline_page(episode, rows, request.GET.get("timeline"))
    flags = list(episode.flags.select_related("raised_by", "resolved_by", "safety_assessment__assessed_by"))
    writer = context["can_write"]
    today = timezone.localdate()
    settings = RegistrySettings.for_clinic(episode.patient.clinic)
    # For the safety_facts tag, from the flags and scores read here rather than read again.
    episode.safety_facts = _safety_facts(episode, flags, rows, every_score.db, today)  # type: ignore[attr-defined]
    return {
        "summary": _summary(episode, settings, today),
        "timeline": _timeline(timeline_page, rows, every_score.db),
        "timeline_page": timeline_page,
        "open_flags": sorted((f for f in flags if f.is_open), key=lambda f: f.priority),
        "closed_flags": [f for f in flags if not f.is_open],
        # The care manager marks the new ones seen with a button: reading the page writes nothing.
        "new_flags": [f for f in flags if f.is_open and f.seen_at is None]
        if request.user.pk == episode.patient.care_manager_id and episode.is_open
        else [],
        "chart_scores": _chart_scores(rows),  # drawn by charts_panel once the treatment's markers are known
        "contact_form": ContactForm(auto_id="quick_%s") if writer else None,
        "score_forms": [
            ItemAnswersForm(instrument=PHQ9, required=False),
            ItemAnswersForm(instrument=GAD7, required=False),
        ]
        if writer
        else [],
        "instruments": settings.offered_instruments(),
    }


# Every column of a score, in the model's order: the page reads each score of the episode as a
# row, and makes Measurements (Model.from_db) of the timeline page's only; making hundreds of
# them for a long history cost more than the rest of the panel.
SCORE_COLUMNS = [field.attname for field in Measurement._meta.concrete_fields]
_ID, _CONTACT, _INSTRUMENT, _TAKEN_ON, _TOTAL, _ERROR = (
    SCORE_COLUMNS.index(name) for name in ("id", "contact_id", "instrument", "taken_on", "total", "entered_in_error_at")
)
_ITEMS = [SCORE_COLUMNS.index(name) for name in ITEM_FIELDS]


def _summary(episode: Episode, settings: RegistrySettings, today: datetime.date) -> dict:
    """The registry columns the page shows beside the episode's own fields, as the dashboard
    shows them: by the Python forms of their definitions (registry/definitions/, proved to agree
    with the SQL the dashboard sorts by) from the episode's summary columns, but for the billing
    rule's minutes, which only SQL computes (building the SQL of every column cost more than
    running it)."""
    minutes = (
        Episode.objects.filter(pk=episode.pk)
        .annotate(minutes=billable_minutes(*month_bounds(today)))
        .values_list("minutes", flat=True)
        .get()
    )
    return {
        "initial_assessment": episode.initial_assessment_on or episode.enrolled_on,
        "next_contact_due": next_contact_due(
            status=episode.status,
            last_contact_on=episode.last_contact_on,
            next_contact_on=episode.next_contact_on,
            active_days=settings.active_cadence_days,
            relapse_days=settings.relapse_prevention_cadence_days,
        ),
        "phq9_change": percent_change(episode.phq9_baseline, episode.phq9_latest),
        "gad7_change": percent_change(episode.gad7_baseline, episode.gad7_latest),
        "minutes_this_month": minutes,
    }


def _timeline_page(episode: Episode, rows: list[tuple], number: str | None) -> Page:
    """One page of the timeline's entries, newest first, as (date, is a contact, time, pk): the
    episode's contacts (a short row each, read here) and the scores taken on their own (from the
    episode's score rows, read for the charts), in the order the timeline draws them: a day's
    contacts before its scores, each in its model's order. Sorted here rather than by a UNION in
    SQL, whose COUNT and page were two queries, and whose building cost more than this sort. A
    page number that is no number gives the first page, one past the end the last."""
    contacts = episode.contacts.order_by().values_list("contact_date", "contact_time", "pk")
    entries = [(day, True, time, pk) for day, time, pk in contacts]
    entries += [(row[_TAKEN_ON], False, None, row[_ID]) for row in rows if row[_CONTACT] is None]
    entries.sort(key=_newest_first, reverse=True)
    return Paginator(entries, TIMELINE_PAGE_SIZE).get_page(number)


def _newest_first(entry: tuple) -> tuple:
    """The sort key of ORDER BY day DESC, is_contact DESC, time DESC, pk DESC in PostgreSQL,
    where a contact without a time comes first on its day (NULLs first when descending)."""
    day, is_contact, time, pk = entry
    return (day, is_contact, time is None, time or datetime.time.min, pk)


def _timeline(page: Page, rows: list[tuple], db: str) -> list[dict]:
    """The page's contacts with the scores taken at them, and scores taken on their own, newest
    first; the scores are made from the episode's rows, read once for the charts too."""
    keys = list(page)
    contacts = Contact.objects.select_related("recorded_by", "entered_in_error_by").in_bulk(
        [pk for _, is_contact, _, pk in keys if is_contact]
    )
    scores_on_page = {pk for _, is_contact, _, pk in keys if not is_contact}
    scores: dict[int, Measurement] = {}
    scores_at: defaultdict[int, list[Measurement]] = defaultdict(list)
    for row in sorted(rows, key=itemgetter(_INSTRUMENT)):
        if row[_CONTACT] in contacts or row[_ID] in scores_on_page:
            measurement = Measurement.from_db(db, SCORE_COLUMNS, row)
            scores[measurement.pk] = measurement
            if measurement.contact_id is not None:
                scores_at[measurement.contact_id].append(measurement)
    return [
        {"date": contacts[pk].contact_date, "contact": contacts[pk], "measurements": scores_at[pk]}
        if is_contact
        else {"date": scores[pk].taken_on, "contact": None, "measurements": [scores[pk]]}
        for _, is_contact, _, pk in keys
    ]


def _safety_facts(episode: Episode, flags: list[Flag], rows: list[tuple], db: str, today: datetime.date) -> SafetyFacts:
    """The episode's safety facts (registry/safety.py) from its flags (newest first) and its
    scores' rows (newest first): the scores that raised a safety flag and the latest valid
    screener are made Measurements from the rows, rather than read again."""
    safety_flags = [flag for flag in flags if flag.kind == Flag.Kind.SAFETY]
    mark_review_state(safety_flags)
    by_id = {row[_ID]: row for row in rows}
    for flag in safety_flags:
        if flag.measurement_id in by_id:
            flag.measurement = Measurement.from_db(db, SCORE_COLUMNS, by_id[flag.measurement_id])
    screener = next((row for row in rows if row[_ERROR] is None and INSTRUMENTS[row[_INSTRUMENT]].has_risk_level), None)
    screeners = [Measurement.from_db(db, SCORE_COLUMNS, screener)] if screener else []
    return safety_facts_from([episode.pk], safety_flags, screeners, today)[episode.pk]


def _chart_scores(rows: list[tuple]) -> list[tuple[str, datetime.date, int, list[int | None]]]:
    """(instrument, date, total, answers) of each valid score, as registry.charts draws them."""
    return [
        (
            row[_INSTRUMENT],
            row[_TAKEN_ON],
            row[_TOTAL],
            [row[i] for i in _ITEMS[: INSTRUMENTS[row[_INSTRUMENT]].item_count]],
        )
        for row in rows
        if row[_ERROR] is None
    ]


def charts_panel(request: HttpRequest, episode: Episode, context: dict) -> dict:
    """The charts, with the markers the other panels left (care's medications) and the plan's changes."""
    markers = list(context["chart_markers"])
    for change in context.get("plan_changes", []):
        if not change.is_entered_in_error:
            markers.append(Marker("plan", change.changed_on, f"plan changed: {change.what_changed}"))
    return {"charts": charts_of_scores(episode.enrolled_on, context.pop("chart_scores"), markers)}
