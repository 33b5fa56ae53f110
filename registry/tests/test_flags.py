"""The set-based flag rules (docs/clinical-definitions.md#flags), their per-clinic thresholds, and refresh_flags.

Every scenario is dated from BASE, a day far enough in the past that the services accept
each date, and the rules are run with `today=` so that each threshold is hit exactly.
"""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from consults import notes
from consults.services import record_case_review
from patients import services as patient_services
from patients.models import Episode
from registry import flags, services
from registry.flags import RULE_KINDS, refresh_flags
from registry.models import Flag, RegistrySettings
from tests.factories import EpisodeFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
DAY = datetime.timedelta(days=1)
BASE = timezone.localdate() - 300 * DAY


def on(n: int) -> datetime.date:
    """The day n days after BASE."""
    return BASE + n * DAY


def open_kinds(episode) -> set[str]:
    return set(Flag.objects.filter(episode=episode, resolved_at__isnull=True).values_list("kind", flat=True))


def open_flag(episode, kind) -> Flag:
    return Flag.objects.get(episode=episode, kind=kind, resolved_at__isnull=True)


def enrolled(clinic, care_manager, day: int = 0) -> Episode:
    return EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=on(day))


def assess(episode, day: int, by, phq9: int | None = None, **fields):
    """The initial assessment (reached), with a PHQ-9 taken at it when given; the episode goes active."""
    contact = record_contact(episode, on(day), by, kind="initial_assessment", **fields)
    if phq9 is not None:
        record_score(episode, "PHQ9", phq9, on(day), by)
    episode.refresh_from_db()
    return contact


def set_status(episode, status, day: int, by, **fields) -> Episode:
    return patient_services.change_status(episode=episode, status=status, on=on(day), by=by, **fields)


@pytest.fixture
def consultant(clinic):
    return UserFactory(username="psych", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])


def review(episode, day: int, consultant, by):
    return record_case_review(episode=episode, reviewed_on=on(day), consultant=consultant, summary="Discussed.", by=by)


def recommend(episode, day: int, consultant, kind="start_medication", drug="sertraline"):
    """A signed note of day `day` with one recommendation, still pending."""
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(review=note, by=consultant, reviewed_on=on(day), assessment="MDD.", diagnoses=[], summary="")
    recommendation = notes.add_recommendation(review=note, by=consultant, kind=kind, drug=drug, dose="50 mg")
    notes.sign(review=note, by=consultant)
    recommendation.refresh_from_db()
    return recommendation


# --- followup_overdue ----------------------------------------------------------------------


@pytest.mark.parametrize(("days_since", "flagged"), [(13, False), (14, False), (15, True)])
def test_followup_overdue_in_active_treatment_after_more_than_14_days_since_the_last_contact(
    clinic, care_manager, days_since, flagged
):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)
    record_contact(episode, on(10), care_manager)

    refresh_flags(today=on(10 + days_since))

    assert (Kind.FOLLOWUP_OVERDUE in open_kinds(episode)) is flagged


def test_followup_cadence_counts_from_the_initial_assessment_when_it_is_the_only_contact(clinic, care_manager):
    episode = enrolled(clinic, care_manager)
    assess(episode, 5, care_manager)

    refresh_flags(today=on(19))
    before = open_kinds(episode)
    refresh_flags(today=on(20))

    assert Kind.FOLLOWUP_OVERDUE not in before
    assert Kind.FOLLOWUP_OVERDUE in open_kinds(episode)


@pytest.mark.parametrize(("days_after_next_date", "flagged"), [(0, False), (1, True)])
def test_followup_overdue_the_day_after_the_next_contact_date_set_at_the_last_contact(
    clinic, care_manager, days_after_next_date, flagged
):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)
    record_contact(episode, on(10), care_manager, next_contact_on=on(17))

    refresh_flags(today=on(17 + days_after_next_date))

    assert (Kind.FOLLOWUP_OVERDUE in open_kinds(episode)) is flagged


def test_a_next_contact_date_set_at_an_earlier_contact_no_longer_counts(clinic, care_manager):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager, next_contact_on=on(3))
    record_contact(episode, on(10), care_manager)

    refresh_flags(today=on(20))

    assert Kind.FOLLOWUP_OVERDUE not in open_kinds(episode)


