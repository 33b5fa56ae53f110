"""Follow-up: the cadence by status (docs/clinical-definitions.md#follow-up-cadence), the next
contact due the dashboard shows (docs/clinical-definitions.md#registry-columns) and the
`followup_overdue` flag's condition (docs/clinical-definitions.md#flags).

The cadence is the clinic's active-treatment days *(setting, 14)*, in relapse prevention its
relapse-prevention days *(setting, 30)*. The next contact due is the date set at the latest
completed contact, else that contact plus the cadence; none before the first completed contact.
Follow-up is overdue in active treatment when today is past the last completed contact (else
the initial assessment, else enrollment) plus the cadence, or past the next-contact date set;
in relapse prevention only by the cadence.
"""

import datetime

from django.db.models import Case, F, IntegerField, Q, QuerySet, When
from django.db.models.functions import Coalesce

from carereg.lib.expressions import AddDays
from patients.models import Episode
from registry.thresholds import threshold

Status = Episode.Status
DUE = "followup_due"  # the annotation with_followup_due() adds


def cadence_days(status: str, *, active_days: int, relapse_days: int) -> int:
    """The Python form of the cadence."""
    return relapse_days if status == Status.RELAPSE_PREVENTION else active_days


def next_contact_due(
    *,
    status: str,
    last_contact_on: datetime.date | None,
    next_contact_on: datetime.date | None,
    active_days: int,
    relapse_days: int,
) -> datetime.date | None:
    """The Python form of the next contact due."""
    if next_contact_on is not None or last_contact_on is None:
        return next_contact_on
    return last_contact_on + datetime.timedelta(
        days=cadence_days(status, active_days=active_days, relapse_days=relapse_days)
    )


def is_followup_overdue(
    *,
    today: datetime.date,
    status: str,
    enrolled_on: datetime.date,
    initial_assessment_on: datetime.date | None,
    last_contact_on: datetime.date | None,
    next_contact_on: datetime.date | None,
    active_days: int,
    relapse_days: int,
) -> bool:
    """The Python form of the flag's condition."""
    since = last_contact_on or initial_assessment_on or enrolled_on
    due = since + datetime.timedelta(days=cadence_days(status, active_days=active_days, relapse_days=relapse_days))
    if status == Status.ACTIVE:
        return due < today or (next_contact_on is not None and next_contact_on < today)
    return status == Status.RELAPSE_PREVENTION and due < today


def cadence_expression() -> Case:
    """The ORM form of the cadence, with the episode's clinic's settings."""
    return Case(
        When(status=Status.RELAPSE_PREVENTION, then=threshold("relapse_prevention_cadence_days")),
        default=threshold("active_cadence_days"),
        output_field=IntegerField(),
    )


def next_contact_due_expression() -> Coalesce:
    """The ORM form of the next contact due."""
    return Coalesce(F("next_contact_on"), AddDays(F("last_contact_on"), cadence_expression()))


def with_followup_due(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    """The episodes with the day follow-up falls due by the cadence, as followup_overdue_q() needs them."""
    since = Coalesce("last_contact_on", "initial_assessment_on", "enrolled_on")
    return episodes.annotate(**{DUE: AddDays(since, cadence_expression())})


def followup_overdue_q(today: datetime.date) -> Q:
    """The ORM form of the flag's condition, over episodes annotated by with_followup_due()."""
    by_cadence = Q(**{f"{DUE}__lt": today})
    return Q(status=Status.ACTIVE) & (by_cadence | Q(next_contact_on__lt=today)) | (
        Q(status=Status.RELAPSE_PREVENTION) & by_cadence
    )
