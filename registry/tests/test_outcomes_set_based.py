"""The outcomes report's set-based queries give every figure the per-episode subqueries gave
(registry/tests/outcomes_reference.py), on generated registries: the demo seed, then edge cases
the seed rarely makes (scores entered in error, two PHQ-9s on one day, deceased patients)."""

import datetime
import random

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from patients.models import Episode
from registry.demo import seed_demo
from registry.models import Contact, Measurement
from registry.outcome_views import default_end
from registry.outcomes import MEASURES, Period, outcome_figures
from registry.tests import outcomes_reference as reference
from registry.trends import monthly_trends
from tests.factories import EpisodeFactory, record_score

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def roughen(rng: random.Random) -> None:
    """Rows at the definitions' edges: entered in error, same-day PHQ-9s, deceased patients."""
    now = timezone.now()
    measurements = list(Measurement.objects.order_by("pk").values_list("pk", flat=True))
    Measurement.objects.filter(pk__in=rng.sample(measurements, len(measurements) // 15)).update(entered_in_error_at=now)
    contacts = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    Contact.objects.filter(pk__in=rng.sample(contacts, len(contacts) // 15)).update(entered_in_error_at=now)
    for episode in Episode.objects.order_by("pk"):
        phq9s = list(episode.measurements.filter(instrument="PHQ9").order_by("taken_on", "pk"))
        for later in rng.sample(range(1, len(phq9s)), min(3, max(len(phq9s) - 1, 0))):
            # Onto the day before's: a tie broken by entry order (the first above 9, the latest).
            Measurement.objects.filter(pk=phq9s[later].pk).update(taken_on=phq9s[later - 1].taken_on)
    discharged = Episode.objects.exclude(discharged_on=None).order_by("pk")
    Episode.objects.filter(pk__in=list(discharged.values_list("pk", flat=True)[::4])).update(
        discharge_reason=Episode.DischargeReason.DECEASED
    )
    Measurement.objects.filter(pk__in=measurements[::11]).update(taken_on=F("taken_on") - 30 * DAY)


def periods(today: datetime.date) -> list[Period]:
    end = default_end(today)
    return [
        Period(end.replace(year=end.year - 1) + DAY, end),  # the page's default year
        Period(today - 364 * DAY, today),  # the latest year: windows still open
        Period(today - 1000 * DAY, today - 20 * DAY),  # about three years, cut mid-month
        Period(today - 200 * DAY, today - 190 * DAY),  # days inside one or two months
    ]


def assert_same_figures(episodes, period: Period, today: datetime.date) -> None:
    new, old = outcome_figures(episodes, period, today), reference.outcome_figures(episodes, period, today)
    assert new.groups() == old.groups()
    for measure in MEASURES:
        assert {g: new.of(measure, *g) for g in old.groups()} == {g: old.of(measure, *g) for g in old.groups()}, measure
    months = [first.replace(day=1) for first, _ in period.months()]
    assert [new.by_month["contact_rate"][m] for m in months] == [old.by_month["contact_rate"][m] for m in months]
    trends = monthly_trends(episodes, period)
    assert [row["improvement"] for row in trends] == list(reference.improvement_by_month_end(episodes, period).values())


@pytest.mark.parametrize("seed", [11, 12])
def test_set_based_figures_equal_the_per_episode_subqueries(seed):
    today = timezone.localdate()
    seed_demo(patients=40, seed=seed, today=today, refresh=False)
    roughen(random.Random(seed))
    care_manager = User.objects.get(username="maria")
    scopes = [Episode.objects.all(), Episode.objects.filter(patient__care_manager=care_manager)]

    for period in periods(today):
        for episodes in scopes:
            assert_same_figures(episodes, period, today)


def test_of_two_index_scores_on_one_day_the_first_entered_is_the_index(clinic, care_manager):
    today = timezone.localdate()
    index_day = today - 400 * DAY
    episode = EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=index_day, status="active"
    )
    record_score(episode, "PHQ9", 20, index_day, care_manager)
    record_score(episode, "PHQ9", 12, index_day, care_manager)  # entered second: not the index
    record_score(episode, "PHQ9", 8, index_day + 180 * DAY, care_manager)  # at most half of 20, not of 12
    period = Period(index_day, today)

    response = outcome_figures(Episode.objects.all(), period, today).total("response_6m")

    assert (response.numerator, response.denominator) == (1, 1)
    assert_same_figures(Episode.objects.all(), period, today)
