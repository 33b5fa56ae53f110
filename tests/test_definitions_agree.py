"""The flag engine, the dashboard's figures, the case-review figures and the outcomes report
count the same episodes as the Python forms of the clinical definitions
(registry/definitions/, docs/clinical-definitions.md), on generated registries.

Each example writes episodes with their initial assessment and PHQ-9s in bulk, as they would
stand after months of care, lets the registry compute its summaries, runs every report over
them, and compares each figure with the count the Python definitions give from the same plain
values. No case reviews are written: every not-improving episode is unreviewed.
"""

import datetime
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consults.figures import review_figures
from patients.models import Episode
from registry.dashboard_figures import dashboard_figures
from registry.definitions.depressed import is_depressed
from registry.definitions.followup import is_followup_overdue
from registry.definitions.improvement import is_improved
from registry.definitions.not_improving import is_not_improving
from registry.definitions.remission import is_remission
from registry.definitions.response import is_response
from registry.definitions.tests.agreement import AGREEMENT, PHQ9_EDGES, TODAY, rolled_back, write_episodes
from registry.flags import refresh_flags
from registry.models import Contact, Flag, Measurement, RegistrySettings
from registry.outcomes import IMPROVEMENT_AFTER_DAYS, OUTCOME_POINTS, WINDOW_DAYS, Period, outcome_figures
from registry.summaries import refresh_summaries
from registry.thresholds import DEFAULTS

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
OTHER_CLINIC_DAYS = 56  # the other clinic's "not improving after" setting
PERIOD = Period(TODAY - 730 * DAY, TODAY)
Status = Episode.Status


@dataclass
class History:
    """One generated episode in plain values: what the Python definitions are given."""

    enrolled_on: datetime.date
    status: str
    assessed_on: datetime.date | None
    discharged_on: datetime.date | None
    discharge_reason: str
    phq9s: list[tuple[datetime.date, int]]  # in the order entered
    after_days: int = 0

    def scores_in_order(self) -> list[tuple[datetime.date, int]]:
        """By day, then by entry: the order baseline and latest are read in."""
        return [score for _, score in sorted(enumerate(self.phq9s), key=lambda pair: (pair[1][0], pair[0]))]

    @property
    def baseline(self) -> int | None:
        return self.scores_in_order()[0][1] if self.phq9s else None

    @property
    def latest(self) -> int | None:
        return self.scores_in_order()[-1][1] if self.phq9s else None

    @property
    def is_open(self) -> bool:
        return self.status != Status.DISCHARGED

    def followup_overdue(self) -> bool:
        """The initial assessment is the only completed contact, with no next-contact date set."""
        return is_followup_overdue(
            today=TODAY,
            status=self.status,
            enrolled_on=self.enrolled_on,
            initial_assessment_on=self.assessed_on,
            last_contact_on=self.assessed_on,
            next_contact_on=None,
            active_days=DEFAULTS["active_cadence_days"],
            relapse_days=DEFAULTS["relapse_prevention_cadence_days"],
        )

    def not_improving(self) -> bool:
        return is_not_improving(
            on=TODAY,
            initial_assessment_on=self.assessed_on,
            enrolled_on=self.enrolled_on,
            after_days=self.after_days,
            baseline=self.baseline,
            latest=self.latest,
        )


@st.composite
def histories(draw) -> History:
    days_enrolled = draw(st.integers(0, 700))
    enrolled_on = TODAY - days_enrolled * DAY
    status = draw(
        st.sampled_from([Status.ENROLLED, Status.ACTIVE, Status.ACTIVE, Status.RELAPSE_PREVENTION, Status.DISCHARGED])
    )
    assessed = None if status == Status.ENROLLED else draw(st.one_of(st.none(), st.integers(0, min(20, days_enrolled))))
    discharged_on, reason = None, ""
    if status == Status.DISCHARGED:
        discharged_on = enrolled_on + draw(st.integers(0, days_enrolled)) * DAY
        reason = draw(st.sampled_from([Episode.DischargeReason.GOALS_MET, Episode.DischargeReason.DECEASED]))
    totals = st.one_of(st.sampled_from(PHQ9_EDGES), st.integers(0, 27))
    phq9s = draw(st.lists(st.tuples(st.integers(0, days_enrolled), totals), max_size=8))
    return History(
        enrolled_on=enrolled_on,
        status=status,
        assessed_on=None if assessed is None else enrolled_on + assessed * DAY,
        discharged_on=discharged_on,
        discharge_reason=reason,
        phq9s=[(enrolled_on + days * DAY, total) for days, total in phq9s],
    )


def write(clinics, care_manager, generated: list[History]) -> list[Episode]:
    """Episodes, their initial assessments and PHQ-9s in four INSERTs; then the summaries."""
    episodes = write_episodes(
        clinics,
        [
            {
                "enrolled_on": h.enrolled_on,
                "status": h.status,
                "discharged_on": h.discharged_on,
                "discharge_reason": h.discharge_reason,
            }
            for h in generated
        ],
    )
    Contact.objects.bulk_create(
        Contact(
            episode=episode,
            contact_date=h.assessed_on,
            kind=Contact.Kind.INITIAL_ASSESSMENT,
            mode="phone",
            recorded_by=care_manager,
        )
        for episode, h in zip(episodes, generated, strict=True)
        if h.assessed_on
    )
    Measurement.objects.bulk_create(
        Measurement(
            episode=episode,
            instrument="PHQ9",
            taken_on=day,
            total=total,
            band="",
            total_only=True,
            recorded_by=care_manager,
        )
        for episode, h in zip(episodes, generated, strict=True)
        for day, total in h.phq9s
    )
    refresh_summaries(Episode.objects.all())
    return episodes


