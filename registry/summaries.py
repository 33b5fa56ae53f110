"""Keep each episode's registry summary (the columns on Episode) true to its rows.

Called inside the transaction of every write to contacts and measurements, for one episode,
and over a whole queryset after bulk loads. One UPDATE with correlated subqueries: the same
set-based statement whether it touches one episode or a hundred thousand.
"""

import functools
from dataclasses import dataclass
from typing import cast

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Least, TruncDate
from django.db.models.sql import UpdateQuery

from patients.models import Episode
from registry.figures_cache import figures_changed
from registry.models import Contact, Measurement, SafetyAssessment
from registry.reviews import case_reviews


def _first(queryset: QuerySet, field: str) -> Subquery:
    return Subquery(queryset.values(field)[:1])


def _scores(instrument: str) -> dict:
    taken = Measurement.objects.valid().filter(episode=OuterRef("pk"), instrument=instrument)
    earliest = taken.order_by("taken_on", "pk")
    latest = taken.order_by("-taken_on", "-pk")
    prefix = instrument.lower()
    return {
        f"{prefix}_baseline": _first(earliest, "total"),
        f"{prefix}_baseline_on": _first(earliest, "taken_on"),
        f"{prefix}_latest": _first(latest, "total"),
        f"{prefix}_latest_on": _first(latest, "taken_on"),
    }


def summary_expressions() -> dict:
    return {**_contact_and_score_columns(), **_reviews()}


def _contact_and_score_columns() -> dict:
    completed = Contact.objects.valid().filter(episode=OuterRef("pk"), reached=True)
    last = completed.order_by("-contact_date", F("contact_time").desc(nulls_last=True), "-pk")
    first_assessment = completed.filter(kind=Contact.Kind.INITIAL_ASSESSMENT).order_by("contact_date", "pk")
    count = completed.order_by().values("episode").annotate(n=Count("pk")).values("n")
    return {
        "initial_assessment_on": _first(first_assessment, "contact_date"),
        "last_contact_on": _first(last, "contact_date"),
        "next_contact_on": _sooner(_first(last, "next_contact_on"), _safety_follow_up()),
        "completed_contacts": Coalesce(Subquery(count), Value(0)),
        **_scores("PHQ9"),
        **_scores("GAD7"),
    }


def _safety_follow_up() -> Subquery:
    """The close follow-up a safety assessment set, until a completed contact on a later day
    (docs/user-guide.md#safety-follow-through)."""
    contact_since = Contact.objects.valid().filter(
        episode=OuterRef("episode"), reached=True, contact_date__gt=OuterRef("assessed_on")
    )
    pending = (
        SafetyAssessment.objects.filter(episode=OuterRef("pk"), follow_up_on__isnull=False)
        .annotate(assessed_on=TruncDate("assessed_at"))
        .exclude(Exists(contact_since.values("pk").order_by()))
        .order_by("follow_up_on")
    )
    return _first(pending, "follow_up_on")


def _sooner(first, second):
    """The earlier of two dates, either of which may be missing (on every database)."""
    return Least(Coalesce(first, second), Coalesce(second, first))


# Built from the case reviews that the consults app provides (registry/reviews.py), which it
# registers after this module is first imported: named here for SUMMARY_FIELDS.
REVIEW_COLUMNS = ["first_case_review_on", "last_case_review_on", "open_recommendations"]


def _reviews() -> dict:
    signed = case_reviews().signed().filter(episode=OuterRef("pk")).order_by("-reviewed_on")
    open_recommendations = (
        case_reviews()
        .open_recommendations()
        .filter(episode=OuterRef("pk"), review__signed_at__isnull=False)  # a draft's are working text
        .order_by()
        .values("episode")
        .annotate(n=Count("pk"))
    )
    return {  # REVIEW_COLUMNS
        "first_case_review_on": _first(signed.order_by("reviewed_on", "pk"), "reviewed_on"),
        "last_case_review_on": _first(signed, "reviewed_on"),
        "open_recommendations": Coalesce(Subquery(open_recommendations.values("n")), Value(0)),
    }


def refresh_summaries(episodes: QuerySet[Episode]) -> int:
    """Recompute the summary columns of these episodes; returns how many rows were updated."""
    figures_changed()
    return episodes.update(**summary_expressions())


# Built once: the expressions are only needed for their names here.
SUMMARY_FIELDS = [*_contact_and_score_columns(), *REVIEW_COLUMNS]


def refresh_summary(episode: Episode) -> None:
    """refresh_summaries() for one episode, through the statement compiled once (one_episode_update)."""
    figures_changed()
    statement, compiled_params, pk_at = one_episode_update(router.db_for_write(Episode), case_reviews())
    params = list(compiled_params)
    params[pk_at] = episode.pk
    with connections[statement.using].cursor() as cursor:
        cursor.execute(statement.sql, params)
    episode.refresh_from_db(fields=SUMMARY_FIELDS)


@dataclass(frozen=True)
class CompiledUpdate:
    using: str
    sql: str


# Stands for the episode's id while the statement is compiled; never a real primary key.
_ANY_EPISODE = -1_987_654_321


@functools.cache
def one_episode_update(using: str, reviews: object) -> tuple[CompiledUpdate, tuple, int]:
    """The summary UPDATE of one episode, as SQL and parameters, with the index of the episode's id
    among them. Building and compiling its 13 subqueries took about a third of the CPU of saving a
    contact, and the statement is the same each time but for that id. Compiled once per process,
    database alias and case-review provider (`reviews`, which consults registers when Django is
    ready): nothing else it depends on changes while the process runs."""
    query = cast(UpdateQuery, Episode.objects.filter(pk=_ANY_EPISODE).query.chain(UpdateQuery))
    query.add_update_values(summary_expressions())
    sql, params = query.get_compiler(using).as_sql()
    if list(params).count(_ANY_EPISODE) != 1:
        raise ImproperlyConfigured("The summary UPDATE must name its episode exactly once.")
    return CompiledUpdate(using, sql), tuple(params), list(params).index(_ANY_EPISODE)
