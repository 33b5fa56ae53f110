"""The case review program's figures (consults/figures.py,
docs/clinical-definitions.md#case-review-figures) on hand-built caseloads, each edge of each
definition hit exactly, with exact counts and percentages."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Role
from consults import notes
from consults.figures import DEFINITIONS, review_figures
from consults.models import Recommendation
from consults.services import record_case_review
from patients import services as patient_services
from patients.models import Episode
from registry.models import RegistrySettings
from tests.factories import EpisodeFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def today() -> datetime.date:
    return timezone.localdate()


def ago(days: int) -> datetime.date:
    return today() - days * DAY


@pytest.fixture
def consultant(clinic, other_clinic):
    return UserFactory(username="psych", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic, other_clinic])


def enrolled(clinic, care_manager, days_ago: int) -> Episode:
    return EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=ago(days_ago))


def write(episode, consultant, on: datetime.date):
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    return notes.save_draft(
        review=note, by=consultant, reviewed_on=on, assessment="Discussed.", diagnoses=["F33.1"], summary=""
    )


def signed(episode, consultant, on: datetime.date):
    note = write(episode, consultant, on)
    notes.sign(review=note, by=consultant)
    return note


def figures(episodes=None) -> dict:
    return review_figures(episodes if episodes is not None else Episode.objects.open(), today())


def new_patient_figures(result: dict) -> tuple:
    return result["new_due"], result["new_reviewed"], result["new_reviewed_pct"]


def not_improving_figures(result: dict) -> tuple:
    return result["not_improving"], result["not_improving_reviewed"], result["not_improving_reviewed_pct"]


# --- new patients reviewed within 4 weeks ---------------------------------------------------


@pytest.mark.parametrize(("days_ago", "due"), [(29, True), (28, True), (27, False)])
def test_a_new_patient_is_due_a_review_from_28_days_after_enrollment(clinic, care_manager, days_ago, due):
    enrolled(clinic, care_manager, days_ago)

    result = figures()

    assert new_patient_figures(result) == ((1, 0, 0) if due else (0, 0, None))


@pytest.mark.parametrize(("review_day", "in_time"), [(0, True), (28, True), (29, False)])
def test_a_review_counts_for_a_new_patient_up_to_day_28_after_enrollment(
    clinic, care_manager, consultant, review_day, in_time
):
    episode = enrolled(clinic, care_manager, 40)
    signed(episode, consultant, episode.enrolled_on + review_day * DAY)

    result = figures()

    assert new_patient_figures(result) == ((1, 1, 100) if in_time else (1, 0, 0))


def test_a_draft_is_not_a_review_of_a_new_patient(clinic, care_manager, consultant):
    episode = enrolled(clinic, care_manager, 40)
    write(episode, consultant, episode.enrolled_on + 5 * DAY)

    result = figures()

    assert new_patient_figures(result) == (1, 0, 0)


def test_new_patients_reviewed_within_4_weeks_in_exact_numbers(clinic, care_manager, consultant):
    just_due = enrolled(clinic, care_manager, 28)
    signed(just_due, consultant, today())  # day 28: due, and in time
    not_yet_due = enrolled(clinic, care_manager, 27)
    signed(not_yet_due, consultant, today())  # reviewed, but not counted at all yet
    on_day_28 = enrolled(clinic, care_manager, 40)
    signed(on_day_28, consultant, on_day_28.enrolled_on + 28 * DAY)
    on_day_29 = enrolled(clinic, care_manager, 40)
    signed(on_day_29, consultant, on_day_29.enrolled_on + 29 * DAY)
    draft_only = enrolled(clinic, care_manager, 40)
    write(draft_only, consultant, draft_only.enrolled_on + 3 * DAY)
    enrolled(clinic, care_manager, 40)  # never reviewed
    held_outside = enrolled(clinic, care_manager, 60)
    record_case_review(
        episode=held_outside, reviewed_on=ago(50), consultant=consultant, summary="By phone.", by=care_manager
    )

    result = figures()

    assert new_patient_figures(result) == (6, 3, 50)


def test_figures_count_only_the_episodes_given(clinic, care_manager, consultant):
    mine = enrolled(clinic, care_manager, 40)
    signed(mine, consultant, ago(30))
    colleague = UserFactory(clinics=[clinic])
    enrolled(clinic, colleague, 40)
    enrolled(clinic, colleague, 40)

    everyone = figures()
    just_mine = figures(Episode.objects.open().filter(patient__care_manager=care_manager))

    assert new_patient_figures(everyone) == (3, 1, 33)
    assert new_patient_figures(just_mine) == (1, 1, 100)


# --- not-improving patients reviewed in the last 60 days ------------------------------------


def in_treatment(clinic, care_manager, *, assessed_days_ago: int = 80, baseline: int = 20, latest: int = 15):
    """Active since an initial assessment (PHQ-9 = baseline) `assessed_days_ago` days ago, a
    PHQ-9 = latest five days ago."""
    episode = enrolled(clinic, care_manager, assessed_days_ago + 5)
    record_contact(episode, ago(assessed_days_ago), care_manager, kind="initial_assessment")
    record_score(episode, "PHQ9", baseline, ago(assessed_days_ago), care_manager)
    record_contact(episode, ago(5), care_manager)
    record_score(episode, "PHQ9", latest, ago(5), care_manager)
    episode.refresh_from_db()
    assert (episode.status, episode.phq9_baseline, episode.phq9_latest) == ("active", baseline, latest)
    return episode


@pytest.mark.parametrize(("days", "counted"), [(71, True), (70, True), (69, False)])
def test_not_improving_from_70_days_after_the_initial_assessment(clinic, care_manager, days, counted):
    in_treatment(clinic, care_manager, assessed_days_ago=days)

    result = figures()

    assert not_improving_figures(result) == ((1, 0, 0) if counted else (0, 0, None))


@pytest.mark.parametrize(("latest", "counted"), [(10, True), (9, False)])
def test_not_improving_needs_the_latest_phq9_at_10_or_more(clinic, care_manager, latest, counted):
    in_treatment(clinic, care_manager, baseline=15, latest=latest)  # 33% and 40% better: both under 50%

    result = figures()

    assert not_improving_figures(result)[0] == (1 if counted else 0)


@pytest.mark.parametrize(
    ("baseline", "latest", "counted"),
    [(20, 11, True), (20, 10, False), (22, 12, True), (22, 11, False)],
    ids=["45%", "50%", "45.5%", "50%-of-22"],
)
def test_not_improving_needs_less_than_50_percent_change(clinic, care_manager, baseline, latest, counted):
    in_treatment(clinic, care_manager, baseline=baseline, latest=latest)

    result = figures()

    assert not_improving_figures(result)[0] == (1 if counted else 0)


@pytest.mark.parametrize(("reviewed_days_ago", "reviewed"), [(0, True), (60, True), (61, False)])
def test_a_not_improving_patient_counts_as_reviewed_for_60_days(
    clinic, care_manager, consultant, reviewed_days_ago, reviewed
):
    episode = in_treatment(clinic, care_manager)
    signed(episode, consultant, ago(reviewed_days_ago))

    result = figures()

    assert not_improving_figures(result) == ((1, 1, 100) if reviewed else (1, 0, 0))


def test_not_improving_counts_only_active_treatment(clinic, care_manager):
    relapse_prevention = in_treatment(clinic, care_manager)
    patient_services.change_status(episode=relapse_prevention, status="relapse_prevention", on=today(), by=care_manager)
    not_assessed = enrolled(clinic, care_manager, 80)  # screened at 20 and 15, no initial assessment yet
    record_score(not_assessed, "PHQ9", 20, ago(78), care_manager)
    record_score(not_assessed, "PHQ9", 15, ago(5), care_manager)

    result = figures()

    assert set(Episode.objects.values_list("status", flat=True)) == {"relapse_prevention", "enrolled"}
    assert not_improving_figures(result) == (0, 0, None)


def test_not_improving_patients_reviewed_in_the_last_60_days_in_exact_numbers(clinic, care_manager, consultant):
    reviewed_60 = in_treatment(clinic, care_manager)
    signed(reviewed_60, consultant, ago(60))
    reviewed_10 = in_treatment(clinic, care_manager)
    signed(reviewed_10, consultant, ago(10))
    reviewed_61 = in_treatment(clinic, care_manager)
    signed(reviewed_61, consultant, ago(61))
    draft_only = in_treatment(clinic, care_manager)
    write(draft_only, consultant, ago(1))
    in_treatment(clinic, care_manager)  # never reviewed
    in_treatment(clinic, care_manager, assessed_days_ago=69)  # not yet at the mark
    in_treatment(clinic, care_manager, baseline=15, latest=9)  # below 10
    in_treatment(clinic, care_manager, baseline=20, latest=10)  # a response

    result = figures()

    assert not_improving_figures(result) == (5, 2, 40)
    assert result["target"] == 80


def test_each_clinics_not_improving_days_apply_to_its_own_patients(clinic, other_clinic, care_manager, consultant):
    RegistrySettings.objects.create(clinic=clinic, not_improving_after_days=56)
    other_cm = UserFactory(clinics=[other_clinic])
    in_treatment(clinic, care_manager, assessed_days_ago=56)
    in_treatment(clinic, care_manager, assessed_days_ago=55)
    in_treatment(other_clinic, other_cm, assessed_days_ago=56)
    in_treatment(other_clinic, other_cm, assessed_days_ago=70)

    ours = figures(Episode.objects.open().filter(patient__clinic=clinic))
    theirs = figures(Episode.objects.open().filter(patient__clinic=other_clinic))
    both = figures()

    assert not_improving_figures(ours) == (1, 0, 0)
    assert not_improving_figures(theirs) == (1, 0, 0)
    assert not_improving_figures(both) == (2, 0, 0)


# --- recommendations by status --------------------------------------------------------------


def test_recommendations_are_counted_by_status_for_signed_notes_of_the_episodes_given(clinic, care_manager, consultant):
    pcp = UserFactory(role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])
    episode = enrolled(clinic, care_manager, 40)
    note = write(episode, consultant, ago(2))
    made = [
        notes.add_recommendation(review=note, by=consultant, kind="start_medication", drug=f"drug {n}")
        for n in range(7)
    ]
    notes.sign(review=note, by=consultant)
    _, _, communicated, accepted, modified, declined, implemented = made
    notes.communicate(recommendation=communicated, by=care_manager, when=timezone.now() - HOUR, how="phone")
    notes.respond(recommendation=accepted, by=pcp, response="accepted")
    notes.respond(recommendation=modified, by=pcp, response="modified", note="Half the dose.")
    notes.respond(recommendation=declined, by=pcp, response="declined", note="Interacts with warfarin.")
    notes.respond(recommendation=implemented, by=pcp, response="accepted")
    notes.mark_implemented(recommendation=implemented, by=care_manager, on=today())
    unsigned = write(episode, consultant, today())
    notes.add_recommendation(review=unsigned, by=consultant, kind="continue")
    someone_elses = enrolled(clinic, UserFactory(clinics=[clinic]), 40)
    elsewhere = write(someone_elses, consultant, today())
    notes.add_recommendation(review=elsewhere, by=consultant, kind="continue")
    notes.sign(review=elsewhere, by=consultant)

    result = figures(Episode.objects.open().filter(patient__care_manager=care_manager))

    assert result["recommendations"] == [
        ("pending", "Pending", 2),
        ("communicated", "Communicated to the PCP", 1),
        ("accepted", "Accepted by the PCP", 1),
        ("modified", "Accepted with changes", 1),
        ("declined", "Declined", 1),
        ("implemented", "Implemented", 1),
    ]
    assert result["open_recommendations"] == 5
    assert [status for status, _, _ in result["recommendations"]] == Recommendation.Status.values


def test_an_empty_caseload_has_counts_of_zero_and_no_percentages(clinic):
    result = figures()

    assert new_patient_figures(result) == (0, 0, None)
    assert not_improving_figures(result) == (0, 0, None)
    assert result["open_recommendations"] == 0
    assert {n for _, _, n in result["recommendations"]} == {0}


def test_the_definitions_state_the_windows_the_figures_use():
    new, not_improving, recommendations = DEFINITIONS

    assert "enrolled at least 28 days ago" in new and "within 28 days of enrollment" in new
    assert "signed" in new and "signed" in not_improving and "signed" in recommendations
    assert "last 60 days" in not_improving and "target 80%" in not_improving
    assert "10 or more" in not_improving and "less than 50% below baseline" in not_improving