@pytest.mark.parametrize(("days_since", "flagged"), [(30, False), (31, True)])
def test_followup_overdue_in_relapse_prevention_after_more_than_30_days(clinic, care_manager, days_since, flagged):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)
    set_status(episode, Episode.Status.RELAPSE_PREVENTION, 5, care_manager)
    record_contact(episode, on(10), care_manager, kind="relapse_prevention")

    refresh_flags(today=on(10 + days_since))

    assert (Kind.FOLLOWUP_OVERDUE in open_kinds(episode)) is flagged


def test_an_outreach_attempt_that_did_not_reach_the_patient_is_not_a_contact(clinic, care_manager):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)
    record_contact(episode, on(10), care_manager)
    record_contact(episode, on(20), care_manager, kind="outreach", reached=False, next_contact_on=on(40))

    refresh_flags(today=on(25))

    episode.refresh_from_db()
    assert episode.last_contact_on == on(10)
    assert Kind.FOLLOWUP_OVERDUE in open_kinds(episode)


def test_no_followup_overdue_before_the_initial_assessment(clinic, care_manager):
    episode = enrolled(clinic, care_manager)

    refresh_flags(today=on(20))

    assert Kind.FOLLOWUP_OVERDUE not in open_kinds(episode)


# --- not_improving -------------------------------------------------------------------------


def not_improving_case(clinic, care_manager, baseline: int = 20, latest: int = 15, assessed_on: int = 1) -> Episode:
    """Active since the initial assessment (PHQ-9 = baseline), a later PHQ-9 = latest."""
    episode = enrolled(clinic, care_manager)
    assess(episode, assessed_on, care_manager, phq9=baseline)
    record_score(episode, "PHQ9", latest, on(assessed_on + 40), care_manager)
    episode.refresh_from_db()
    assert (episode.phq9_baseline, episode.phq9_latest) == (baseline, latest)
    return episode


@pytest.mark.parametrize(("days_since", "flagged"), [(69, False), (70, True)])
def test_not_improving_from_70_days_after_the_initial_assessment(clinic, care_manager, days_since, flagged):
    episode = not_improving_case(clinic, care_manager)

    refresh_flags(today=on(1 + days_since))

    assert (Kind.NOT_IMPROVING in open_kinds(episode)) is flagged


def test_not_improving_counts_from_the_initial_assessment_not_from_enrollment(clinic, care_manager):
    episode = not_improving_case(clinic, care_manager, assessed_on=20)

    refresh_flags(today=on(85))  # 85 days since enrollment, 65 since the initial assessment

    assert Kind.NOT_IMPROVING not in open_kinds(episode)


@pytest.mark.parametrize(("latest", "flagged"), [(9, False), (10, True)])
def test_not_improving_needs_the_latest_phq9_at_10_or_more(clinic, care_manager, latest, flagged):
    episode = not_improving_case(clinic, care_manager, baseline=15, latest=latest)  # 40% and 33% better

    refresh_flags(today=on(71))

    assert (Kind.NOT_IMPROVING in open_kinds(episode)) is flagged


@pytest.mark.parametrize(
    ("baseline", "latest", "flagged"),
    [
        (20, 11, True),  # 45%
        (20, 10, False),  # 50%: a response
        (22, 12, True),  # 45.5%
        (22, 11, False),  # 50%
        (24, 13, True),  # 45.8%
        (24, 12, False),  # 50%
        (23, 12, True),  # 47.8% (item 9 at 0 caps the total at 24: 23 is the closest to 50% below it)
        (23, 11, False),  # 52.2%
    ],
)
def test_not_improving_needs_less_than_50_percent_change(clinic, care_manager, baseline, latest, flagged):
    episode = not_improving_case(clinic, care_manager, baseline=baseline, latest=latest)

    refresh_flags(today=on(71))

    assert (Kind.NOT_IMPROVING in open_kinds(episode)) is flagged


def test_not_improving_needs_a_phq9(clinic, care_manager):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)
    record_score(episode, "GAD7", 18, on(40), care_manager)

    refresh_flags(today=on(80))

    assert Kind.NOT_IMPROVING not in open_kinds(episode)


