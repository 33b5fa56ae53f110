"""Scoring against the published tables (docs/clinical-definitions.md#instruments and
docs/clinical-definitions.md#baseline-latest-and-change): pure functions, no database."""

import pytest

from registry.scoring import (
    GAD2,
    GAD7,
    PHQ2,
    PHQ9,
    ScoringError,
    is_improved,
    is_remission,
    is_response,
    percent_change,
    score,
)


def answers_for(instrument, total: int) -> list[int]:
    """Fill items from the first, 3 at a time, so that they sum to total."""
    return [min(instrument.max_answer, max(0, total - instrument.max_answer * i)) for i in range(instrument.item_count)]


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_total_falls_in_published_band(total, band):
    answers = answers_for(PHQ9, total)

    result = score(PHQ9, answers)

    assert result.total == total
    assert result.band == band


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_total_falls_in_published_band(total, band):
    answers = answers_for(GAD7, total)

    result = score(GAD7, answers)

    assert result.total == total
    assert result.band == band


@pytest.mark.parametrize("instrument", [PHQ9, GAD7])
@pytest.mark.parametrize(("total", "positive"), [(9, False), (10, True)])
def test_full_instrument_screens_positive_from_10(instrument, total, positive):
    result = score(instrument, answers_for(instrument, total))

    assert result.positive is positive


@pytest.mark.parametrize("instrument", [PHQ2, GAD2])
@pytest.mark.parametrize(
    ("answers", "positive", "band"),
    [
        ([0, 0], False, "negative screen"),
        ([1, 1], False, "negative screen"),
        ([2, 0], False, "negative screen"),
        ([2, 1], True, "positive screen"),
        ([3, 3], True, "positive screen"),
    ],
)
def test_two_item_screen_is_positive_from_3(instrument, answers, positive, band):
    result = score(instrument, answers)

    assert result.total == sum(answers)
    assert result.positive is positive
    assert result.band == band


@pytest.mark.parametrize(("instrument", "count"), [(PHQ9, 8), (PHQ9, 10), (GAD7, 6), (GAD7, 9), (PHQ2, 3)])
def test_wrong_number_of_answers_is_refused(instrument, count):
    with pytest.raises(ScoringError) as error:
        score(instrument, [1] * count)

    assert f"needs {instrument.item_count} answers, got {count}" in str(error.value)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (None, "item 4 is not answered"),
        (-1, "item 4 must be 0-3, not -1"),
        (4, "item 4 must be 0-3, not 4"),
        (True, "item 4 must be 0-3, not True"),
        (False, "item 4 must be 0-3, not False"),
        ("2", "item 4 must be 0-3, not '2'"),
        (2.0, "item 4 must be 0-3, not 2.0"),
    ],
)
@pytest.mark.parametrize("instrument", [PHQ9, GAD7])
def test_bad_answer_is_refused_naming_the_item(instrument, bad, says):
    answers = [1] * instrument.item_count
    answers[3] = bad

    with pytest.raises(ScoringError) as error:
        score(instrument, answers)

    assert str(error.value) == f"{instrument.name} {says}."


def test_bad_item_9_is_named_as_item_9():
    answers = [0] * 8 + [4]

    with pytest.raises(ScoringError, match=r"PHQ-9 item 9 must be 0-3, not 4"):
        score(PHQ9, answers)


@pytest.mark.parametrize(
    ("baseline", "latest", "change"),
    [
        (20, 10, 50),
        (14, 7, 50),  # exactly half
        (8, 7, 13),  # 12.5 rounds up
        (3, 2, 33),  # 33.3 rounds down
        (3, 1, 67),  # 66.7 rounds up
        (27, 0, 100),
        (12, 12, 0),
        (10, 15, -50),  # worse: negative
        (10, 13, -30),
        (0, 0, None),  # undefined when the baseline is 0
        (0, 5, None),
        (None, 5, None),
        (10, None, None),
    ],
)
def test_percent_change_is_whole_percent_rounded_half_up(baseline, latest, change):
    assert percent_change(baseline, latest) == change


@pytest.mark.parametrize(
    ("baseline", "latest", "response"),
    [
        (100, 51, False),  # 49%
        (100, 50, True),  # 50%
        (20, 11, False),  # 45%
        (20, 10, True),  # 50%
        (27, 14, False),  # 48.1%
        (27, 13, True),  # 51.9%
        (10, 0, True),
        (0, 0, False),
        (None, 3, False),
        (10, None, False),
    ],
)
def test_response_is_a_fall_of_at_least_half(baseline, latest, response):
    assert is_response(baseline, latest) is response


@pytest.mark.parametrize(("latest", "remission"), [(0, True), (4, True), (5, False), (20, False), (None, False)])
def test_remission_is_a_latest_score_below_5(latest, remission):
    assert is_remission(latest) is remission


@pytest.mark.parametrize(
    ("baseline", "latest", "improved"),
    [
        (15, 9, True),  # below 10, 40% change
        (15, 10, False),  # 10 and only 33% change
        (11, 10, False),
        (24, 12, True),  # 10 or more, but a 50% response
        (24, 13, False),
        (0, 9, True),  # change undefined, still below 10
        (None, 9, True),
        (None, 10, False),
        (15, None, False),
    ],
)
def test_improved_is_latest_below_10_or_a_response(baseline, latest, improved):
    assert is_improved(baseline, latest) is improved
