"""Not improving: the mark date and the condition on a day agree in their Python, ORM and SQL
forms, with each clinic's own setting or the default (registry/definitions/not_improving.py)."""

import datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patients.models import Episode
from registry.definitions.not_improving import (
    MARK,
    is_not_improving,
    not_improving_from,
    not_improving_q,
    not_improving_sql,
    with_mark,
)
from registry.definitions.tests.agreement import (
    AGREEMENT,
    TODAY,
    both_forms,
    phq9_scores,
    rolled_back,
    write_episodes,
)
from registry.models import RegistrySettings
from registry.thresholds import DEFAULTS

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@st.composite
def episode_rows(draw) -> dict:
    enrolled_on = TODAY - draw(st.integers(0, 160)) * DAY
    assessed = draw(st.one_of(st.none(), st.integers(0, 20)))
    baseline, latest = draw(phq9_scores), draw(phq9_scores)
    return {
        "enrolled_on": enrolled_on,
        "initial_assessment_on": None if assessed is None else enrolled_on + assessed * DAY,
        "phq9_baseline": baseline,
        "phq9_latest": latest,
    }


@AGREEMENT
@given(
    rows=st.lists(episode_rows(), min_size=1, max_size=30),
    after_days=st.integers(1, 120),
    on=st.integers(-30, 0).map(lambda days: TODAY + days * DAY),
)
@example(
    # Even rows at the default 70 days, odd ones at 56: the mark day itself counts, the day before not.
    rows=[
        {
            "enrolled_on": TODAY - 80 * DAY,
            "initial_assessment_on": TODAY - 70 * DAY,
            "phq9_baseline": 20,
            "phq9_latest": 11,
        },
        {
            "enrolled_on": TODAY - 80 * DAY,
            "initial_assessment_on": TODAY - 69 * DAY,
            "phq9_baseline": 20,
            "phq9_latest": 11,
        },
        {"enrolled_on": TODAY - 70 * DAY, "initial_assessment_on": None, "phq9_baseline": 20, "phq9_latest": 11},
        {"enrolled_on": TODAY - 90 * DAY, "initial_assessment_on": None, "phq9_baseline": 20, "phq9_latest": 10},
        {
            "enrolled_on": TODAY - 80 * DAY,
            "initial_assessment_on": TODAY - 69 * DAY,
            "phq9_baseline": 20,
            "phq9_latest": 11,
        },
    ],
    after_days=56,
    on=TODAY,
)
def test_not_improving_forms_agree_on_every_episode(clinic, other_clinic, rows, after_days, on):
    """Even rows are in `clinic` (the default days), odd ones in `other_clinic` (its setting)."""
    with rolled_back():
        RegistrySettings.objects.create(clinic=other_clinic, not_improving_after_days=after_days)
        episodes = write_episodes([clinic, other_clinic], rows)
        in_database = both_forms(
            with_mark(Episode.objects.all()),
            not_improving_q(on, "phq9_baseline", "phq9_latest"),
            not_improving_sql(on="%s", mark="s.mark", baseline="s.baseline", latest="s.latest"),
            [on],
            mark=MARK,
            baseline="phq9_baseline",
            latest="phq9_latest",
        )
        marks = dict(with_mark(Episode.objects.all()).values_list("pk", MARK))

    for i, (episode, row) in enumerate(zip(episodes, rows, strict=True)):
        days = after_days if i % 2 else DEFAULTS["not_improving_after_days"]
        assessed, enrolled = row["initial_assessment_on"], row["enrolled_on"]
        assert marks[episode.pk] == not_improving_from(
            initial_assessment_on=assessed, enrolled_on=enrolled, after_days=days
        ), row
        expected = is_not_improving(
            on=on,
            initial_assessment_on=assessed,
            enrolled_on=enrolled,
            after_days=days,
            baseline=row["phq9_baseline"],
            latest=row["phq9_latest"],
        )
        assert in_database[episode.pk] == (expected, expected), (row, days, on)


def test_the_mark_counts_from_the_initial_assessment_else_enrollment():
    enrolled, assessed = datetime.date(2026, 1, 1), datetime.date(2026, 1, 11)
    assert not_improving_from(initial_assessment_on=assessed, enrolled_on=enrolled, after_days=70) == datetime.date(
        2026, 3, 22
    )
    assert not_improving_from(initial_assessment_on=None, enrolled_on=enrolled, after_days=70) == datetime.date(
        2026, 3, 12
    )
