"""The plan pages, the patient page's plan panels, and suggested discharges, through the client."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consults.review_panel import review_panel
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
from tests.factories import UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def page_of(client, episode) -> str:
    return client.get(reverse("patients:detail", args=[episode.patient_id])).content.decode()


ASSESSMENT_POST = {
    "presenting_problems": "Low mood since spring.",
    "diagnoses": "F32.1\nF43.10 PTSD after the accident",
    "alcohol_use": "2 drinks a week",
    "tobacco_use": "",
    "cannabis_use": "",
    "other_drug_use": "",
    "substance_use_notes": "",
    "current_suicidal_ideation": "no",
    "past_suicide_attempts": "no",
    "access_to_means": "yes",
    "safety_notes": "Firearm at home, locked.",
    "stressors": "Job loss",
    "supports": "Sister",
    "patient_goals": "Walk with my sister again.",
    "completed_on": days_ago(1).isoformat(),
}


# --- Initial assessment ---------------------------------------------------------------------


def test_care_manager_writes_the_initial_assessment_and_sees_it_on_the_patient_page(cm_client, clinic, care_manager):
    episode = enroll(clinic, care_manager)
    url = reverse("patients:initial_assessment", args=[episode.patient_id])
    assert cm_client.get(url).status_code == 200

    response = cm_client.post(url, ASSESSMENT_POST, follow=True)

    assert messages_of(response) == ["Initial assessment completed."]
    assessment = InitialAssessment.objects.get(episode=episode)
    assert [d["code"] for d in assessment.diagnoses] == ["F32.1", "F43.10"]
    assert assessment.access_to_means is True and assessment.current_suicidal_ideation is False
    html = response.content.decode()
    assert 'data-diagnosis="F43.10"' in html and "PTSD after the accident" in html
    assert "Walk with my sister again." in html
    assert "Move to active treatment" in html  # offered: the episode is still enrolled
    episode.refresh_from_db()
    assert episode.status == "enrolled"


def test_assessment_form_can_move_the_episode_to_active_treatment(cm_client, clinic, care_manager):
    episode = enroll(clinic, care_manager)

    cm_client.post(
        reverse("patients:initial_assessment", args=[episode.patient_id]), {**ASSESSMENT_POST, "move_to_active": "on"}
    )

    episode.refresh_from_db()
    assert (episode.status, episode.status_changed_on) == ("active", days_ago(1))


def test_assessment_form_names_a_bad_code_and_saves_nothing(cm_client, clinic, care_manager):
    episode = enroll(clinic, care_manager)

    response = cm_client.post(
        reverse("patients:initial_assessment", args=[episode.patient_id]), {**ASSESSMENT_POST, "diagnoses": "sad"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["diagnoses"] == ["'sad' is not an ICD-10 code such as F33.1 or F41.1."]
    assert not InitialAssessment.objects.exists()


def test_assessment_form_shows_the_services_missing_answers_on_their_fields(cm_client, clinic, care_manager):
    episode = enroll(clinic, care_manager)

    response = cm_client.post(
        reverse("patients:initial_assessment", args=[episode.patient_id]),
        {**ASSESSMENT_POST, "presenting_problems": "", "access_to_means": ""},
    )

    errors = response.context["form"].errors
    assert errors["presenting_problems"] == ["Describe the presenting problems before completing the assessment."]
    assert errors["access_to_means"] == ["Answer yes or no: access to lethal means."]


# --- Treatment plan and its changes ---------------------------------------------------------


def test_treatment_plan_form_starts_with_the_default_target_and_saves(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    url = reverse("patients:treatment_plan", args=[episode.patient_id])
    assert cm_client.get(url).context["form"]["target"].value() == "PHQ-9 < 5 or 50% reduction"

    response = cm_client.post(
        url, {"goals": "Sleep.", "target": "PHQ-9 < 10", "current_treatments": "Sertraline 50 mg"}, follow=True
    )

    assert messages_of(response) == ["Treatment plan saved."]
    assert TreatmentPlan.objects.get(episode=episode).target == "PHQ-9 < 10"
    assert "Sertraline 50 mg" in response.content.decode()


def test_plan_changes_are_recorded_and_listed_newest_first(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    url = reverse("patients:plan_change", args=[episode.patient_id])
    assert cm_client.get(url).status_code == 200

    for day, what in ((days_ago(30), "Older change"), (days_ago(2), "Newer change")):
        cm_client.post(url, {"changed_on": day.isoformat(), "reason": "Not improving.", "what_changed": what})

    html = page_of(cm_client, episode)
    assert PlanChange.objects.count() == 2
    assert html.index("Newer change") < html.index("Older change")


def test_plan_change_form_refuses_a_future_date_and_a_missing_reason(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)

    response = cm_client.post(
        reverse("patients:plan_change", args=[episode.patient_id]),
        {"changed_on": days_ago(-1).isoformat(), "reason": "", "what_changed": "x"},
    )

    assert set(response.context["form"].errors) == {"changed_on", "reason"}
    assert not PlanChange.objects.exists()


def test_one_click_records_an_implemented_recommendation_as_a_plan_change(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    recommendation = recommendation_for(episode, consultant_for(clinic), care_manager)
    assert f'data-recommendation-to-record="{recommendation.pk}"' in page_of(cm_client, episode)

    response = cm_client.post(
        reverse("patients:plan_change_from_recommendation", args=[recommendation.pk]), follow=True
    )

    change = PlanChange.objects.get()
    assert change.recommendation == recommendation
    html = response.content.decode()
    assert f'data-plan-change="{change.pk}"' in html
    assert f'data-recommendation-to-record="{recommendation.pk}"' not in html


def test_a_plan_change_is_marked_entered_in_error_with_its_reason(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    change = plans.record_plan_change(
        episode=episode, by=care_manager, changed_on=days_ago(1), reason="r", what_changed="w"
    )
    url = reverse("patients:plan_change_entered_in_error", args=[change.pk])
    assert cm_client.get(url).status_code == 200

    cm_client.post(url, {"reason": "Wrong patient."})

    change.refresh_from_db()
    assert change.is_entered_in_error and change.entered_in_error_by == care_manager
    assert "Entered in error" in page_of(cm_client, episode)


def test_the_consultant_sees_the_treatment_plan_in_the_review_panel(clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    plans.save_treatment_plan(episode=episode, by=care_manager, goals="g", current_treatments="Sertraline 50 mg")

    panel = review_panel(episode)

    assert panel["treatment_plan"].current_treatments == "Sertraline 50 mg"


# --- Relapse prevention plan ----------------------------------------------------------------


def test_care_manager_completes_the_relapse_plan_and_moves_to_relapse_prevention(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    url = reverse("patients:relapse_plan", args=[episode.patient_id])
    assert cm_client.get(url).status_code == 200

    response = cm_client.post(
        url,
        {**RELAPSE_PLAN, "completed_on": days_ago(0).isoformat(), "move_to_relapse_prevention": "on"},
        follow=True,
    )

    assert messages_of(response) == ["Relapse prevention plan completed. The episode is in relapse prevention."]
    episode.refresh_from_db()
    assert episode.status == "relapse_prevention"
    assert RelapsePreventionPlan.objects.get(episode=episode).is_complete


def test_choosing_relapse_prevention_without_the_plan_leads_to_writing_it(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    assert "write the relapse prevention plan" in page_of(cm_client, episode)

    response = cm_client.post(
        reverse("patients:change_status", args=[episode.patient_id]),
        {"status": "relapse_prevention", "on": days_ago(0).isoformat()},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == (
        reverse("patients:relapse_plan", args=[episode.patient_id]) + "?then=relapse_prevention"
    )
    assert response.context["form"]["move_to_relapse_prevention"].value() is True
    episode.refresh_from_db()
    assert episode.status == "active"


def test_choosing_relapse_prevention_with_a_completed_plan_changes_the_status(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    complete_relapse_plan(episode, care_manager)

    cm_client.post(
        reverse("patients:change_status", args=[episode.patient_id]),
        {"status": "relapse_prevention", "on": days_ago(0).isoformat()},
    )

    episode.refresh_from_db()
    assert episode.status == "relapse_prevention"


def test_status_form_refuses_discharge_with_goals_met_without_the_plan(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)

    response = cm_client.post(
        reverse("patients:change_status", args=[episode.patient_id]),
        {"status": "discharged", "on": days_ago(0).isoformat(), "discharge_reason": "goals_met"},
    )

    assert response.status_code == 400
    assert "Write the relapse prevention plan before discharging with treatment goals met." in (
        response.content.decode()
    )
    episode.refresh_from_db()
    assert episode.is_open


def test_the_patients_copy_is_printable_in_large_print_with_the_crisis_line(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    complete_relapse_plan(episode, care_manager)

    response = cm_client.get(reverse("patients:relapse_plan_print", args=[episode.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="print-page large-print"' in html and "css/print.css" in html
    assert "My plan to stay well" in html and "Sleeping badly for a week." in html
    assert "<strong>988</strong>" in html
    assert "MRN" not in html  # the patient's own copy: plain language, no registry codes


def test_a_discharged_patients_plan_stays_printable(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    complete_relapse_plan(episode, care_manager)
    patient_services.change_status(
        episode=episode, status="discharged", on=days_ago(0), by=care_manager, discharge_reason="goals_met"
    )

    printable = reverse("patients:relapse_plan_print", args=[episode.pk])
    assert printable in page_of(cm_client, episode)
    assert cm_client.get(printable).status_code == 200


# --- Another clinic, and roles that only read ----------------------------------------------


def test_another_clinics_plans_are_not_found(client, clinic, other_clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    complete_relapse_plan(episode, care_manager)
    client.force_login(UserFactory(username="south-cm", clinics=[other_clinic]))

    pages = [
        reverse("patients:initial_assessment", args=[episode.patient_id]),
        reverse("patients:treatment_plan", args=[episode.patient_id]),
        reverse("patients:relapse_plan", args=[episode.patient_id]),
        reverse("patients:relapse_plan_print", args=[episode.pk]),
        reverse("patients:discharge_for_no_contact", args=[episode.patient_id]),
    ]

    assert [client.get(url).status_code for url in pages] == [404] * len(pages)


def test_a_pcp_reads_the_plans_but_cannot_write_them(client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)
    plans.save_treatment_plan(episode=episode, by=care_manager, goals="Sleep.", current_treatments="BA")
    client.force_login(UserFactory(username="pcp", role="medical_provider", fte=None, clinics=[clinic]))

    html = page_of(client, episode)
    forbidden = client.get(reverse("patients:treatment_plan", args=[episode.patient_id]))

    assert "Sleep." in html and "Record a plan change" not in html
    assert forbidden.status_code == 403


# --- Suggested discharges -------------------------------------------------------------------

SUGGESTED = reverse("patients:suggested_discharges")


def test_suggested_discharges_list_the_patients_without_contact_for_182_days(cm_client, clinic, care_manager):
    quiet = enroll(clinic, care_manager, mrn="Q-1", enrolled_days_ago=182)
    enroll(clinic, care_manager, mrn="R-1", enrolled_days_ago=181)

    response = cm_client.get(SUGGESTED)

    assert [e.pk for e in response.context["page"]] == [quiet.pk]
    html = response.content.decode()
    assert "Q-1" in html and "R-1" not in html
    assert reverse("registry:reengagement") in html
    assert 'href="/patients/suggested-discharges/">Suggested discharges</a>' in page_of(cm_client, quiet)  # navbar
    assert SUGGESTED in cm_client.get(reverse("registry:reengagement")).content.decode()


def test_suggested_discharges_cost_the_same_queries_for_2_or_12_patients(cm_client, clinic, care_manager):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert cm_client.get(SUGGESTED).status_code == 200
        return len(queries)

    for n in range(2):
        enroll(clinic, care_manager, mrn=f"A-{n}", enrolled_days_ago=200 + n)
    cm_client.get(SUGGESTED)
    few = count()
    for n in range(10):
        episode = enroll(clinic, care_manager, mrn=f"B-{n}", enrolled_days_ago=300 + n)
        record_contact(episode, days_ago(250), care_manager, kind="initial_assessment")

    many = count()

    assert len(cm_client.get(SUGGESTED).context["page"]) == 12
    assert few == many


def test_a_care_manager_sees_their_own_suggestions_first_and_everyones_on_request(cm_client, clinic, care_manager):
    colleague = UserFactory(username="cm2", clinics=[clinic])
    mine = enroll(clinic, care_manager, mrn="M-1", enrolled_days_ago=200)
    theirs = enroll(clinic, colleague, mrn="T-1", enrolled_days_ago=200)

    own = cm_client.get(SUGGESTED).context["page"]
    everyone = cm_client.get(SUGGESTED, {"team": "all"}).context["page"]

    assert [e.pk for e in own] == [mine.pk]
    assert {e.pk for e in everyone} == {mine.pk, theirs.pk}


def test_the_patient_page_shows_the_suggestion_and_discharge_is_confirmed_then_done(cm_client, clinic, care_manager):
    episode = enroll(clinic, care_manager, enrolled_days_ago=300)
    record_contact(episode, days_ago(190), care_manager, kind="initial_assessment")
    assert "data-discharge-suggested" in page_of(cm_client, episode)
    url = reverse("patients:discharge_for_no_contact", args=[episode.patient_id])

    confirm = cm_client.get(url)
    response = cm_client.post(url, follow=True)

    assert confirm.status_code == 200 and "Discharge for no contact" in confirm.content.decode()
    episode.refresh_from_db()
    assert (episode.status, episode.discharge_reason, episode.discharged_on) == (
        "discharged",
        "no_contact",
        days_ago(0),
    )
    assert response.redirect_chain[-1][0] == SUGGESTED
    assert episode.patient.mrn in cm_client.get(reverse("registry:reengagement")).content.decode()


def test_a_patient_in_contact_has_no_discharge_banner_and_is_not_discharged(cm_client, clinic, care_manager):
    episode = in_treatment(clinic, care_manager)

    cm_client.post(reverse("patients:discharge_for_no_contact", args=[episode.patient_id]))

    assert "data-discharge-suggested" not in page_of(cm_client, episode)
    episode.refresh_from_db()
    assert episode.is_open


def test_discharge_needs_a_post_with_the_csrf_token(client, clinic, care_manager):
    from django.test import Client

    episode = enroll(clinic, care_manager, enrolled_days_ago=300)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(care_manager)

    response = strict.post(reverse("patients:discharge_for_no_contact", args=[episode.patient_id]))

    assert response.status_code == 403
    episode.refresh_from_db()
    assert episode.is_open


# --- Re-enrollment ------------------------------------------------------------------------


def test_the_patient_page_shows_past_episodes_and_the_new_episodes_own_baseline(cm_client, clinic, care_manager):
    first = in_treatment(clinic, care_manager, enrolled_days_ago=300)
    record_score(first, "PHQ9", 22, days_ago(290), care_manager)
    patient_services.change_status(
        episode=first, status="discharged", on=days_ago(100), by=care_manager, discharge_reason="moved"
    )
    cm_client.post(reverse("patients:reenroll", args=[first.patient_id]), {"enrolled_on": days_ago(20).isoformat()})
    second = Episode.objects.get(patient=first.patient, status="enrolled")
    record_score(second, "PHQ9", 13, days_ago(18), care_manager)

    response = cm_client.get(reverse("patients:detail", args=[first.patient_id]))

    html = response.content.decode()
    assert response.context["episode"] == second
    assert [e.pk for e in response.context["episodes"]] == [second.pk, first.pk]
    assert reverse("patients:episode", args=[first.patient_id, first.pk]) in html
    assert f"{days_ago(300):%Y-%m-%d} \N{EN DASH} {days_ago(100):%Y-%m-%d}" in html
    second.refresh_from_db()
    assert (second.phq9_baseline, second.phq9_baseline_on) == (13, days_ago(18))
