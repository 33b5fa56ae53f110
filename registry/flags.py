"""The flags that keep the caseload honest (docs/clinical-definitions.md#flags), kept true by set-based rules.

Each rule is a condition on an open episode's summary columns and its clinic's thresholds.
A refresh runs every rule over a scope of episodes (one, or the whole registry) with two
statements per rule: raise where the rule holds and no flag of its kind is open (the
database's one-open-flag-per-kind key makes a concurrent second raise a no-op), and resolve,
with the reason, the rule's open flags where it no longer holds. Each raise and resolve is
written to the flag's history. Running it twice changes nothing the second time.

Safety and needs-discussion flags are raised and closed by people, never here.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from carereg.lib.bulk import copy_into_history
from carereg.lib.expressions import AddDays
from patients.models import Episode, EpisodeQuerySet
from registry.definitions import followup, not_improving
from registry.models import Flag
from registry.reviews import case_reviews
from registry.thresholds import threshold

Status = Episode.Status


@dataclass(frozen=True)
class Rule:
    kind: str
    reason: str
    holds: Callable[[datetime.date], Q]


def rule_inputs(episodes: QuerySet[Episode], today: datetime.date) -> QuerySet[Episode]:
    """The dates each rule compares with today, per episode, from its summary and its clinic's thresholds."""
    start = Coalesce("initial_assessment_on", "enrolled_on")
    reviews = case_reviews().signed().filter(episode=OuterRef("pk"))  # drafts don't count
    open_recommendations = case_reviews().open_recommendations().filter(episode=OuterRef("pk"))
    marked = not_improving.with_mark(followup.with_followup_due(episodes))  # the clinical definitions' dates
    return marked.annotate(
        start=start,
        first_followup_due=AddDays(start, threshold("first_followup_days")),
        measurement_due=AddDays(
            Coalesce("phq9_latest_on", "gad7_latest_on", start), threshold("measurement_overdue_days")
        ),
        reviews_count_from=AddDays(Value(today), -threshold("case_review_recency_days")),
        ever_reviewed=Exists(reviews),
        recently_reviewed=Exists(reviews.filter(reviewed_on__gte=OuterRef("reviews_count_from"))),
        recommendations_due_from=AddDays(Value(today), -threshold("recommendation_open_days")),
        stale_recommendation=Exists(
            open_recommendations.filter(recommended_on__lt=OuterRef("recommendations_due_from"))
        ),
    )


RULES = [
    Rule(
        Flag.Kind.NEW_PATIENT, "Not yet discussed at a psychiatric case review.", lambda today: Q(ever_reviewed=False)
    ),
    Rule(
        Flag.Kind.NOT_IMPROVING,
        "Active treatment past the not-improving mark with PHQ-9 >= 10 and < 50% better, no recent case review.",
        lambda today: Q(status=Status.ACTIVE, recently_reviewed=False) & not_improving.not_improving_q(today),
    ),
    Rule(
        Flag.Kind.FOLLOWUP_OVERDUE,
        "No completed contact within the follow-up cadence, or past the next contact date set.",
        followup.followup_overdue_q,
    ),
    Rule(
        Flag.Kind.NO_FIRST_FOLLOWUP,
        "No completed contact since the initial assessment, past the first follow-up mark.",
        lambda today: (
            Q(status__in=[Status.ENROLLED, Status.ACTIVE], first_followup_due__lt=today)
            & (Q(last_contact_on__isnull=True) | Q(last_contact_on__lte=F("start")))
        ),
    ),
    Rule(
        Flag.Kind.RECOMMENDATION_OPEN,
        "A consultant's recommendation is still open (not implemented or declined) past the set number of days.",
        lambda today: Q(stale_recommendation=True),
    ),
    Rule(
        Flag.Kind.MEASUREMENT_OVERDUE,
        "No PHQ-9 (or the episode's main measure) within the measurement interval.",
        lambda today: Q(status=Status.ACTIVE, measurement_due__lt=today),
    ),
]
RULE_KINDS = [rule.kind for rule in RULES]


@dataclass
class RefreshResult:
    raised: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(self.raised.values()) + sum(self.resolved.values())


def refresh_flags(episodes: EpisodeQuerySet | None = None, *, today: datetime.date | None = None) -> RefreshResult:
    """Bring the rule flags of these episodes (default: all) in line with the rules, today."""
    scope = (episodes if episodes is not None else Episode.objects.all()).order_by()
    today = today or timezone.localdate()
    result = RefreshResult()
    inputs, scope_ids = rule_inputs(scope.open(), today), scope.values("pk")  # built once, filtered per rule
    for rule in RULES:
        # One transaction per rule: a job killed half way leaves whole rules done, and the
        # rerun, idempotent, finishes the rest.
        with transaction.atomic():
            holding = inputs.filter(rule.holds(today)).order_by().values(episode_id=F("pk"))
            result.raised[rule.kind] = _raise(rule, holding)
            result.resolved[rule.kind] = _resolve_where_not(rule, scope_ids, holding)
    return result


def _now() -> str | datetime.datetime | None:
    """Now, as the ORM would store it (SQLite keeps naive UTC text; raw SQL must match)."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    return queryset.query.sql_with_params()


def _raise(rule: Rule, holding: QuerySet[Any]) -> int:
    """Insert a flag where the rule holds; where one of its kind is open already, the unique
    (episode, kind) key for open flags makes the insert a no-op: checked by the index, not by
    a join the planner could misjudge after a large change."""
    holding_sql, holding_params = _sql(holding)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Flag._meta.db_table} (episode_id, kind, reason, raised_at, resolution_note) "
            f"SELECT holding.episode_id, %s, %s, %s, '' FROM ({holding_sql}) holding WHERE true "
            "ON CONFLICT DO NOTHING RETURNING id",
            [rule.kind, rule.reason, _now(), *holding_params],
        )
        ids = [row[0] for row in cursor.fetchall()]
    copy_into_history(Flag, ids, by=None, change="+")
    return len(ids)


def _resolve_where_not(rule: Rule, scope: QuerySet[Any], holding: QuerySet[Any]) -> int:
    scope_sql, scope_params = _sql(scope)
    holding_sql, holding_params = _sql(holding)
    table = Flag._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET resolved_at = %s, resolution_note = %s "
            "WHERE kind = %s AND resolved_at IS NULL AND raised_by_id IS NULL "
            f"AND episode_id IN ({scope_sql}) "
            # NOT EXISTS, not NOT IN: PostgreSQL plans it as a hash anti-join whatever the size.
            f"AND NOT EXISTS (SELECT 1 FROM ({holding_sql}) holding WHERE holding.episode_id = {table}.episode_id) "
            "RETURNING id",
            [
                _now(),
                f"Resolved automatically: the rule no longer holds ({Flag.Kind(rule.kind).label.lower()}).",
                rule.kind,
                *scope_params,
                *holding_params,
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    copy_into_history(Flag, ids, by=None, change="~")
    return len(ids)