@pytest.mark.parametrize(("reviewed_days_ago", "flagged"), [(0, False), (27, False), (28, False), (29, True)])
def test_a_case_review_in_the_last_28_days_holds_off_not_improving(
    clinic, care_manager, consultant, reviewed_days_ago, flagged
):
    episode = not_improving_case(clinic, care_manager)
    today = 75
    review(episode, today - reviewed_days_ago, consultant, care_manager)

    refresh_flags(today=on(today))

    assert (Kind.NOT_IMPROVING in open_kinds(episode)) is flagged


@pytest.mark.parametrize("status", [Episode.Status.RELAPSE_PREVENTION, Episode.Status.ENROLLED])
def test_not_improving_only_in_active_treatment(clinic, care_manager, status):
    episode = enrolled(clinic, care_manager)
    if status == Episode.Status.RELAPSE_PREVENTION:
        assess(episode, 1, care_manager, phq9=20)
        set_status(episode, status, 30, care_manager)
    else:  # still waiting for the initial assessment
        record_score(episode, "PHQ9", 20, on(1), care_manager)
    record_score(episode, "PHQ9", 18, on(40), care_manager)
    episode.refresh_from_db()
    assert episode.status == status

    refresh_flags(today=on(90))

    assert Kind.NOT_IMPROVING not in open_kinds(episode)


# --- new_patient ---------------------------------------------------------------------------


def test_new_patient_is_raised_for_an_open_episode_never_discussed(clinic, care_manager):
    episode = enrolled(clinic, care_manager, day=100)

    refresh_flags(today=on(100))

    flag = open_flag(episode, Kind.NEW_PATIENT)
    assert flag.raised_by is None
    assert flag.reason == "Not yet discussed at a psychiatric case review."


def test_new_patient_is_resolved_automatically_after_the_case_review(clinic, care_manager, consultant):
    episode = enrolled(clinic, care_manager, day=100)
    refresh_flags(today=on(100))
    flag = open_flag(episode, Kind.NEW_PATIENT)

    review(episode, 105, consultant, care_manager)
    refresh_flags(today=on(106))

    flag.refresh_from_db()
    assert flag.resolved_at is not None
    assert flag.resolved_by is None
    assert flag.resolution_note.startswith("Resolved automatically: ")
    assert "new patient" in flag.resolution_note
    assert Kind.NEW_PATIENT not in open_kinds(episode)


def test_recording_a_case_review_queues_the_refresh_that_clears_new_patient(
    clinic, care_manager, consultant, django_capture_on_commit_callbacks
):
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager)
    refresh_flags()
    assert Kind.NEW_PATIENT in open_kinds(episode)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record_case_review(
            episode=episode, reviewed_on=timezone.localdate(), consultant=consultant, summary="Seen.", by=care_manager
        )

    assert len(callbacks) == 1
    assert Kind.NEW_PATIENT not in open_kinds(episode)


def test_enrolling_queues_the_refresh_that_raises_new_patient(clinic, care_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        patient = patient_services.enroll_patient(
            clinic=clinic,
            enrolled_on=timezone.localdate(),
            by=care_manager,
            mrn="NEW-1",
            first_name="Ada",
            last_name="Lovelace",
            birth_date=datetime.date(1985, 12, 10),
            sex="female",
            care_manager=care_manager,
        )

    assert open_kinds(patient.episodes.get()) == {Kind.NEW_PATIENT}


def test_a_new_episode_needs_its_own_first_case_review(clinic, care_manager, consultant):
    first = enrolled(clinic, care_manager)
    review(first, 5, consultant, care_manager)
    set_status(first, Episode.Status.DISCHARGED, 10, care_manager, discharge_reason="moved")
    second = patient_services.start_episode(patient=first.patient, enrolled_on=on(50), by=care_manager)

    refresh_flags(today=on(51))

    assert Kind.NEW_PATIENT in open_kinds(second)
    assert not open_kinds(first)


# --- no_first_followup ---------------------------------------------------------------------


@pytest.mark.parametrize(("days_since", "flagged"), [(28, False), (29, True)])
def test_no_first_followup_more_than_28_days_after_the_initial_assessment(clinic, care_manager, days_since, flagged):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)

    refresh_flags(today=on(1 + days_since))

    assert (Kind.NO_FIRST_FOLLOWUP in open_kinds(episode)) is flagged


