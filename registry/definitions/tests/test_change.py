"""The change from baseline: the Python form a page shows and the ORM form the dashboard sorts
by give the same whole percent, or both none (registry/definitions/change.py)."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from patients.models import Episode
from registry.definitions.change import percent_change, percent_change_expression
from registry.definitions.tests.agreement import AGREEMENT, phq9_scores, rolled_back, write_episodes

pytestmark = pytest.mark.django_db

gad7_scores = st.one_of(st.none(), st.integers(0, 21))


@AGREEMENT
@given(scores=st.lists(st.tuples(phq9_scores, phq9_scores, gad7_scores, gad7_scores), min_size=1, max_size=30))
@example(scores=[(8, 7, 8, 9), (16, 14, 3, 2), (0, 5, 0, 0), (None, None, 21, 0), (27, 27, 1, None)])
def test_percent_change_forms_agree_on_every_episode(clinic, scores):
    rows = [
        {"phq9_baseline": pb, "phq9_latest": pl, "gad7_baseline": gb, "gad7_latest": gl} for pb, pl, gb, gl in scores
    ]
    with rolled_back():
        episodes = write_episodes([clinic], rows)
        in_database = {
            pk: (phq9, gad7)
            for pk, phq9, gad7 in Episode.objects.annotate(
                phq9=percent_change_expression("phq9"), gad7=percent_change_expression("gad7")
            ).values_list("pk", "phq9", "gad7")
        }

    for episode, (pb, pl, gb, gl) in zip(episodes, scores, strict=True):
        assert in_database[episode.pk] == (percent_change(pb, pl), percent_change(gb, gl)), (pb, pl, gb, gl)


def test_percent_change_rounds_half_up_and_is_none_from_a_zero_baseline():
    assert (percent_change(8, 7), percent_change(16, 14), percent_change(0, 5), percent_change(4, 6)) == (
        13,
        13,
        None,
        -50,
    )
