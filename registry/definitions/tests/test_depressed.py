"""Depressed: the Python and ORM forms agree (registry/definitions/depressed.py)."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patients.models import Episode
from registry.definitions.depressed import depressed_q, is_depressed
from registry.definitions.tests.agreement import AGREEMENT, phq9_scores, rolled_back, write_episodes

pytestmark = pytest.mark.django_db


@AGREEMENT
@given(baselines=st.lists(phq9_scores, min_size=1, max_size=30))
@example(baselines=[9, 10, None, 0, 27])
def test_depressed_forms_agree_on_every_episode(clinic, baselines):
    with rolled_back():
        episodes = write_episodes([clinic], [{"phq9_baseline": b, "phq9_latest": b} for b in baselines])
        in_database = set(Episode.objects.filter(depressed_q("phq9_baseline")).values_list("pk", flat=True))

    assert in_database == {e.pk for e, b in zip(episodes, baselines, strict=True) if is_depressed(b)}


def test_depressed_is_a_phq9_of_10_or_more():
    assert is_depressed(10) and not is_depressed(9) and not is_depressed(None)