def test_a_followup_the_day_after_the_initial_assessment_clears_no_first_followup(clinic, care_manager):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)
    refresh_flags(today=on(40))
    flag = open_flag(episode, Kind.NO_FIRST_FOLLOWUP)

    record_contact(episode, on(2), care_manager)
    refresh_flags(today=on(40))

    flag.refresh_from_db()
    assert not flag.is_open
    assert Kind.NO_FIRST_FOLLOWUP not in open_kinds(episode)


def test_an_unreached_outreach_after_the_initial_assessment_does_not_clear_no_first_followup(clinic, care_manager):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)
    record_contact(episode, on(10), care_manager, kind="outreach", reached=False)

    refresh_flags(today=on(40))

    assert Kind.NO_FIRST_FOLLOWUP in open_kinds(episode)


@pytest.mark.parametrize(("days_since", "flagged"), [(28, False), (29, True)])
def test_no_first_followup_counts_from_enrollment_while_the_initial_assessment_is_pending(
    clinic, care_manager, days_since, flagged
):
    episode = enrolled(clinic, care_manager, day=3)

    refresh_flags(today=on(3 + days_since))

    assert (Kind.NO_FIRST_FOLLOWUP in open_kinds(episode)) is flagged


# --- measurement_overdue -------------------------------------------------------------------


@pytest.mark.parametrize(("days_since", "flagged"), [(30, False), (31, True)])
def test_measurement_overdue_more_than_30_days_after_the_latest_phq9(clinic, care_manager, days_since, flagged):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager, phq9=14)
    record_score(episode, "GAD7", 9, on(5), care_manager)  # a later GAD-7 does not stand in for the PHQ-9
    record_score(episode, "PHQ9", 12, on(3), care_manager)

    refresh_flags(today=on(3 + days_since))

    assert (Kind.MEASUREMENT_OVERDUE in open_kinds(episode)) is flagged


@pytest.mark.parametrize(("days_since", "flagged"), [(30, False), (31, True)])
def test_measurement_overdue_falls_back_to_the_gad7_without_a_phq9(clinic, care_manager, days_since, flagged):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)
    record_score(episode, "GAD7", 12, on(6), care_manager)

    refresh_flags(today=on(6 + days_since))

    assert (Kind.MEASUREMENT_OVERDUE in open_kinds(episode)) is flagged


@pytest.mark.parametrize(("days_since", "flagged"), [(30, False), (31, True)])
def test_measurement_overdue_falls_back_to_the_initial_assessment_without_scores(
    clinic, care_manager, days_since, flagged
):
    episode = enrolled(clinic, care_manager)
    assess(episode, 4, care_manager)

    refresh_flags(today=on(4 + days_since))

    assert (Kind.MEASUREMENT_OVERDUE in open_kinds(episode)) is flagged


def test_measurement_overdue_only_in_active_treatment(clinic, care_manager):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager, phq9=4)
    set_status(episode, Episode.Status.RELAPSE_PREVENTION, 2, care_manager)
    record_contact(episode, on(50), care_manager, kind="relapse_prevention")

    refresh_flags(today=on(60))

    assert Kind.MEASUREMENT_OVERDUE not in open_kinds(episode)


# --- per-clinic thresholds -----------------------------------------------------------------


def test_a_clinics_own_not_improving_threshold_applies_to_that_clinic_only(clinic, other_clinic, care_manager):
    RegistrySettings.objects.create(clinic=clinic, not_improving_after_days=56)
    other_cm = UserFactory(clinics=[other_clinic])
    ours = not_improving_case(clinic, care_manager)
    theirs = not_improving_case(other_clinic, other_cm)

    refresh_flags(today=on(1 + 55))
    at_55 = (Kind.NOT_IMPROVING in open_kinds(ours), Kind.NOT_IMPROVING in open_kinds(theirs))
    refresh_flags(today=on(1 + 56))
    at_56 = (Kind.NOT_IMPROVING in open_kinds(ours), Kind.NOT_IMPROVING in open_kinds(theirs))
    refresh_flags(today=on(1 + 70))
    at_70 = (Kind.NOT_IMPROVING in open_kinds(ours), Kind.NOT_IMPROVING in open_kinds(theirs))

    assert at_55 == (False, False)
    assert at_56 == (True, False)
    assert at_70 == (True, True)


