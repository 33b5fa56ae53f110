"""Remission's Python, ORM and SQL forms agree (registry/definitions/remission.py)."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patients.models import Episode
from registry.definitions.remission import is_remission, remission_q, remission_sql
from registry.definitions.tests.agreement import AGREEMENT, both_forms, phq9_scores, rolled_back, write_episodes

pytestmark = pytest.mark.django_db


@AGREEMENT
@given(latests=st.lists(phq9_scores, min_size=1, max_size=30))
@example(latests=[4, 5, 0, None, 27])
def test_remission_forms_agree_on_every_episode(clinic, latests):
    with rolled_back():
        episodes = write_episodes([clinic], [{"phq9_baseline": 20, "phq9_latest": latest} for latest in latests])
        in_database = both_forms(
            Episode.objects.all(), remission_q("phq9_latest"), remission_sql("s.latest"), latest="phq9_latest"
        )

    for episode, latest in zip(episodes, latests, strict=True):
        expected = is_remission(latest)
        assert in_database[episode.pk] == (expected, expected), latest


def test_remission_is_below_5():
    assert is_remission(4) and not is_remission(5) and not is_remission(None)