def expected_outcomes(generated: list[History]) -> dict[str, tuple[int, int]]:
    """measure -> (numerator, denominator), from the Python forms
    (docs/clinical-definitions.md#quality-measures)."""
    counts = {measure: [0, 0] for measure in ("improvement_rate", "consultation_rate")}
    for point in OUTCOME_POINTS:
        counts[f"response_{point}"], counts[f"remission_{point}"] = [0, 0], [0, 0]
    for h in generated:
        if h.discharge_reason == Episode.DischargeReason.DECEASED:
            continue
        scores = h.scores_in_order()
        if h.is_open and h.phq9s:
            if h.enrolled_on <= TODAY - IMPROVEMENT_AFTER_DAYS * DAY:
                counts["improvement_rate"][0] += is_improved(h.baseline, h.latest)
                counts["improvement_rate"][1] += 1
            counts["consultation_rate"][1] += h.not_improving()  # none reviewed: the numerator stays 0
        index = next(((day, total) for day, total in scores if is_depressed(total)), None)
        if index is None or not PERIOD.start <= index[0] <= PERIOD.end:
            continue
        for point, days in OUTCOME_POINTS.items():
            low, high = (days - WINDOW_DAYS) * DAY, (days + WINDOW_DAYS) * DAY
            if index[0] > min(PERIOD.end, TODAY - high):
                continue  # the window is still open
            in_window = [total for day, total in scores if index[0] + low <= day <= index[0] + high]
            outcome = in_window[-1] if in_window else None
            counts[f"response_{point}"][0] += is_response(index[1], outcome)
            counts[f"remission_{point}"][0] += is_remission(outcome)
            counts[f"response_{point}"][1] += 1
            counts[f"remission_{point}"][1] += 1
    return {measure: tuple(pair) for measure, pair in counts.items()}


@settings(AGREEMENT, max_examples=15)  # each example runs every report: 15 keep the file near 10 s
@given(generated=st.lists(histories(), min_size=15, max_size=30))
def test_every_report_counts_the_episodes_the_definitions_name(clinic, other_clinic, care_manager, generated):
    for i, h in enumerate(generated):  # even rows in `clinic` (the default days), odd in `other_clinic`
        h.after_days = OTHER_CLINIC_DAYS if i % 2 else DEFAULTS["not_improving_after_days"]
    with rolled_back():
        RegistrySettings.objects.create(clinic=other_clinic, not_improving_after_days=OTHER_CLINIC_DAYS)
        episodes = write([clinic, other_clinic], care_manager, generated)
        summaries = {
            pk: (b, latest) for pk, b, latest in Episode.objects.values_list("pk", "phq9_baseline", "phq9_latest")
        }
        refresh_flags(today=TODAY)
        flagged = set(Flag.objects.filter(kind=Flag.Kind.NOT_IMPROVING).values_list("episode_id", flat=True))
        overdue = set(Flag.objects.filter(kind=Flag.Kind.FOLLOWUP_OVERDUE).values_list("episode_id", flat=True))
        stats, dashboard_reviews = dashboard_figures(Episode.objects.open(), TODAY)
        reviews = review_figures(Episode.objects.open(), TODAY)
        figures = outcome_figures(Episode.objects.all(), PERIOD, TODAY)

    # Baseline and latest (docs/clinical-definitions.md#baseline-latest-and-change).
    assert summaries == {e.pk: (h.baseline, h.latest) for e, h in zip(episodes, generated, strict=True)}
    # The flags (docs/clinical-definitions.md#flags): not improving (active, past the mark, not
    # improved), follow-up overdue.
    not_improving = [
        e.pk for e, h in zip(episodes, generated, strict=True) if h.status == Status.ACTIVE and h.not_improving()
    ]
    assert flagged == set(not_improving)
    assert overdue == {e.pk for e, h in zip(episodes, generated, strict=True) if h.followup_overdue()}
    # The case-review figure, on the dashboard and on the review report.
    assert dashboard_reviews["not_improving"] == reviews["not_improving"] == len(not_improving)
    # The caseload statistics (docs/clinical-definitions.md#caseload-statistics).
    followed = [
        h
        for h in generated
        if h.is_open and is_depressed(h.baseline) and h.scores_in_order()[-1][0] > h.scores_in_order()[0][0]
    ]
    assert (stats["followed_depressed"], stats["response"], stats["remission"]) == (
        len(followed),
        sum(is_response(h.baseline, h.latest) for h in followed),
        sum(is_remission(h.latest) for h in followed),
    )
    # The outcomes report (docs/clinical-definitions.md#quality-measures).
    expected = expected_outcomes(generated)
    assert {m: (figures.total(m).numerator, figures.total(m).denominator) for m in expected} == expected
