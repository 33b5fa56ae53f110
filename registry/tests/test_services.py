"""The write services for contacts, scores and flags (docs/clinical-definitions.md: instruments, safety,
baseline and change, registry columns)."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from carereg.dates import clinic_today
from patients.models import Episode
from registry import services
from registry.models import Contact, Flag, Measurement, SafetyAssessment
from registry.services import Answers
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory, answers_totalling, record_contact, record_score

DAY = datetime.timedelta(days=1)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def episode(clinic, today):
    return EpisodeFactory(patient__clinic=clinic, enrolled_on=today - 60 * DAY)


def phq9(*answers: int) -> Answers:
    return Answers("PHQ9", list(answers))


def row_counts() -> dict[str, int]:
    return {
        "contacts": Contact.objects.count(),
        "measurements": Measurement.objects.count(),
        "flags": Flag.objects.count(),
        "measurement history": Measurement.history.count(),
        "contact history": Contact.history.count(),
    }


def open_safety_flags(episode) -> list[Flag]:
    return list(Flag.objects.filter(episode=episode, kind=Flag.Kind.SAFETY, resolved_at__isnull=True))


# --- record_measurement -------------------------------------------------------------------


def test_record_measurement_scores_the_items_and_stores_total_and_band(episode, care_manager, today):
    measurement = services.record_measurement(
        episode=episode, answers=phq9(3, 3, 2, 2, 1, 1, 0, 0, 0), taken_on=today, by=care_manager
    )

    measurement.refresh_from_db()
    assert measurement.total == 12
    assert measurement.band == "moderate"
    assert measurement.answers == [3, 3, 2, 2, 1, 1, 0, 0, 0]
    assert measurement.recorded_by == care_manager
    assert measurement.episode == episode


def test_record_measurement_stores_gad7_band(episode, care_manager, today):
    measurement = services.record_measurement(
        episode=episode, answers=Answers("GAD7", [3, 3, 3, 3, 3, 0, 0]), taken_on=today, by=care_manager
    )

    measurement.refresh_from_db()
    assert (measurement.total, measurement.band) == (15, "severe")
    assert measurement.item_8 is None


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_item9_answer_raises_safety_flag_at_once(episode, care_manager, today, item9):
    measurement = services.record_measurement(
        episode=episode, answers=phq9(1, 1, 1, 1, 1, 1, 1, 1, item9), taken_on=today, by=care_manager
    )

    flags = open_safety_flags(episode)
    assert len(flags) == 1
    assert flags[0].measurement == measurement
    assert flags[0].raised_by == care_manager
    assert f"item 9 answered {item9}" in flags[0].reason


def test_second_item9_answer_keeps_the_one_open_safety_flag(episode, care_manager, today):
    first = services.record_measurement(
        episode=episode, answers=phq9(1, 1, 1, 1, 1, 1, 1, 1, 1), taken_on=today - 7 * DAY, by=care_manager
    )

    services.record_measurement(
        episode=episode, answers=phq9(2, 2, 2, 2, 2, 2, 2, 2, 3), taken_on=today, by=care_manager
    )

    flags = open_safety_flags(episode)
    assert len(flags) == 1
    assert flags[0].measurement == first
    assert Flag.objects.filter(episode=episode).count() == 1


def test_item9_answer_of_zero_raises_no_flag(episode, care_manager, today):
    services.record_measurement(
        episode=episode, answers=phq9(3, 3, 3, 3, 3, 3, 3, 3, 0), taken_on=today, by=care_manager
    )

    assert not Flag.objects.filter(episode=episode).exists()


def test_gad7_never_raises_a_safety_flag(episode, care_manager, today):
    services.record_measurement(
        episode=episode, answers=Answers("GAD7", [3, 3, 3, 3, 3, 3, 3]), taken_on=today, by=care_manager
    )

    assert not Flag.objects.filter(episode=episode).exists()


def test_item9_answer_after_a_resolved_flag_raises_a_new_one(episode, care_manager, today):
    record_score(episode, "PHQ9", 12, today - 7 * DAY, care_manager, item9=1)
    (flag,) = open_safety_flags(episode)
    services.resolve_safety_flag(
        flag=flag,
        by=care_manager,
        risk_level="low",
        actions=["safety_plan"],
        note="No plan or intent.",
        assessed_at=timezone.now(),
    )

    record_score(episode, "PHQ9", 12, today, care_manager, item9=2)

    assert len(open_safety_flags(episode)) == 1
    assert Flag.objects.filter(episode=episode).count() == 2


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        (phq9(1, 1, 1, 1, 4, 1, 1, 1, 0), "item 5 must be 0-3"),
        (phq9(1, 1, 1, 1, -1, 1, 1, 1, 0), "item 5 must be 0-3"),
        (Answers("PHQ9", [1, 1, 1, 1, None, 1, 1, 1, 0]), "item 5 is not answered"),
        (Answers("PHQ9", [1, 1, 1, 1, 1, 1, 1, 1]), "needs 9 answers"),
        (Answers("PHQ9", [1, 1, 1, 1, 1, 1, 1, 1, None]), "item 9 is not answered"),
        (Answers("PHQ9", [1, 1, 1, 1, 1, 1, 1, 1, 4]), "item 9 must be 0-3"),
        (Answers("GAD7", [1, 1, 1, 1, 1, 1, 1, 1]), "needs 7 answers"),
        (Answers("PHQ99", [1] * 9), "Unknown instrument"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_saved(episode, care_manager, today, answers, says):
    before = row_counts()

    with pytest.raises(ValidationError) as error:
        services.record_measurement(episode=episode, answers=answers, taken_on=today, by=care_manager)

    assert says in " ".join(error.value.messages)
    assert row_counts() == before
    episode.refresh_from_db()
    assert episode.phq9_latest is None


def test_difficulty_question_is_refused_on_gad7(episode, care_manager, today):
    before = row_counts()

    with pytest.raises(ValidationError, match="Only the PHQ-9"):
        services.record_measurement(
            episode=episode, answers=Answers("GAD7", [1] * 7, difficulty=2), taken_on=today, by=care_manager
        )

    assert row_counts() == before


def test_score_31_days_before_enrollment_is_refused(episode, care_manager):
    before = row_counts()

    with pytest.raises(ValidationError, match="before this episode began"):
        record_score(episode, "PHQ9", 14, episode.enrolled_on - 31 * DAY, care_manager)

    assert row_counts() == before


def test_screening_score_30_days_before_enrollment_is_accepted_as_baseline(episode, care_manager, today):
    screening_day = episode.enrolled_on - 30 * DAY

    record_score(episode, "PHQ9", 14, screening_day, care_manager)
    record_score(episode, "PHQ9", 8, today, care_manager)

    episode.refresh_from_db()
    assert (episode.phq9_baseline, episode.phq9_baseline_on) == (14, screening_day)
    assert (episode.phq9_latest, episode.phq9_latest_on) == (8, today)


def test_score_dated_tomorrow_is_refused(episode, care_manager, today):
    before = row_counts()

    with pytest.raises(ValidationError, match="in the future"):
        record_score(episode, "PHQ9", 14, today + DAY, care_manager)

    assert row_counts() == before


def test_a_date_is_in_the_future_on_the_patients_clinic_calendar_not_the_recorders(care_manager):
    # UTC+14 and UTC-12: 26 hours apart, so the two calendars never show the same day.
    ahead = ClinicFactory(code="ahead", timezone="Etc/GMT-14")
    episode = EpisodeFactory(patient__clinic=ahead, enrolled_on=timezone.localdate() - 60 * DAY)
    their_today = clinic_today(ahead)

    with timezone.override(zoneinfo.ZoneInfo("Etc/GMT+12")):
        measured = record_score(episode, "PHQ9", 14, their_today, care_manager)
        with pytest.raises(ValidationError, match="in the future"):
            record_score(episode, "PHQ9", 14, their_today + DAY, care_manager)

    assert measured.taken_on == their_today


def test_score_in_a_discharged_episode_is_refused(clinic, care_manager, today):
    episode = EpisodeFactory(
        patient__clinic=clinic,
        enrolled_on=today - 90 * DAY,
        status=Episode.Status.DISCHARGED,
        discharged_on=today - 10 * DAY,
        discharge_reason="moved",
    )

    with pytest.raises(ValidationError, match="discharged"):
        record_score(episode, "PHQ9", 14, today - 20 * DAY, care_manager)

    assert not Measurement.objects.exists()


# --- record_contact -----------------------------------------------------------------------


def test_contact_with_scores_saves_contact_and_linked_scores(episode, care_manager, today):
    contact = services.record_contact(
        episode=episode,
        by=care_manager,
        contact_date=today,
        kind=Contact.Kind.FOLLOW_UP,
        mode=Contact.Mode.PHONE,
        minutes=25,
        interventions=["behavioral_activation"],
        scores=[Answers("PHQ9", answers_totalling("PHQ9", 11)), Answers("GAD7", answers_totalling("GAD7", 6))],
    )

    contact.refresh_from_db()
    assert contact.minutes == 25
    assert contact.interventions == ["behavioral_activation"]
    scores = {m.instrument: m for m in contact.measurements.all()}
    assert set(scores) == {"PHQ9", "GAD7"}
    assert (scores["PHQ9"].total, scores["PHQ9"].taken_on, scores["PHQ9"].episode) == (11, today, episode)
    assert (scores["GAD7"].total, scores["GAD7"].band) == (6, "mild")


def test_contact_with_one_invalid_score_saves_nothing_at_all(episode, care_manager, today):
    before = row_counts()

    with pytest.raises(ValidationError, match="item 1 must be 0-3"):
        services.record_contact(
            episode=episode,
            by=care_manager,
            contact_date=today,
            kind=Contact.Kind.INITIAL_ASSESSMENT,
            mode=Contact.Mode.IN_PERSON,
            scores=[
                Answers("PHQ9", [1, 1, 1, 1, 1, 1, 1, 1, 2]),  # valid, and would raise a safety flag
                Answers("GAD7", [7, 0, 0, 0, 0, 0, 0]),
            ],
        )

    assert row_counts() == before
    episode.refresh_from_db()
    assert episode.status == Episode.Status.ENROLLED
    assert episode.completed_contacts == 0
    assert episode.phq9_latest is None


def test_completed_initial_assessment_moves_enrolled_episode_to_active(episode, care_manager, today):
    assessed_on = today - 50 * DAY

    record_contact(episode, assessed_on, care_manager, kind=Contact.Kind.INITIAL_ASSESSMENT)

    episode.refresh_from_db()
    assert episode.status == Episode.Status.ACTIVE
    assert episode.status_changed_on == assessed_on
    assert episode.history.first().history_user == care_manager


def test_unreached_initial_assessment_leaves_episode_enrolled(episode, care_manager, today):
    record_contact(episode, today, care_manager, kind=Contact.Kind.INITIAL_ASSESSMENT, reached=False)

    episode.refresh_from_db()
    assert episode.status == Episode.Status.ENROLLED


def test_follow_up_contact_does_not_start_active_treatment(episode, care_manager, today):
    record_contact(episode, today, care_manager, kind=Contact.Kind.FOLLOW_UP)

    episode.refresh_from_db()
    assert episode.status == Episode.Status.ENROLLED


def test_initial_assessment_leaves_relapse_prevention_status_alone(clinic, care_manager, today):
    episode = EpisodeFactory(patient__clinic=clinic, status=Episode.Status.RELAPSE_PREVENTION)

    record_contact(episode, today, care_manager, kind=Contact.Kind.INITIAL_ASSESSMENT)

    episode.refresh_from_db()
    assert episode.status == Episode.Status.RELAPSE_PREVENTION


def test_outreach_that_did_not_reach_the_patient_is_not_a_completed_contact(episode, care_manager, today):
    record_contact(episode, today - 20 * DAY, care_manager, next_contact_on=today - 6 * DAY)

    record_contact(
        episode, today - 2 * DAY, care_manager, kind=Contact.Kind.OUTREACH, reached=False, next_contact_on=today
    )

    episode.refresh_from_db()
    assert Contact.objects.filter(episode=episode).count() == 2
    assert episode.completed_contacts == 1
    assert episode.last_contact_on == today - 20 * DAY
    assert episode.next_contact_on == today - 6 * DAY


def test_scores_at_a_contact_that_did_not_reach_the_patient_are_refused(episode, care_manager, today):
    before = row_counts()

    with pytest.raises(ValidationError, match="reached the patient"):
        record_contact(
            episode,
            today,
            care_manager,
            kind=Contact.Kind.OUTREACH,
            reached=False,
            scores=[Answers("PHQ9", answers_totalling("PHQ9", 10))],
        )

    assert row_counts() == before


@pytest.mark.parametrize(("offset", "says"), [(-61, "before this episode began"), (1, "in the future")])
def test_contact_outside_the_episode_is_refused(episode, care_manager, today, offset, says):
    with pytest.raises(ValidationError, match=says):
        record_contact(episode, today + offset * DAY, care_manager)

    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"minutes": 601}, "less than or equal to 600"),
        ({"next_contact_on": "yesterday"}, "on or after this contact"),
        ({"mode": "fax"}, "not a valid choice"),
    ],
)
def test_contact_with_an_invalid_field_is_refused_with_a_message_not_a_database_error(
    episode, care_manager, today, fields, says
):
    if fields.get("next_contact_on") == "yesterday":
        fields = {"next_contact_on": today - DAY}

    with pytest.raises(ValidationError, match=says):
        record_contact(episode, today, care_manager, **fields)

    assert not Contact.objects.exists()


def test_contact_on_enrollment_day_is_accepted(episode, care_manager):
    record_contact(episode, episode.enrolled_on, care_manager, kind=Contact.Kind.INITIAL_ASSESSMENT)

    episode.refresh_from_db()
    assert episode.initial_assessment_on == episode.enrolled_on


# --- the episode's summary ----------------------------------------------------------------


def test_summary_follows_several_writes(episode, care_manager, today):
    enrolled = episode.enrolled_on
    record_score(episode, "PHQ9", 18, enrolled - 10 * DAY, care_manager)  # the screening
    record_contact(
        episode,
        enrolled + 2 * DAY,
        care_manager,
        kind=Contact.Kind.INITIAL_ASSESSMENT,
        next_contact_on=enrolled + 16 * DAY,
        scores=[Answers("PHQ9", answers_totalling("PHQ9", 16)), Answers("GAD7", answers_totalling("GAD7", 12))],
    )
    record_contact(episode, enrolled + 9 * DAY, care_manager, kind=Contact.Kind.OUTREACH, reached=False)
    record_contact(
        episode,
        enrolled + 16 * DAY,
        care_manager,
        next_contact_on=enrolled + 30 * DAY,
        scores=[Answers("PHQ9", answers_totalling("PHQ9", 11))],
    )
    record_contact(
        episode,
        enrolled + 30 * DAY,
        care_manager,
        next_contact_on=enrolled + 44 * DAY,
        scores=[Answers("GAD7", answers_totalling("GAD7", 5))],
    )

    episode.refresh_from_db()
    assert (episode.phq9_baseline, episode.phq9_baseline_on) == (18, enrolled - 10 * DAY)
    assert (episode.phq9_latest, episode.phq9_latest_on) == (11, enrolled + 16 * DAY)
    assert (episode.gad7_baseline, episode.gad7_latest) == (12, 5)
    assert episode.initial_assessment_on == enrolled + 2 * DAY
    assert episode.last_contact_on == enrolled + 30 * DAY
    assert episode.next_contact_on == enrolled + 44 * DAY
    assert episode.completed_contacts == 3


def test_summary_orders_by_date_taken_not_by_date_entered(episode, care_manager, today):
    record_score(episode, "PHQ9", 9, today, care_manager)
    record_score(episode, "PHQ9", 20, today - 40 * DAY, care_manager)  # entered late
    record_contact(episode, today, care_manager)
    record_contact(episode, today - 30 * DAY, care_manager, kind=Contact.Kind.INITIAL_ASSESSMENT)

    episode.refresh_from_db()
    assert (episode.phq9_baseline, episode.phq9_latest) == (20, 9)
    assert episode.last_contact_on == today
    assert episode.initial_assessment_on == today - 30 * DAY


def test_summary_next_contact_is_the_date_set_at_the_latest_completed_contact(episode, care_manager, today):
    record_contact(episode, today - 20 * DAY, care_manager, next_contact_on=today - 6 * DAY)

    record_contact(episode, today - 5 * DAY, care_manager)  # sets no next date

    episode.refresh_from_db()
    assert episode.last_contact_on == today - 5 * DAY
    assert episode.next_contact_on is None


def test_summary_is_empty_before_any_contact_or_score(episode):
    episode.refresh_from_db()

    assert episode.initial_assessment_on is None
    assert episode.last_contact_on is None
    assert episode.completed_contacts == 0
    assert episode.phq9_baseline is None


def test_contact_entered_in_error_leaves_the_summary_but_keeps_its_rows(episode, care_manager, today):
    record_contact(
        episode,
        today - 30 * DAY,
        care_manager,
        kind=Contact.Kind.INITIAL_ASSESSMENT,
        next_contact_on=today - 16 * DAY,
        scores=[Answers("PHQ9", answers_totalling("PHQ9", 17))],
    )
    wrong = record_contact(
        episode,
        today - 2 * DAY,
        care_manager,
        next_contact_on=today + 12 * DAY,
        scores=[Answers("PHQ9", answers_totalling("PHQ9", 4)), Answers("GAD7", answers_totalling("GAD7", 3))],
    )
    corrector = UserFactory(clinics=[episode.patient.clinic])

    services.mark_contact_entered_in_error(contact=wrong, by=corrector, reason="Wrong patient.")

    episode.refresh_from_db()
    assert episode.completed_contacts == 1
    assert episode.last_contact_on == today - 30 * DAY
    assert episode.next_contact_on == today - 16 * DAY
    assert episode.phq9_latest == 17
    assert episode.gad7_latest is None
    wrong.refresh_from_db()
    assert wrong.is_entered_in_error
    assert (wrong.entered_in_error_by, wrong.entered_in_error_reason) == (corrector, "Wrong patient.")
    assert wrong.measurements.count() == 2
    assert all(m.entered_in_error_by == corrector for m in wrong.measurements.all())
    assert Contact.objects.filter(episode=episode).count() == 2
    assert wrong.history.first().history_user == corrector


def test_initial_assessment_entered_in_error_clears_the_assessment_date(episode, care_manager, today):
    contact = record_contact(episode, today - 3 * DAY, care_manager, kind=Contact.Kind.INITIAL_ASSESSMENT)

    services.mark_contact_entered_in_error(contact=contact, by=care_manager, reason="Duplicate entry.")

    episode.refresh_from_db()
    assert episode.initial_assessment_on is None
    assert episode.completed_contacts == 0


def test_entered_in_error_needs_a_reason_and_happens_once(episode, care_manager, today):
    contact = record_contact(episode, today, care_manager)

    with pytest.raises(ValidationError, match="Say why"):
        services.mark_contact_entered_in_error(contact=contact, by=care_manager, reason="  ")
    services.mark_contact_entered_in_error(contact=contact, by=care_manager, reason="Typo.")
    with pytest.raises(ValidationError, match="already marked"):
        services.mark_contact_entered_in_error(contact=contact, by=care_manager, reason="Again.")

    contact.refresh_from_db()
    assert contact.entered_in_error_reason == "Typo."


def test_score_entered_in_error_leaves_the_summary(episode, care_manager, today):
    record_score(episode, "PHQ9", 15, today - 20 * DAY, care_manager)
    wrong = record_score(episode, "PHQ9", 3, today, care_manager)

    services.mark_measurement_entered_in_error(measurement=wrong, by=care_manager, reason="Wrong form.")

    episode.refresh_from_db()
    assert (episode.phq9_baseline, episode.phq9_latest) == (15, 15)
    assert Measurement.objects.filter(episode=episode).count() == 2


# --- safety flags -------------------------------------------------------------------------


@pytest.fixture
def safety_flag(episode, care_manager, today):
    record_score(episode, "PHQ9", 14, today, care_manager, item9=1)
    (flag,) = open_safety_flags(episode)
    return flag


def test_resolving_a_safety_flag_records_the_assessment_and_who_closed_it(safety_flag, clinic):
    consultant = UserFactory(role="psychiatric_consultant", fte=None, clinics=[clinic])
    assessed_at = timezone.now() - datetime.timedelta(hours=1)

    assessment = services.resolve_safety_flag(
        flag=safety_flag,
        by=consultant,
        risk_level=SafetyAssessment.Risk.MODERATE,
        actions=["safety_plan", "crisis_resources"],
        note="Passive ideation, no plan. Safety plan reviewed.",
        assessed_at=assessed_at,
    )

    safety_flag.refresh_from_db()
    assert not safety_flag.is_open
    assert safety_flag.resolved_by == consultant
    assert "Moderate risk" in safety_flag.resolution_note
    assessment.refresh_from_db()
    assert assessment.flag == safety_flag
    assert assessment.episode == safety_flag.episode
    assert (assessment.assessed_by, assessment.assessed_at) == (consultant, assessed_at)
    assert assessment.actions == ["safety_plan", "crisis_resources"]
    assert safety_flag.history.first().history_user == consultant
    assert safety_flag.history.first().resolved_at is not None
    assert assessment.history.first().history_user == consultant


@pytest.mark.parametrize("note", ["", "   "])
def test_resolving_a_safety_flag_needs_a_note(safety_flag, care_manager, note):
    with pytest.raises(ValidationError, match="Document"):
        services.resolve_safety_flag(
            flag=safety_flag,
            by=care_manager,
            risk_level="low",
            actions=["safety_plan"],
            note=note,
            assessed_at=timezone.now(),
        )

    safety_flag.refresh_from_db()
    assert safety_flag.is_open
    assert not SafetyAssessment.objects.exists()


def test_resolving_a_safety_flag_needs_what_was_done(safety_flag, care_manager):
    with pytest.raises(ValidationError) as error:
        services.resolve_safety_flag(
            flag=safety_flag, by=care_manager, risk_level="low", actions=[], note="Seen.", assessed_at=timezone.now()
        )

    assert "actions" in error.value.message_dict
    safety_flag.refresh_from_db()
    assert safety_flag.is_open
    assert not SafetyAssessment.objects.exists()


def test_resolved_safety_flag_cannot_be_resolved_again(safety_flag, care_manager):
    services.resolve_safety_flag(
        flag=safety_flag,
        by=care_manager,
        risk_level="low",
        actions=["safety_plan"],
        note="Seen.",
        assessed_at=timezone.now(),
    )

    with pytest.raises(ValidationError, match="already resolved"):
        services.resolve_safety_flag(
            flag=safety_flag,
            by=care_manager,
            risk_level="low",
            actions=["safety_plan"],
            note="Again.",
            assessed_at=timezone.now(),
        )

    assert SafetyAssessment.objects.count() == 1


def test_resolving_with_an_unknown_risk_level_saves_nothing(safety_flag, care_manager):
    with pytest.raises(ValidationError):
        services.resolve_safety_flag(
            flag=safety_flag,
            by=care_manager,
            risk_level="none",
            actions=["safety_plan"],
            note="Seen.",
            assessed_at=timezone.now(),
        )

    safety_flag.refresh_from_db()
    assert safety_flag.is_open
    assert not SafetyAssessment.objects.exists()


def test_only_a_safety_flag_is_closed_with_a_safety_assessment(episode, care_manager):
    flag = services.raise_flag(episode=episode, kind=Flag.Kind.NEEDS_DISCUSSION, by=care_manager, reason="Stuck.")

    with pytest.raises(ValidationError, match="Only a safety flag"):
        services.resolve_safety_flag(
            flag=flag,
            by=care_manager,
            risk_level="low",
            actions=["safety_plan"],
            note="Seen.",
            assessed_at=timezone.now(),
        )


# --- history ------------------------------------------------------------------------------


def test_history_records_the_user_who_made_each_write(episode, care_manager, today):
    contact = record_contact(
        episode,
        today,
        care_manager,
        kind=Contact.Kind.INITIAL_ASSESSMENT,
        scores=[Answers("PHQ9", answers_totalling("PHQ9", 12, item9=1))],
    )
    measurement = contact.measurements.get()
    flag = Flag.objects.get(episode=episode)

    assert contact.history.first().history_user == care_manager
    assert measurement.history.first().history_user == care_manager
    assert measurement.history.first().history_type == "+"
    assert flag.history.first().history_user == care_manager
    assert episode.history.first().history_user == care_manager


# --- bulk writers ----------------------------------------------------------------------------


def test_deferred_refreshes_update_summaries_once_at_the_end_and_queue_one_flag_refresh(
    episode, care_manager, today, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, services.deferred_refreshes():
        record_contact(episode, today - 20 * DAY, care_manager, kind=Contact.Kind.INITIAL_ASSESSMENT)
        record_score(episode, "PHQ9", 15, today - 20 * DAY, care_manager)
        record_contact(episode, today - 5 * DAY, care_manager)
        record_score(episode, "PHQ9", 9, today - 5 * DAY, care_manager)
        stale = Episode.objects.get(pk=episode.pk)

    episode.refresh_from_db()
    assert (stale.completed_contacts, stale.phq9_latest) == (0, None)  # not refreshed row by row
    assert (episode.completed_contacts, episode.phq9_baseline, episode.phq9_latest) == (2, 15, 9)
    assert len(callbacks) == 1  # one flag refresh for the episode, not one per write


def test_deferred_refreshes_leave_a_rolled_back_batch_alone(episode, care_manager, today):
    with pytest.raises(ValidationError), transaction.atomic(), services.deferred_refreshes():
        record_contact(episode, today - 3 * DAY, care_manager)
        raise ValidationError("the import found a bad row")

    episode.refresh_from_db()
    assert not Contact.objects.exists()
    assert episode.completed_contacts == 0