def test_a_clinics_own_cadence_and_review_recency_apply(clinic, care_manager, consultant):
    RegistrySettings.objects.create(clinic=clinic, active_cadence_days=7, case_review_recency_days=60)
    episode = not_improving_case(clinic, care_manager)
    record_contact(episode, on(62), care_manager)  # 9 days before day 71
    review(episode, 30, consultant, care_manager)  # 41 days before day 71

    refresh_flags(today=on(71))

    kinds = open_kinds(episode)
    assert Kind.NOT_IMPROVING not in kinds  # reviewed within 60 days
    assert Kind.FOLLOWUP_OVERDUE in kinds


# --- the life of a rule's flag -------------------------------------------------------------


@pytest.fixture
def overdue(clinic, care_manager) -> Episode:
    """Active, last contact on day 10: follow-up overdue from day 25."""
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager)
    record_contact(episode, on(10), care_manager)
    return episode


def test_a_rule_raises_its_flag_with_no_person_and_the_rules_reason_in_history(overdue):
    refresh_flags(today=on(25))

    flag = open_flag(overdue, Kind.FOLLOWUP_OVERDUE)
    assert flag.raised_by is None
    assert flag.raised_at is not None
    assert flag.reason == "No completed contact within the follow-up cadence, or past the next contact date set."
    assert [(h.history_type, h.history_user_id, h.resolved_at) for h in flag.history.all()] == [("+", None, None)]


