"""Care services: medications, sessions, referrals, education, and one sitting's all-or-nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from care import services
from care.models import EducationGiven, EducationTopic, InterventionSession, MedicationReport, Referral
from care.panels import care_context, medications_with_latest_report
from care.services import ReferralInput, ReportInput, SessionInput, TreatmentDetailsError
from care.starter_library import STARTER_TOPICS
from care.tests.conftest import days_ago
from carereg.dates import clinic_today
from registry.models import Contact, RegistrySettings
from registry.services import Answers, mark_contact_entered_in_error
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory, answers_totalling, record_contact

pytestmark = pytest.mark.django_db


# --- Medications -----------------------------------------------------------------------------


def test_a_medication_prescribed_by_someone_other_than_the_pcp_is_named_in_free_text(episode, care_manager):
    other = UserFactory(username="drother", role="medical_provider", clinics=[episode.patient.clinic])

    with pytest.raises(ValidationError) as not_pcp:
        services.add_medication(
            episode=episode, by=care_manager, name="sertraline", dose="50 mg", started_on=days_ago(5), prescriber=other
        )
    medication = services.add_medication(
        episode=episode,
        by=care_manager,
        name="sertraline",
        dose="50 mg",
        started_on=days_ago(5),
        prescriber_name="Dr. Lee, Urgent Care",
    )

    assert "prescriber" in not_pcp.value.message_dict
    assert medication.prescribed_by == "Dr. Lee, Urgent Care"
    assert medication.history.get().history_user == care_manager


def test_stopping_a_medication_needs_a_reason_and_keeps_it_in_history(medication, care_manager):
    with pytest.raises(ValidationError) as no_reason:
        services.stop_medication(medication=medication, by=care_manager, stopped_on=days_ago(1), reason=" ")
    with pytest.raises(ValidationError) as before_start:
        services.stop_medication(medication=medication, by=care_manager, stopped_on=days_ago(61), reason="Nausea")

    services.stop_medication(medication=medication, by=care_manager, stopped_on=days_ago(1), reason="Nausea")

    medication.refresh_from_db()
    assert "stop_reason" in no_reason.value.message_dict
    assert "stopped_on" in before_start.value.message_dict
    assert not medication.is_current
    assert [h.stopped_on for h in medication.history.order_by("history_date")] == [None, days_ago(1)]


def test_a_dose_change_is_an_edit_whose_old_dose_stays_in_history(medication, care_manager, pcp):
    services.update_medication(
        medication=medication,
        by=care_manager,
        name="sertraline",
        dose="100 mg",
        started_on=days_ago(60),
        prescriber=pcp,
    )

    assert [h.dose for h in medication.history.order_by("history_date")] == ["50 mg", "100 mg"]


# --- Sessions ----------------------------------------------------------------------------------


def sessions_at(contact, by, *sessions):
    return services.record_treatment_details(contact=contact, by=by, sessions=sessions).sessions


def test_session_numbers_default_to_the_next_and_keep_the_plan(episode, care_manager):
    first = record_contact(episode, days_ago(20), care_manager)
    second = record_contact(episode, days_ago(10), care_manager)

    (one,) = sessions_at(first, care_manager, SessionInput("problem_solving", planned_sessions=6))
    (two,) = sessions_at(second, care_manager, SessionInput("problem_solving"))

    assert (one.session_number, one.planned_sessions) == (1, 6)
    assert (two.session_number, two.planned_sessions) == (2, 6)
    assert services.next_session(episode, "problem_solving") == (3, 6)
    assert services.next_session(episode, "behavioral_activation") == (1, None)


def test_a_session_number_already_used_is_refused_unless_its_contact_was_entered_in_error(episode, care_manager):
    first = record_contact(episode, days_ago(20), care_manager)
    sessions_at(first, care_manager, SessionInput("problem_solving", planned_sessions=6))
    second = record_contact(episode, days_ago(10), care_manager)

    with pytest.raises(TreatmentDetailsError) as used:
        sessions_at(second, care_manager, SessionInput("problem_solving", session_number=1, key="s"))
    mark_contact_entered_in_error(contact=first, by=care_manager, reason="Wrong patient")
    (again,) = sessions_at(second, care_manager, SessionInput("problem_solving"))

    assert "session 1 was recorded on" in used.value.parts["s"].message_dict["session_number"][0]
    assert again.session_number == 1


def test_a_session_past_the_plan_asks_to_raise_the_plan(contact, care_manager):
    with pytest.raises(TreatmentDetailsError) as past:
        sessions_at(
            contact, care_manager, SessionInput("problem_solving", session_number=7, planned_sessions=6, key="s")
        )

    assert "raise the number planned" in past.value.parts["s"].message_dict["planned_sessions"][0]


def test_sessions_add_their_interventions_to_the_contact_for_the_timeline_and_exports(episode, care_manager):
    contact = record_contact(episode, days_ago(3), care_manager, interventions=["psychoeducation"])

    sessions_at(contact, care_manager, SessionInput("problem_solving"), SessionInput("psychoeducation", key="s2"))

    contact.refresh_from_db()
    assert contact.interventions == ["psychoeducation", "problem_solving"]


def test_no_sessions_or_medication_reports_at_a_contact_that_did_not_reach_the_patient(
    episode, care_manager, medication
):
    attempt = record_contact(episode, days_ago(2), care_manager, kind="outreach", reached=False)

    with pytest.raises(TreatmentDetailsError) as refused:
        services.record_treatment_details(
            contact=attempt, by=care_manager, medication_reports=[ReportInput(medication, adherence="as_prescribed")]
        )

    assert "reached the patient" in refused.value.messages[0]


# --- Referrals ---------------------------------------------------------------------------------


def test_a_referral_moves_sent_scheduled_completed_and_each_step_is_history(referral, care_manager):
    services.change_referral_status(referral=referral, by=care_manager, status="scheduled", on=days_ago(5))
    services.change_referral_status(referral=referral, by=care_manager, status="completed", on=days_ago(5), note="Went")

    referral.refresh_from_db()
    steps = referral.history.order_by("history_date")
    assert (referral.status, referral.scheduled_for, referral.closed_on) == ("completed", days_ago(5), days_ago(5))
    assert [h.status for h in steps] == ["sent", "scheduled", "completed"]
    assert {h.history_user for h in steps} == {care_manager}


@pytest.mark.parametrize(
    ("path", "refused"),
    [([], "completed"), ([], "no_show"), (["scheduled"], "sent"), (["declined"], "scheduled")],
)
def test_a_referral_refuses_a_step_its_status_does_not_allow(referral, care_manager, path, refused):
    for status in path:
        services.change_referral_status(referral=referral, by=care_manager, status=status, on=days_ago(1))

    with pytest.raises(ValidationError) as error:
        services.change_referral_status(referral=referral, by=care_manager, status=refused, on=days_ago(1))

    assert "status" in error.value.message_dict


def test_a_referral_cannot_close_in_the_future_but_may_be_scheduled_ahead(referral, care_manager):
    ahead = days_ago(-7)
    services.change_referral_status(referral=referral, by=care_manager, status="scheduled", on=ahead)

    with pytest.raises(ValidationError) as future:
        services.change_referral_status(referral=referral, by=care_manager, status="completed", on=ahead)

    assert "on" in future.value.message_dict


def make_referral_sent(episode, by, days: int, status: str = "sent") -> Referral:
    referral = services.make_referral(
        episode=episode, by=by, kind="housing", to_whom=f"Office {days}", reason="r", sent_on=days_ago(days)
    )
    if status != "sent":
        services.change_referral_status(referral=referral, by=by, status="scheduled", on=days_ago(days))
    if status not in ("sent", "scheduled"):
        services.change_referral_status(referral=referral, by=by, status=status, on=days_ago(days))
    return referral


def test_an_open_referral_is_listed_for_follow_up_only_after_the_clinics_days(episode, care_manager, clinic):
    today = clinic_today(clinic)
    on_the_day = make_referral_sent(episode, care_manager, 30)
    day_after = make_referral_sent(episode, care_manager, 31)
    scheduled = make_referral_sent(episode, care_manager, 45, "scheduled")
    make_referral_sent(episode, care_manager, 60, "completed")
    other = EpisodeFactory(patient__clinic=ClinicFactory(code="south"), enrolled_on=days_ago(90))
    make_referral_sent(other, care_manager, 50)

    listed = list(services.referrals_to_follow_up(clinic, today))
    RegistrySettings.objects.create(clinic=clinic, referral_overdue_days=29)
    clinic.refresh_from_db()
    stricter = list(services.referrals_to_follow_up(clinic, today))

    assert listed == [scheduled, day_after]  # oldest first; 30 days is not yet "older than 30"
    assert on_the_day in stricter


# --- Education ---------------------------------------------------------------------------------


def test_the_starter_library_is_added_once_to_an_empty_library(clinic):
    assert services.ensure_starter_library(clinic) == len(STARTER_TOPICS) >= 8
    assert services.ensure_starter_library(clinic) == 0
    assert EducationTopic.objects.filter(clinic=clinic).count() == len(STARTER_TOPICS)


def test_education_uses_only_the_patients_clinics_active_topics(episode, care_manager, library):
    south = ClinicFactory(code="south")
    services.ensure_starter_library(south)
    foreign = south.education_topics.first()
    retired = library[0]
    retired.active = False
    retired.save()

    for topic in (foreign, retired):
        with pytest.raises(ValidationError) as error:
            services.give_education(episode=episode, topic=topic, by=care_manager, given_on=days_ago(1), how="mailed")
        assert "topic" in error.value.message_dict
    given = services.give_education(
        episode=episode, topic=library[1], by=care_manager, given_on=days_ago(1), how="mailed"
    )

    assert given.given_by == care_manager


def test_a_topic_title_is_unique_in_a_clinics_library_per_language(clinic, library, care_manager):
    fields = {"title": library[0].title, "category": "depression", "handout_text": "Text.", "language": ""}

    with pytest.raises(ValidationError) as duplicate:
        services.save_topic(clinic=clinic, by=care_manager, **fields)
    spanish = services.save_topic(clinic=clinic, by=care_manager, **{**fields, "language": "Spanish"})

    assert "title" in duplicate.value.message_dict
    assert spanish.pk


# --- One sitting -------------------------------------------------------------------------------


def test_one_sitting_saves_nothing_when_any_part_is_invalid_and_names_every_part(
    episode, care_manager, medication, library
):
    contact_count = Contact.objects.count()

    with pytest.raises(TreatmentDetailsError) as error, transaction.atomic():
        contact = record_contact(
            episode,
            days_ago(1),
            care_manager,
            scores=[Answers("PHQ9", answers_totalling("PHQ9", 12))],
        )
        services.record_treatment_details(
            contact=contact,
            by=care_manager,
            medication_reports=[ReportInput(medication, side_effect_severity="mild")],  # not described
            sessions=[SessionInput("problem_solving", session_number=3, planned_sessions=6, key="session-1")],
            referral=ReferralInput(kind="housing", to_whom="Housing office", reason="", key="referral"),
            education=services.EducationInput(topics=library[:1], how="in_person"),
        )

    assert set(error.value.parts) == {f"med-{medication.pk}", "referral"}
    assert Contact.objects.count() == contact_count
    assert not InterventionSession.objects.exists()
    assert not MedicationReport.objects.exists()
    assert not Referral.objects.exists()
    assert not EducationGiven.objects.exists()


def test_one_sitting_saves_every_part_with_the_contact(episode, care_manager, medication, library):
    contact = record_contact(episode, days_ago(1), care_manager)

    details = services.record_treatment_details(
        contact=contact,
        by=care_manager,
        medication_reports=[
            ReportInput(medication, adherence="missed_some", side_effect_severity="mild", side_effects="nausea")
        ],
        sessions=[SessionInput("problem_solving", session_number=2, planned_sessions=6)],
        referral=ReferralInput(kind="pst_group", to_whom="PST group", reason="Practice"),
        education=services.EducationInput(topics=library[:2], how="in_person"),
    )

    assert details.medication_reports[0].side_effects == "nausea"
    assert str(details.sessions[0]) == "Problem-solving treatment, session 2 of 6"
    assert (details.referral.sent_on, details.referral.contact) == (contact.contact_date, contact)
    assert [e.given_on for e in details.education] == [contact.contact_date] * 2


def test_a_stopped_medication_gets_no_report_at_a_later_contact(episode, care_manager, medication):
    services.stop_medication(medication=medication, by=care_manager, stopped_on=days_ago(10), reason="Nausea")
    contact = record_contact(episode, days_ago(1), care_manager)
    medication.refresh_from_db()

    with pytest.raises(TreatmentDetailsError):
        services.record_treatment_details(
            contact=contact, by=care_manager, medication_reports=[ReportInput(medication, adherence="as_prescribed")]
        )
    assert not MedicationReport.objects.exists()


# --- Entered in error ----------------------------------------------------------------------------

MARK = {
    "medication": services.mark_medication_entered_in_error,
    "referral": services.mark_referral_entered_in_error,
    "education_given": services.mark_education_given_entered_in_error,
}


@pytest.mark.parametrize("kind", MARK)
def test_a_row_entered_in_error_keeps_who_when_and_why_and_history_names_the_user(care_rows, clinic, kind):
    corrector = UserFactory(username="corrector", clinics=[clinic])

    marked = MARK[kind](**{kind: care_rows[kind]}, by=corrector, reason="  Recorded for the wrong patient. ")

    marked.refresh_from_db()
    assert marked.is_entered_in_error
    assert (marked.entered_in_error_by, marked.entered_in_error_reason) == (
        corrector,
        "Recorded for the wrong patient.",
    )
    latest = marked.history.order_by("-history_id").first()
    assert (latest.history_user, latest.entered_in_error_reason) == (corrector, "Recorded for the wrong patient.")
    assert marked.history.count() == 2  # the version as entered is kept


@pytest.mark.parametrize("kind", MARK)
def test_a_row_entered_in_error_leaves_the_patient_pages_panels(care_rows, episode, care_manager, kind):
    MARK[kind](**{kind: care_rows[kind]}, by=care_manager, reason="Duplicate.")

    context = care_context(episode, care_manager)

    shown = [*context["current_medications"], *context["stopped_medications"]]
    shown += [*context["referrals"], *context["education_given"]]
    assert care_rows[kind] not in shown
    assert len(shown) == 2


@pytest.mark.parametrize("kind", MARK)
def test_a_row_is_marked_entered_in_error_once_and_the_first_reason_stands(care_rows, care_manager, kind):
    MARK[kind](**{kind: care_rows[kind]}, by=care_manager, reason="Duplicate.")

    with pytest.raises(ValidationError, match="already marked entered in error"):
        MARK[kind](**{kind: care_rows[kind]}, by=care_manager, reason="Again.")

    row = care_rows[kind]
    row.refresh_from_db()
    assert row.entered_in_error_reason == "Duplicate."
    assert row.history.count() == 2


@pytest.mark.parametrize("kind", MARK)
def test_marking_entered_in_error_needs_a_reason(care_rows, care_manager, kind):
    with pytest.raises(ValidationError) as refused:
        MARK[kind](**{kind: care_rows[kind]}, by=care_manager, reason="   ")

    row = care_rows[kind]
    row.refresh_from_db()
    assert "reason" in refused.value.message_dict
    assert not row.is_entered_in_error
    assert row.history.count() == 1


def test_a_medication_entered_in_error_is_no_longer_current_nor_stopped(episode, care_manager, medication):
    services.mark_medication_entered_in_error(medication=medication, by=care_manager, reason="Wrong patient.")

    medication.refresh_from_db()
    assert not medication.is_current
    assert (medication.stopped_on, medication.stop_reason) == (None, "")  # never taken, so never stopped
    assert medications_with_latest_report(episode, current_only=True) == []
    with pytest.raises(ValidationError, match="marked entered in error"):
        services.stop_medication(medication=medication, by=care_manager, stopped_on=days_ago(0), reason="Rash")
    with pytest.raises(ValidationError, match="marked entered in error"):
        services.update_medication(
            medication=medication, by=care_manager, name="sertraline", dose="100 mg", started_on=days_ago(60)
        )


def test_a_referral_entered_in_error_leaves_the_follow_up_list_and_its_status_stays(care_rows, clinic, care_manager):
    referral = care_rows["referral"]
    assert list(services.referrals_to_follow_up(clinic)) == [referral]

    services.mark_referral_entered_in_error(referral=referral, by=care_manager, reason="Sent for another patient.")

    assert list(services.referrals_to_follow_up(clinic)) == []
    with pytest.raises(ValidationError, match="marked entered in error"):
        services.change_referral_status(referral=referral, by=care_manager, status="scheduled", on=days_ago(1))
    referral.refresh_from_db()
    assert referral.status == "sent"
