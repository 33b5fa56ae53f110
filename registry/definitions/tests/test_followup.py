"""Follow-up: the cadence, the next contact due and the overdue condition agree in their Python
and ORM forms, with each clinic's settings or the defaults (registry/definitions/followup.py)."""

import datetime

import pytest
from django.db.models import Case, IntegerField, Value, When
from hypothesis import given
from hypothesis import strategies as st

from patients.models import Episode
from registry.definitions.followup import (
    followup_overdue_q,
    is_followup_overdue,
    next_contact_due,
    next_contact_due_expression,
    with_followup_due,
)
from registry.definitions.tests.agreement import AGREEMENT, TODAY, rolled_back, write_episodes
from registry.models import RegistrySettings
from registry.thresholds import DEFAULTS

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
Status = Episode.Status


@st.composite
def episode_rows(draw) -> dict:
    enrolled_on = TODAY - draw(st.integers(0, 90)) * DAY
    assessed = draw(st.one_of(st.none(), st.integers(0, 10)))
    assessed_on = None if assessed is None else enrolled_on + assessed * DAY
    last = draw(st.one_of(st.none(), st.integers(0, 60)))
    last_contact_on = (
        None if last is None or assessed_on is None else assessed_on + min(last, (TODAY - assessed_on).days) * DAY
    )
    set_next = draw(st.one_of(st.none(), st.integers(0, 40)))
    return {
        "enrolled_on": enrolled_on,
        "status": draw(st.sampled_from([Status.ENROLLED, Status.ACTIVE, Status.RELAPSE_PREVENTION])),
        "initial_assessment_on": assessed_on,
        "last_contact_on": last_contact_on,
        "next_contact_on": None if set_next is None or last_contact_on is None else last_contact_on + set_next * DAY,
    }


@AGREEMENT
@given(
    rows=st.lists(episode_rows(), min_size=1, max_size=30),
    active_days=st.integers(7, 30),
    relapse_days=st.integers(14, 60),
    today=st.integers(-10, 0).map(lambda days: TODAY + days * DAY),
)
def test_followup_forms_agree_on_every_episode(clinic, other_clinic, rows, active_days, relapse_days, today):
    """Even rows are in `clinic` (the default cadences), odd ones in `other_clinic` (its settings)."""
    with rolled_back():
        RegistrySettings.objects.create(
            clinic=other_clinic, active_cadence_days=active_days, relapse_prevention_cadence_days=relapse_days
        )
        episodes = write_episodes([clinic, other_clinic], rows)
        in_database = {
            pk: (due, bool(overdue))
            for pk, due, overdue in with_followup_due(Episode.objects.all())
            .annotate(
                due=next_contact_due_expression(),
                overdue=Case(
                    When(followup_overdue_q(today), then=Value(1)), default=Value(0), output_field=IntegerField()
                ),
            )
            .values_list("pk", "due", "overdue")
        }

    for i, (episode, row) in enumerate(zip(episodes, rows, strict=True)):
        cadences = (
            {"active_days": active_days, "relapse_days": relapse_days}
            if i % 2
            else {
                "active_days": DEFAULTS["active_cadence_days"],
                "relapse_days": DEFAULTS["relapse_prevention_cadence_days"],
            }
        )
        expected_due = next_contact_due(
            status=row["status"],
            last_contact_on=row["last_contact_on"],
            next_contact_on=row["next_contact_on"],
            **cadences,
        )
        expected_overdue = is_followup_overdue(today=today, **row, **cadences)
        assert in_database[episode.pk] == (expected_due, expected_overdue), (row, cadences, today)


def test_relapse_prevention_waits_its_own_cadence_and_ignores_the_date_set():
    common = {
        "enrolled_on": TODAY - 60 * DAY,
        "initial_assessment_on": TODAY - 60 * DAY,
        "active_days": 14,
        "relapse_days": 30,
    }
    seen = {"last_contact_on": TODAY - 20 * DAY, "next_contact_on": TODAY - 1 * DAY}
    assert is_followup_overdue(today=TODAY, status=Status.ACTIVE, **common, **seen)
    assert not is_followup_overdue(today=TODAY, status=Status.RELAPSE_PREVENTION, **common, **seen)
    assert not is_followup_overdue(today=TODAY, status=Status.ENROLLED, **common, **seen)