def test_a_flag_is_resolved_automatically_when_its_rule_stops_holding(overdue, care_manager):
    refresh_flags(today=on(25))
    flag = open_flag(overdue, Kind.FOLLOWUP_OVERDUE)

    record_contact(overdue, on(24), care_manager)
    result = refresh_flags(today=on(25))

    flag.refresh_from_db()
    assert result.resolved[Kind.FOLLOWUP_OVERDUE] == 1
    assert flag.resolved_at is not None
    assert flag.resolved_by is None
    assert flag.resolution_note == "Resolved automatically: the rule no longer holds (follow-up overdue)."
    history = list(flag.history.order_by("history_id"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert history[1].resolved_at == flag.resolved_at
    assert history[1].resolution_note == flag.resolution_note
    assert history[1].history_user_id is None


def test_the_rule_holding_again_later_raises_a_new_flag(overdue, care_manager):
    refresh_flags(today=on(25))
    first = open_flag(overdue, Kind.FOLLOWUP_OVERDUE)
    record_contact(overdue, on(24), care_manager)
    refresh_flags(today=on(25))

    refresh_flags(today=on(39))

    second = open_flag(overdue, Kind.FOLLOWUP_OVERDUE)
    first.refresh_from_db()
    assert second.pk != first.pk
    assert not first.is_open
    assert Flag.objects.filter(episode=overdue, kind=Kind.FOLLOWUP_OVERDUE).count() == 2
    assert [h.history_type for h in second.history.all()] == ["+"]


def test_a_rule_flag_a_person_resolved_comes_back_while_the_rule_holds(overdue, care_manager):
    refresh_flags(today=on(25))
    first = services.resolve_flag(
        flag=open_flag(overdue, Kind.FOLLOWUP_OVERDUE), by=care_manager, note="Called, no answer."
    )

    refresh_flags(today=on(26))

    again = open_flag(overdue, Kind.FOLLOWUP_OVERDUE)
    first.refresh_from_db()
    assert again.pk != first.pk
    assert (first.resolved_by, first.resolution_note) == (care_manager, "Called, no answer.")


def test_refresh_never_touches_flags_raised_by_people_or_safety_flags(overdue, care_manager):
    services.request_case_review(episode=overdue, by=care_manager, reason="Worse at home.")
    record_score(overdue, "PHQ9", 12, on(12), care_manager, item9=1)
    person_raised = list(Flag.objects.filter(episode=overdue, kind__in=[Kind.NEEDS_DISCUSSION, Kind.SAFETY]))
    history_before = Flag.history.filter(id__in=[f.pk for f in person_raised]).count()

    for today in (on(25), on(40), on(200)):
        refresh_flags(today=today)
    set_status(overdue, Episode.Status.DISCHARGED, 30, care_manager, discharge_reason="moved")
    refresh_flags(today=on(201))

    assert len(person_raised) == 2
    for flag in person_raised:
        before = (flag.resolved_at, flag.seen_at, flag.reason)
        flag.refresh_from_db()
        assert (flag.resolved_at, flag.seen_at, flag.reason) == before
    assert Flag.history.filter(id__in=[f.pk for f in person_raised]).count() == history_before


def test_a_flag_of_a_rules_kind_raised_by_a_person_is_left_to_people(overdue, care_manager):
    flag = services.raise_flag(
        episode=overdue, kind=Kind.MEASUREMENT_OVERDUE, by=care_manager, reason="Asked for a PHQ-9 now."
    )

    refresh_flags(today=on(12))  # the rule does not hold yet

    flag.refresh_from_db()
    assert flag.is_open
    assert flag.history.count() == 1


def test_discharge_resolves_the_rule_flags_at_the_next_refresh(overdue, care_manager):
    refresh_flags(today=on(40))
    rule_flags = list(Flag.objects.filter(episode=overdue, resolved_at__isnull=True))
    assert {f.kind for f in rule_flags} == {
        Kind.NEW_PATIENT,
        Kind.FOLLOWUP_OVERDUE,
        Kind.MEASUREMENT_OVERDUE,
    }

    set_status(overdue, Episode.Status.DISCHARGED, 41, care_manager, discharge_reason="no_contact")
    refresh_flags(today=on(41))

    assert not open_kinds(overdue)
    for flag in rule_flags:
        flag.refresh_from_db()
        assert flag.resolved_by is None
        assert flag.resolution_note.startswith("Resolved automatically: the rule no longer holds")


# --- idempotency ---------------------------------------------------------------------------


def build_mixed_caseload(clinic, care_manager, consultant) -> list[Episode]:
    """Episodes in every state the rules look at; the same calls build identical copies."""
    episodes = []

    pending = enrolled(clinic, care_manager)  # new patient, no first follow-up
    episodes.append(pending)

    overdue = enrolled(clinic, care_manager)  # follow-up and measurement overdue, no first follow-up
    assess(overdue, 1, care_manager, phq9=8)
    episodes.append(overdue)

    stuck = not_improving_case(clinic, care_manager)  # not improving
    record_contact(stuck, on(65), care_manager)
    record_score(stuck, "PHQ9", 16, on(65), care_manager)
    episodes.append(stuck)

    reviewed = not_improving_case(clinic, care_manager)  # reviewed: neither new nor not improving
    record_contact(reviewed, on(65), care_manager)
    record_score(reviewed, "PHQ9", 16, on(65), care_manager)
    review(reviewed, 60, consultant, care_manager)
    recommend(reviewed, 40, consultant)  # open 32 days by day 72: recommendation open
    episodes.append(reviewed)

    relapse = enrolled(clinic, care_manager)  # relapse prevention, overdue
    assess(relapse, 1, care_manager, phq9=4)
    set_status(relapse, Episode.Status.RELAPSE_PREVENTION, 10, care_manager)
    episodes.append(relapse)

    discharged = enrolled(clinic, care_manager)  # discharged: no rule flag
    assess(discharged, 1, care_manager)
    set_status(discharged, Episode.Status.DISCHARGED, 5, care_manager, discharge_reason="moved")
    episodes.append(discharged)

    return episodes


def open_flags_by_position(episodes) -> list[list[tuple[str, str, int | None]]]:
    return [
        sorted(Flag.objects.filter(episode=e, resolved_at__isnull=True).values_list("kind", "reason", "raised_by_id"))
        for e in episodes
    ]


def test_second_refresh_changes_nothing(clinic, care_manager, consultant):
    episodes = build_mixed_caseload(clinic, care_manager, consultant)
    first = refresh_flags(today=on(72))
    after_first = list(Flag.objects.filter(resolved_at__isnull=True).order_by("pk").values())

    second = refresh_flags(today=on(72))

    assert all(first.raised[kind] > 0 for kind in RULE_KINDS)
    assert second.changed == 0
    assert list(Flag.objects.filter(resolved_at__isnull=True).order_by("pk").values()) == after_first
    assert [sorted(k for k, _, _ in kinds) for kinds in open_flags_by_position(episodes)] == [
        [Kind.NEW_PATIENT, Kind.NO_FIRST_FOLLOWUP],
        [Kind.FOLLOWUP_OVERDUE, Kind.MEASUREMENT_OVERDUE, Kind.NEW_PATIENT, Kind.NO_FIRST_FOLLOWUP],
        [Kind.NEW_PATIENT, Kind.NOT_IMPROVING],
        [Kind.RECOMMENDATION_OPEN],
        [Kind.FOLLOWUP_OVERDUE, Kind.NEW_PATIENT],
        [],
    ]


class Crash(Exception):
    pass


def crash_in_the_third_resolve(monkeypatch):
    real = flags._resolve_where_not
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Crash("the worker died")
        return real(*args, **kwargs)

    monkeypatch.setattr(flags, "_resolve_where_not", failing)


def crash_in_the_third_rule(monkeypatch):
    def dies(today):
        raise Crash("the worker died")

    third = flags.RULES[2]
    crashing = [*flags.RULES[:2], flags.Rule(third.kind, third.reason, dies), *flags.RULES[3:]]
    monkeypatch.setattr(flags, "RULES", crashing)


@pytest.mark.parametrize("crash", [crash_in_the_third_resolve, crash_in_the_third_rule])
def test_a_refresh_that_dies_half_way_then_runs_again_ends_as_one_clean_run(
    clinic, other_clinic, care_manager, consultant, monkeypatch, crash
):
    other_cm = UserFactory(clinics=[other_clinic])
    other_consultant = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, clinics=[other_clinic])
    crashed = build_mixed_caseload(clinic, care_manager, consultant)
    clean = build_mixed_caseload(other_clinic, other_cm, other_consultant)
    crashed_scope = Episode.objects.filter(patient__clinic=clinic)
    clean_scope = Episode.objects.filter(patient__clinic=other_clinic)

    with monkeypatch.context() as patch:
        crash(patch)
        with pytest.raises(Crash):
            refresh_flags(crashed_scope, today=on(72))
    half_done = {kind for kinds in open_flags_by_position(crashed) for kind, _, _ in kinds}
    refresh_flags(crashed_scope, today=on(72))
    refresh_flags(clean_scope, today=on(72))

    assert half_done == {Kind.NEW_PATIENT, Kind.NOT_IMPROVING}  # the first two rules stood, the third rolled back
    assert open_flags_by_position(crashed) == open_flags_by_position(clean)
    assert refresh_flags(crashed_scope, today=on(72)).changed == 0
    crashed_history = sorted(Flag.history.filter(episode__in=crashed).values_list("kind", "history_type"))
    clean_history = sorted(Flag.history.filter(episode__in=clean).values_list("kind", "history_type"))
    assert crashed_history == clean_history


# --- scope ---------------------------------------------------------------------------------


def test_refreshing_one_episode_touches_only_its_flags(clinic, care_manager):
    target = enrolled(clinic, care_manager)
    assess(target, 1, care_manager)
    untouched_new = enrolled(clinic, care_manager)
    stale = enrolled(clinic, care_manager)
    assess(stale, 1, care_manager)
    refresh_flags(Episode.objects.filter(pk=stale.pk), today=on(40))
    stale_flags = {f.pk: f.kind for f in Flag.objects.filter(episode=stale)}
    record_contact(stale, on(39), care_manager)  # its follow-up flag no longer holds

    result = refresh_flags(Episode.objects.filter(pk=target.pk), today=on(40))

    assert open_kinds(target) == {
        Kind.NEW_PATIENT,
        Kind.FOLLOWUP_OVERDUE,
        Kind.NO_FIRST_FOLLOWUP,
        Kind.MEASUREMENT_OVERDUE,
    }
    assert sum(result.raised.values()) == 4
    assert sum(result.resolved.values()) == 0
    assert not Flag.objects.filter(episode=untouched_new).exists()
    assert {f.pk: f.kind for f in Flag.objects.filter(episode=stale, resolved_at__isnull=True)} == stale_flags


# --- the management command ----------------------------------------------------------------


def test_refresh_flags_command_prints_counts_per_kind(clinic, care_manager):
    today = timezone.localdate()
    EpisodeFactory.create_batch(
        2, patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=today - 40 * DAY
    )
    EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=today - 3 * DAY)
    out = StringIO()

    call_command("refresh_flags", stdout=out)
    call_command("refresh_flags", stdout=out)

    first, second = out.getvalue().split("Done in")[:2]
    assert "new_patient: raised 3, resolved 0" in first
    assert "no_first_followup: raised 2, resolved 0" in first
    assert "not_improving: raised 0, resolved 0" in first
    assert all(f"{kind}: raised 0, resolved 0" in second for kind in RULE_KINDS)
    assert Flag.objects.filter(resolved_at__isnull=True).count() == 5


