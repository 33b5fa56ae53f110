"""Response's Python, ORM and SQL forms agree (registry/definitions/response.py)."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patients.models import Episode
from registry.definitions.response import is_response, response_q, response_sql
from registry.definitions.tests.agreement import AGREEMENT, both_forms, phq9_scores, rolled_back, write_episodes

pytestmark = pytest.mark.django_db


@AGREEMENT
@given(scores=st.lists(st.tuples(phq9_scores, phq9_scores), min_size=1, max_size=30))
@example(scores=[(10, 5), (10, 6), (11, 5), (0, 0), (None, 3), (3, None), (27, 13), (27, 14)])
def test_response_forms_agree_on_every_episode(clinic, scores):
    with rolled_back():
        episodes = write_episodes([clinic], [{"phq9_baseline": b, "phq9_latest": latest} for b, latest in scores])
        in_database = both_forms(
            Episode.objects.all(),
            response_q("phq9_baseline", "phq9_latest"),
            response_sql("s.baseline", "s.latest"),
            baseline="phq9_baseline",
            latest="phq9_latest",
        )

    for episode, (baseline, latest) in zip(episodes, scores, strict=True):
        expected = is_response(baseline, latest)
        assert in_database[episode.pk] == (expected, expected), (baseline, latest)


def test_response_is_at_most_half_the_baseline_never_from_a_zero_baseline():
    assert is_response(10, 5) and not is_response(10, 6) and not is_response(0, 0) and not is_response(None, 0)
