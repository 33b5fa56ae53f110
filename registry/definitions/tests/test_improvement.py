"""Improved and not improved: the Python, ORM and SQL forms agree, and of two known scores
exactly one holds (registry/definitions/improvement.py)."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patients.models import Episode
from registry.definitions.improvement import (
    improved_q,
    improved_sql,
    is_improved,
    is_not_improved,
    not_improved_q,
    not_improved_sql,
)
from registry.definitions.tests.agreement import AGREEMENT, both_forms, phq9_scores, rolled_back, write_episodes

pytestmark = pytest.mark.django_db

EDGES = [(20, 10), (21, 10), (20, 11), (9, 9), (9, 10), (0, 0), (0, 10), (None, 9), (None, 10), (12, None), (27, 14)]


def _in_database(clinic, scores, q, sql) -> tuple[list, dict]:
    with rolled_back():
        episodes = write_episodes([clinic], [{"phq9_baseline": b, "phq9_latest": latest} for b, latest in scores])
        return episodes, both_forms(Episode.objects.all(), q, sql, baseline="phq9_baseline", latest="phq9_latest")


@AGREEMENT
@given(scores=st.lists(st.tuples(phq9_scores, phq9_scores), min_size=1, max_size=30))
@example(scores=EDGES)
def test_improved_forms_agree_on_every_episode(clinic, scores):
    episodes, in_database = _in_database(
        clinic, scores, improved_q("phq9_baseline", "phq9_latest"), improved_sql("s.baseline", "s.latest")
    )

    for episode, (baseline, latest) in zip(episodes, scores, strict=True):
        expected = is_improved(baseline, latest)
        assert in_database[episode.pk] == (expected, expected), (baseline, latest)


@AGREEMENT
@given(scores=st.lists(st.tuples(phq9_scores, phq9_scores), min_size=1, max_size=30))
@example(scores=EDGES)
def test_not_improved_forms_agree_on_every_episode(clinic, scores):
    episodes, in_database = _in_database(
        clinic, scores, not_improved_q("phq9_baseline", "phq9_latest"), not_improved_sql("s.baseline", "s.latest")
    )

    for episode, (baseline, latest) in zip(episodes, scores, strict=True):
        expected = is_not_improved(baseline, latest)
        assert in_database[episode.pk] == (expected, expected), (baseline, latest)


@given(baseline=st.integers(0, 27), latest=st.integers(0, 27))
def test_of_two_known_scores_exactly_one_of_improved_and_not_improved_holds(baseline, latest):
    assert is_improved(baseline, latest) != is_not_improved(baseline, latest)


def test_improved_is_below_10_or_at_most_half_the_baseline():
    assert is_improved(9, 9) and is_improved(20, 10) and not is_improved(21, 11) and not is_improved(None, 10)
    assert is_not_improved(21, 11) and is_not_improved(0, 10) and not is_not_improved(None, 12)