# --- the cost of a refresh -----------------------------------------------------------------


def build_rule_caseload(count: int, clinic, care_manager) -> None:
    """count episodes, cycling through shapes that between them make every rule raise."""
    consultant = UserFactory(username=f"psych-{count}", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])
    for n in range(count):
        episode = enrolled(clinic, care_manager)
        if n % 3 == 0:
            continue  # pending: new patient, no first follow-up
        assess(episode, 1, care_manager, phq9=20)
        if n % 3 == 2:
            record_score(episode, "PHQ9", 18, on(60), care_manager)  # not improving
        if n % 5 == 1:
            recommend(episode, 30, consultant)  # recommendation open


def queries_of_refreshes(count: int, clinic, care_manager) -> tuple[int, int]:
    """Queries of a refresh that raises flags, then of one that resolves them, over count episodes;
    everything built is rolled back after."""
    with transaction.atomic():
        build_rule_caseload(count, clinic, care_manager)
        with CaptureQueriesContext(connection) as raising:
            raised = refresh_flags(today=on(72))
        with CaptureQueriesContext(connection) as resolving:
            resolved = refresh_flags(today=on(2))
        assert all(raised.raised[kind] > 0 for kind in RULE_KINDS)
        assert resolved.resolved[Kind.NOT_IMPROVING] > 0
        transaction.set_rollback(True)
    return len(raising), len(resolving)


