"""The care manager's plans (patients/plans.py) and the discharge rules that depend on them."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from patients import plans
from patients import services as patient_services
from patients.models import Episode, InitialAssessment, PlanChange, RelapsePreventionPlan, TreatmentPlan
from patients.tests.plan_helpers import (
    RELAPSE_PLAN,
    complete_relapse_plan,
    consultant_for,
    days_ago,
    enroll,
    in_treatment,
    recommendation_for,
)
from registry.models import RegistrySettings
from tests.factories import record_contact, record_score

pytestmark = pytest.mark.django_db


def discharge(episode, cm, reason, on=None):
    return patient_services.change_status(
        episode=episode, status="discharged", on=on or days_ago(0), by=cm, discharge_reason=reason
    )


# --- Discharge with treatment goals met (docs/clinical-definitions.md#episodes-and-status) ---


def test_discharge_with_goals_met_and_no_plan_is_refused_with_a_clear_message(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)

    with pytest.raises(ValidationError) as refused:
        discharge(episode, care_manager, "goals_met")

    assert refused.value.message_dict == {
        "discharge_reason": ["Write the relapse prevention plan before discharging with treatment goals met."]
    }
    episode.refresh_from_db()
    assert episode.status == Episode.Status.ACTIVE


def test_discharge_with_goals_met_and_a_draft_plan_names_the_missing_parts(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    plans.save_relapse_plan(episode=episode, by=care_manager, warning_signs="Poor sleep.", contacts="Maria")

    with pytest.raises(ValidationError) as refused:
        discharge(episode, care_manager, "goals_met")

    (message,) = refused.value.message_dict["discharge_reason"]
    assert message == (
        "Complete the relapse prevention plan (coping strategies, maintenance treatment, when to come back "
        "not written yet) and date it before discharging with treatment goals met."
    )


def test_discharge_with_goals_met_and_an_undated_full_plan_asks_for_its_completion(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    plans.save_relapse_plan(episode=episode, by=care_manager, **RELAPSE_PLAN)

    with pytest.raises(ValidationError) as refused:
        discharge(episode, care_manager, "goals_met")

    assert "Mark the relapse prevention plan completed" in refused.value.message_dict["discharge_reason"][0]


def test_discharge_with_goals_met_and_a_completed_plan_ends_the_episode(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    complete_relapse_plan(episode, care_manager)

    discharged = discharge(episode, care_manager, "goals_met")

    assert (discharged.status, discharged.discharge_reason) == ("discharged", "goals_met")


@pytest.mark.parametrize("reason", ["referred", "declined", "moved", "no_contact", "deceased", "other"])
def test_other_discharge_reasons_need_no_relapse_prevention_plan(clinic, care_manager, reason):
    episode = in_treatment(clinic, care_manager)

    assert discharge(episode, care_manager, reason).status == "discharged"


# --- Relapse prevention plan ----------------------------------------------------------------


def test_completing_the_relapse_plan_names_every_part_still_missing(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)

    with pytest.raises(ValidationError) as refused:
        plans.save_relapse_plan(episode=episode, by=care_manager, completed_on=days_ago(0), warning_signs="Poor sleep.")

    assert refused.value.message_dict == {
        "coping_strategies": ["Write the coping strategies before completing the plan."],
        "maintenance_treatment": ["Write the maintenance treatment before completing the plan."],
        "contacts": ["Write the who to contact before completing the plan."],
        "when_to_come_back": ["Write the when to come back before completing the plan."],
    }
    assert not RelapsePreventionPlan.objects.exists()


def test_completed_relapse_plan_records_who_and_when_and_keeps_every_version(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    plans.save_relapse_plan(episode=episode, by=care_manager, warning_signs="Poor sleep.")

    plan = complete_relapse_plan(episode, care_manager, on=days_ago(2))

    assert plan.is_complete
    assert (plan.completed_on, plan.completed_by) == (days_ago(2), care_manager)
    assert plan.history.count() == 2
    assert plan.history.earliest("history_date").history_user == care_manager


def test_relapse_plan_moves_the_episode_to_relapse_prevention_with_it_when_asked(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)

    plans.save_relapse_plan(
        episode=episode, by=care_manager, completed_on=days_ago(1), move_to_relapse_prevention=True, **RELAPSE_PLAN
    )

    episode.refresh_from_db()
    assert (episode.status, episode.status_changed_on) == ("relapse_prevention", days_ago(1))


def test_a_draft_relapse_plan_does_not_move_the_episode_and_is_not_saved(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)

    with pytest.raises(ValidationError):
        plans.save_relapse_plan(episode=episode, by=care_manager, move_to_relapse_prevention=True, **RELAPSE_PLAN)

    episode.refresh_from_db()
    assert episode.status == "active"
    assert not RelapsePreventionPlan.objects.exists()


def test_plans_of_a_discharged_episode_are_kept_as_they_were(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    discharge(episode, care_manager, "moved")

    with pytest.raises(ValidationError, match="discharged"):
        complete_relapse_plan(episode, care_manager)
    with pytest.raises(ValidationError, match="discharged"):
        plans.save_treatment_plan(episode=episode, by=care_manager, goals="x", current_treatments="y")


# --- Initial assessment ---------------------------------------------------------------------


def test_initial_assessment_is_one_per_episode_and_every_version_is_kept(clinic, care_manager):
    episode = enroll(clinic, care_manager)

    plans.save_initial_assessment(episode=episode, by=care_manager, presenting_problems="Low mood.")
    plans.save_initial_assessment(
        episode=episode,
        by=care_manager,
        presenting_problems="Low mood and worry.",
        diagnoses=plans.parse_diagnoses("F32.1\nF41.1 GAD"),
        current_suicidal_ideation=False,
        past_suicide_attempts=False,
        access_to_means=True,
        completed_on=days_ago(1),
    )

    assessment = InitialAssessment.objects.get()
    assert assessment.presenting_problems == "Low mood and worry."
    assert assessment.diagnoses == [
        {"code": "F32.1", "label": "Major depressive disorder, single episode, moderate"},
        {"code": "F41.1", "label": "GAD"},
    ]
    assert (assessment.completed_on, assessment.completed_by) == (days_ago(1), care_manager)
    assert [h.presenting_problems for h in assessment.history.order_by("history_date")] == [
        "Low mood.",
        "Low mood and worry.",
    ]


def test_completing_the_assessment_needs_the_problems_and_every_safety_answer(clinic, care_manager):
    episode = enroll(clinic, care_manager)

    with pytest.raises(ValidationError) as refused:
        plans.save_initial_assessment(
            episode=episode, by=care_manager, completed_on=days_ago(0), current_suicidal_ideation=False
        )

    assert set(refused.value.message_dict) == {"presenting_problems", "past_suicide_attempts", "access_to_means"}
    assert refused.value.message_dict["access_to_means"] == ["Answer yes or no: access to lethal means."]


def test_completed_assessment_moves_an_enrolled_episode_to_active_treatment_only_when_asked(clinic, care_manager):
    stays, moves = enroll(clinic, care_manager, mrn="A-1"), enroll(clinic, care_manager, mrn="A-2")
    answers = {
        "presenting_problems": "Low mood.",
        "current_suicidal_ideation": False,
        "past_suicide_attempts": False,
        "access_to_means": False,
        "completed_on": days_ago(3),
    }

    plans.save_initial_assessment(episode=stays, by=care_manager, **answers)
    plans.save_initial_assessment(episode=moves, by=care_manager, move_to_active=True, **answers)

    stays.refresh_from_db()
    moves.refresh_from_db()
    assert stays.status == "enrolled"
    assert (moves.status, moves.status_changed_on) == ("active", days_ago(3))


def test_assessment_dated_in_the_future_or_before_enrollment_is_refused(clinic, care_manager):
    episode = enroll(clinic, care_manager, enrolled_days_ago=10)

    for day, message in ((days_ago(-1), "future"), (days_ago(11), "before this episode began")):
        with pytest.raises(ValidationError, match=message):
            plans.save_initial_assessment(
                episode=episode,
                by=care_manager,
                presenting_problems="Low mood.",
                current_suicidal_ideation=False,
                past_suicide_attempts=False,
                access_to_means=False,
                completed_on=day,
            )


@pytest.mark.parametrize("code", ["F32.1", "F33.0", "F41.1", "F43.10", "F32.A", "Z63.0", "f10.20"])
def test_any_valid_looking_icd10_code_is_accepted(code):
    (diagnosis,) = plans.parse_diagnoses(code)

    assert diagnosis["code"] == code.upper()


@pytest.mark.parametrize("text", ["depression", "F3", "32.1", "F32.12345", "U07.1"])
def test_a_code_that_is_not_icd10_is_refused_by_name(text):
    with pytest.raises(ValidationError) as refused:
        plans.parse_diagnoses(f"F41.1\n{text} something")

    assert refused.value.message_dict == {"diagnoses": [f"{text!r} is not an ICD-10 code such as F33.1 or F41.1."]}


def test_a_diagnosis_listed_twice_is_refused():
    with pytest.raises(ValidationError, match=r"F32\.1 is listed twice"):
        plans.parse_diagnoses("F32.1\nf32.1 MDD")


# --- Treatment plan and its changes ---------------------------------------------------------


def test_treatment_plan_target_defaults_to_the_registry_target(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)

    plan = plans.save_treatment_plan(episode=episode, by=care_manager, goals="Walk daily.", current_treatments="BA")

    assert plan.target == "PHQ-9 < 5 or 50% reduction" == TreatmentPlan.DEFAULT_TARGET
    assert plan.history.get().history_user == care_manager


def test_plan_change_needs_a_reason_and_what_changed(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)

    with pytest.raises(ValidationError) as refused:
        plans.record_plan_change(episode=episode, by=care_manager, changed_on=days_ago(0), reason=" ", what_changed="")

    assert set(refused.value.message_dict) == {"reason", "what_changed"}


def test_plan_change_linked_to_a_recommendation_of_another_episode_is_refused(clinic, care_manager):
    episode = in_treatment(clinic, care_manager, mrn="A-1")
    other = in_treatment(clinic, care_manager, mrn="A-2")
    recommendation = recommendation_for(other, consultant_for(clinic), care_manager)

    with pytest.raises(ValidationError) as refused:
        plans.record_plan_change(
            episode=episode,
            by=care_manager,
            changed_on=days_ago(0),
            reason="Consultant advised.",
            what_changed="Sertraline 100 mg.",
            recommendation=recommendation,
        )

    assert refused.value.message_dict == {"recommendation": ["That recommendation belongs to another episode of care."]}
    assert not PlanChange.objects.exists()


def test_plan_change_from_an_implemented_recommendation_is_prefilled_and_linked(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    recommendation = recommendation_for(episode, consultant_for(clinic), care_manager, details="Recheck in 4 weeks.")

    change = plans.record_plan_change_from(recommendation=recommendation, by=care_manager)

    assert change.recommendation == recommendation
    assert change.changed_on == recommendation.implemented_on
    assert change.reason == (
        f"Psychiatric consultant recommended on {recommendation.recommended_on:%Y-%m-%d}: "
        "Adjust a dose sertraline 100 mg daily."
    )
    assert change.what_changed == "Adjust a dose sertraline 100 mg daily: Recheck in 4 weeks."


def test_a_recommendation_becomes_one_plan_change_only(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    recommendation = recommendation_for(episode, consultant_for(clinic), care_manager)
    plans.record_plan_change_from(recommendation=recommendation, by=care_manager)

    with pytest.raises(ValidationError, match="already records this recommendation"):
        plans.record_plan_change_from(recommendation=recommendation, by=care_manager)

    assert PlanChange.objects.count() == 1


def test_a_recommendation_not_yet_implemented_does_not_change_the_plan_in_one_click(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    recommendation = recommendation_for(episode, consultant_for(clinic), care_manager, implemented=False)

    with pytest.raises(ValidationError, match="Only an implemented recommendation"):
        plans.record_plan_change_from(recommendation=recommendation, by=care_manager)


def test_plan_change_entered_in_error_stays_with_its_reason_and_frees_the_recommendation(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    recommendation = recommendation_for(episode, consultant_for(clinic), care_manager)
    wrong = plans.record_plan_change_from(recommendation=recommendation, by=care_manager)

    plans.mark_plan_change_entered_in_error(change=wrong, by=care_manager, reason="Wrong patient's dose.")
    again = plans.record_plan_change_from(recommendation=recommendation, by=care_manager)

    wrong.refresh_from_db()
    assert wrong.is_entered_in_error and wrong.entered_in_error_reason == "Wrong patient's dose."
    assert list(PlanChange.objects.filter(episode=episode)) == [again, wrong]
    with pytest.raises(ValidationError, match="Say why"):
        plans.mark_plan_change_entered_in_error(change=again, by=care_manager, reason=" ")


# --- Suggested discharges (no contact for 6 months) ---------------------------------------


def suggested(today=None):
    return list(plans.suggested_discharges(Episode.objects.all(), today or days_ago(0)))


@pytest.mark.parametrize(("days", "listed"), [(181, False), (182, True), (400, True)])
def test_discharge_is_suggested_after_182_days_without_a_completed_contact(clinic, care_manager, days, listed):
    episode = enroll(clinic, care_manager, enrolled_days_ago=500)
    record_contact(episode, days_ago(days), care_manager, kind="initial_assessment")
    record_contact(episode, days_ago(days - 30), care_manager, reached=False, kind="outreach")  # not completed

    assert (episode in suggested()) is listed


@pytest.mark.parametrize(("days", "listed"), [(181, False), (182, True)])
def test_with_no_contact_at_all_the_days_count_from_enrollment(clinic, care_manager, days, listed):
    episode = enroll(clinic, care_manager, enrolled_days_ago=days)

    assert (episode in suggested()) is listed


def test_the_clinic_setting_sets_the_days_and_discharged_episodes_are_not_listed(clinic, care_manager):
    RegistrySettings.objects.create(clinic=clinic, no_contact_discharge_days=90)
    open_one = enroll(clinic, care_manager, mrn="A-1", enrolled_days_ago=90)
    recent = enroll(clinic, care_manager, mrn="A-2", enrolled_days_ago=89)
    gone = enroll(clinic, care_manager, mrn="A-3", enrolled_days_ago=200)
    discharge(gone, care_manager, "moved")

    assert suggested() == [open_one]
    assert recent not in suggested()


def test_discharge_for_no_contact_uses_the_reason_and_says_since_when(clinic, care_manager):
    episode = enroll(clinic, care_manager, enrolled_days_ago=300)
    record_contact(episode, days_ago(200), care_manager, kind="initial_assessment")
    episode.refresh_from_db()

    plans.discharge_for_no_contact(episode=episode, by=care_manager, on=days_ago(0))

    episode.refresh_from_db()
    assert (episode.status, episode.discharge_reason) == ("discharged", "no_contact")
    assert episode.discharge_note == f"No completed contact since {days_ago(200):%Y-%m-%d}."


def test_discharge_for_no_contact_is_refused_once_the_patient_was_reached(clinic, care_manager):
    episode = enroll(clinic, care_manager, enrolled_days_ago=300)
    record_contact(episode, days_ago(3), care_manager, kind="initial_assessment")

    with pytest.raises(ValidationError, match="completed contact recently"):
        plans.discharge_for_no_contact(episode=episode, by=care_manager, on=days_ago(0))


# --- Re-enrollment: a fresh baseline (docs/clinical-definitions.md#baseline-latest-and-change) ---


def reenrolled(clinic, cm, *, discharged_days_ago: int, enrolled_days_ago: int):
    first = in_treatment(clinic, cm, enrolled_days_ago=300)
    record_score(first, "PHQ9", 22, days_ago(300), cm)
    record_score(first, "PHQ9", 6, days_ago(discharged_days_ago + 5), cm)  # inside the new look-back window
    discharge(first, cm, "moved", on=days_ago(discharged_days_ago))
    second = patient_services.start_episode(patient=first.patient, enrolled_on=days_ago(enrolled_days_ago), by=cm)
    return first, second


def test_a_reenrolled_patients_new_episode_has_its_own_first_score_as_baseline(clinic, care_manager):
    first, second = reenrolled(clinic, care_manager, discharged_days_ago=20, enrolled_days_ago=10)

    record_score(second, "PHQ9", 14, days_ago(8), care_manager)
    record_score(second, "PHQ9", 9, days_ago(1), care_manager)

    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.phq9_baseline, second.phq9_baseline_on, second.phq9_latest) == (14, days_ago(8), 9)
    assert (first.phq9_baseline, first.phq9_latest) == (22, 6)


def test_a_new_episode_without_scores_has_no_baseline_from_the_previous_one(clinic, care_manager):
    _, second = reenrolled(clinic, care_manager, discharged_days_ago=20, enrolled_days_ago=10)

    second.refresh_from_db()

    assert second.phq9_baseline is None


def test_a_score_dated_while_the_previous_episode_was_open_cannot_be_the_new_baseline(clinic, care_manager):
    _, second = reenrolled(clinic, care_manager, discharged_days_ago=20, enrolled_days_ago=10)

    with pytest.raises(ValidationError, match="before this episode began"):
        record_score(second, "PHQ9", 18, days_ago(20), care_manager)  # discharge day: the old episode's


def test_a_screening_after_the_discharge_within_the_look_back_is_the_new_baseline(clinic, care_manager):
    _, second = reenrolled(clinic, care_manager, discharged_days_ago=20, enrolled_days_ago=10)

    record_score(second, "PHQ9", 18, days_ago(19), care_manager)
    record_score(second, "PHQ9", 12, days_ago(5), care_manager)

    second.refresh_from_db()
    assert (second.phq9_baseline, second.phq9_baseline_on) == (18, days_ago(19))


def test_reenrolled_the_day_of_discharge_a_score_that_day_belongs_to_the_new_episode(clinic, care_manager):
    _, second = reenrolled(clinic, care_manager, discharged_days_ago=3, enrolled_days_ago=3)

    record_score(second, "PHQ9", 17, days_ago(3), care_manager)

    second.refresh_from_db()
    assert second.phq9_baseline == 17
    assert second.earliest_score_on(30) == days_ago(3)


def test_a_first_episode_keeps_the_whole_look_back(clinic, care_manager):
    episode = enroll(clinic, care_manager, enrolled_days_ago=10)

    assert episode.earliest_score_on(30) == days_ago(40)
    assert episode.earliest_score_on(30) == episode.enrolled_on - datetime.timedelta(days=30)


def test_current_suicidal_ideation_at_assessment_raises_the_safety_flag_once(db, clinic, care_manager):
    from registry.models import Flag
    from tests.factories import EpisodeFactory

    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager)

    plans.save_initial_assessment(
        episode=episode, by=care_manager, presenting_problems="Low mood.", current_suicidal_ideation=True
    )
    plans.save_initial_assessment(episode=episode, by=care_manager, presenting_problems="Low mood, poor sleep.")

    flag = Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY)
    assert flag.is_open and flag.raised_by == care_manager
    assert "suicidal ideation" in flag.reason