def test_a_full_refresh_costs_the_same_queries_for_5_or_60_episodes(clinic, care_manager):
    few = queries_of_refreshes(5, clinic, care_manager)
    many = queries_of_refreshes(60, clinic, care_manager)

    assert few == many
    assert few[0] <= 4 * len(RULE_KINDS) + 2 * len(RULE_KINDS)  # insert, history, update, history + savepoints


# --- recommendation_open ---------------------------------------------------------------------


@pytest.mark.parametrize(("age", "flagged"), [(13, False), (14, False), (15, True)])
def test_recommendation_open_after_more_than_14_days(clinic, care_manager, consultant, age, flagged):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager, phq9=12)
    recommend(episode, 40, consultant)

    refresh_flags(today=on(40 + age))

    assert (Kind.RECOMMENDATION_OPEN in open_kinds(episode)) is flagged


@pytest.mark.parametrize("closing", ["declined", "implemented"])
def test_recommendation_open_resolves_when_the_recommendation_is_closed(clinic, care_manager, consultant, closing):
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager, phq9=12)
    recommendation = recommend(episode, 40, consultant)
    refresh_flags(today=on(60))
    assert Kind.RECOMMENDATION_OPEN in open_kinds(episode)

    if closing == "declined":
        notes.respond(recommendation=recommendation, by=care_manager, response="declined", note="Prefers therapy.")
    else:
        notes.respond(recommendation=recommendation, by=care_manager, response="accepted")
        notes.mark_implemented(recommendation=recommendation, by=care_manager, on=on(59))
    refresh_flags(today=on(60))

    assert Kind.RECOMMENDATION_OPEN not in open_kinds(episode)


def test_recommendation_open_follows_the_clinics_setting(clinic, care_manager, consultant):
    RegistrySettings.objects.create(clinic=clinic, recommendation_open_days=7)
    episode = enrolled(clinic, care_manager)
    assess(episode, 1, care_manager, phq9=12)
    recommend(episode, 40, consultant)

    refresh_flags(today=on(48))

    assert Kind.RECOMMENDATION_OPEN in open_kinds(episode)
