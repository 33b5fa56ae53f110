"""The care screens, and the record-contact page with its treatment parts in one sitting."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from care import services
from care.models import EducationGiven, EducationTopic, InterventionSession, Medication, MedicationReport, Referral
from care.panels import care_context
from care.services import SessionInput
from care.tests.conftest import days_ago
from consults.review_panel import review_panel
from registry.models import Contact, Measurement
from tests.factories import EpisodeFactory, UserFactory, record_contact

pytestmark = pytest.mark.django_db


def contact_post(**overrides) -> dict:
    data = {
        "contact_date": days_ago(1).isoformat(),
        "kind": "follow_up",
        "with_whom": "patient",
        "mode": "phone",
        "reached": "on",
        "minutes": "30",
        "interventions": ["psychoeducation"],
        "note": "Follow-up call.",
    }
    data.update(overrides)
    return data


def phq9(answers=(2, 2, 1, 2, 1, 1, 1, 2, 0)) -> dict:
    return {f"phq9-item_{n}": str(a) for n, a in enumerate(answers, start=1)}


def errors_of(form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


# --- Recording in one sitting ------------------------------------------------------------------


def test_a_contact_with_phq9_side_effect_pst_session_referral_and_education_is_saved_in_one_post(
    cm_client, patient, episode, medication, library
):
    data = {
        **contact_post(),
        **phq9(),
        f"med-{medication.pk}-adherence": "as_prescribed",
        f"med-{medication.pk}-side_effect_severity": "mild",
        f"med-{medication.pk}-side_effects": "nausea in the morning",
        f"med-{medication.pk}-effectiveness": "somewhat_better",
        "session-1-intervention": "problem_solving",
        "session-1-session_number": "2",
        "session-1-planned_sessions": "6",
        "referral-kind": "pst_group",
        "referral-to_whom": "Tuesday PST group",
        "referral-reason": "Practise problem solving with others.",
        "education-topics": [str(library[0].pk)],
        "education-how": "in_person",
    }

    response = cm_client.post(reverse("registry:record_contact", args=[patient.pk]), data)

    assert response.status_code == 302
    contact = Contact.objects.get(episode=episode)
    assert Measurement.objects.get(contact=contact).total == 12
    report = MedicationReport.objects.get(contact=contact)
    assert (report.side_effect_severity, report.side_effects) == ("mild", "nausea in the morning")
    session = InterventionSession.objects.get(contact=contact)
    assert (session.session_number, session.planned_sessions) == (2, 6)
    assert contact.interventions == ["psychoeducation", "problem_solving"]
    assert Referral.objects.get(episode=episode).contact == contact
    assert EducationGiven.objects.get(episode=episode).given_on == days_ago(1)
    page = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "nausea in the morning" in page
    assert "Tuesday PST group" in page
    assert library[0].title in page


def test_every_invalid_part_is_shown_and_nothing_is_saved(cm_client, patient, medication):
    data = {
        **contact_post(),
        **phq9(),
        f"med-{medication.pk}-side_effect_severity": "moderate",  # not described
        "session-1-session_number": "3",  # no intervention chosen
        "referral-kind": "housing",  # nobody to refer to, no reason
    }

    response = cm_client.post(reverse("registry:record_contact", args=[patient.pk]), data)

    (treatment,) = response.context["parts"]  # the care part of the contact page
    assert response.status_code == 400  # refused: drawn again with what was typed
    assert "Describe the side effects." in errors_of(treatment.report_forms[0])
    assert "Choose the intervention this session belongs to." in errors_of(treatment.session_forms[0])
    assert {"to_whom", "reason"} <= set(treatment.referral_form.errors)
    assert not Contact.objects.exists()
    assert not Measurement.objects.exists()


def test_a_part_the_service_refuses_rolls_back_the_contact_and_its_scores(cm_client, patient, episode, care_manager):
    earlier = record_contact(episode, days_ago(10), care_manager)
    services.record_treatment_details(
        contact=earlier, by=care_manager, sessions=[SessionInput("problem_solving", planned_sessions=6)]
    )
    data = {**contact_post(), **phq9(), "session-1-intervention": "problem_solving", "session-1-session_number": "1"}

    response = cm_client.post(reverse("registry:record_contact", args=[patient.pk]), data)

    assert response.status_code == 400  # refused: drawn again with what was typed
    assert any("session 1 was recorded on" in e for e in errors_of(response.context["parts"][0].session_forms[0]))
    assert list(Contact.objects.all()) == [earlier]
    assert not Measurement.objects.exists()


def test_the_patient_pages_quick_contact_form_still_saves_without_treatment_parts(cm_client, patient, medication):
    response = cm_client.post(reverse("registry:record_contact", args=[patient.pk]), contact_post())

    assert response.status_code == 302
    assert Contact.objects.count() == 1
    assert not MedicationReport.objects.exists()


def test_the_record_contact_page_offers_each_current_medication_and_the_next_session(
    cm_client, patient, episode, care_manager, medication
):
    earlier = record_contact(episode, days_ago(10), care_manager)
    services.record_treatment_details(
        contact=earlier, by=care_manager, sessions=[SessionInput("problem_solving", planned_sessions=6)]
    )

    page = cm_client.get(reverse("registry:record_contact", args=[patient.pk])).content.decode()

    assert f'name="med-{medication.pk}-adherence"' in page
    assert "Problem-solving treatment 1 of 6 (next: session 2)" in page


# --- Medications --------------------------------------------------------------------------------


def test_a_care_manager_adds_edits_and_stops_a_medication(cm_client, patient, episode, pcp):
    added = cm_client.post(
        reverse("care:add_medication", args=[patient.pk]),
        {
            "name": "escitalopram",
            "dose": "10 mg",
            "instructions": "daily",
            "started_on": days_ago(3),
            "prescriber": pcp.pk,
        },
    )
    medication = Medication.objects.get(episode=episode)
    edited = cm_client.post(
        reverse("care:edit_medication", args=[medication.pk]),
        {"name": "escitalopram", "dose": "20 mg", "started_on": days_ago(3), "prescriber": pcp.pk},
    )
    stopped = cm_client.post(
        reverse("care:stop_medication", args=[medication.pk]), {"stopped_on": days_ago(0), "stop_reason": "Rash"}
    )

    medication.refresh_from_db()
    assert [r.status_code for r in (added, edited, stopped)] == [302, 302, 302]
    assert (medication.dose, medication.prescriber, medication.stop_reason) == ("20 mg", pcp, "Rash")
    page = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Stopped medications (1)" in page


def test_a_medication_form_names_each_missing_field(cm_client, patient):
    response = cm_client.post(reverse("care:add_medication", args=[patient.pk]), {"started_on": days_ago(-3)})

    form = response.context["form"]
    assert {"name", "dose", "started_on"} <= set(form.errors)
    assert "The start date cannot be in the future." in errors_of(form)
    assert not Medication.objects.exists()


def test_a_pcp_may_read_but_not_add_medications(client, patient, pcp):
    client.force_login(pcp)

    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    assert client.get(reverse("care:add_medication", args=[patient.pk])).status_code == 403


def test_another_clinics_patient_is_not_found(client, patient):
    outsider = UserFactory(username="south-cm", clinics=[EpisodeFactory().patient.clinic])
    client.force_login(outsider)

    assert client.get(reverse("care:add_medication", args=[patient.pk])).status_code == 404
    assert client.get(reverse("care:add_referral", args=[patient.pk])).status_code == 404


def test_the_consultants_panel_shows_current_medications_with_the_latest_report(episode, care_manager, medication):
    contact = record_contact(episode, days_ago(2), care_manager)
    services.record_treatment_details(
        contact=contact,
        by=care_manager,
        medication_reports=[services.ReportInput(medication, side_effect_severity="mild", side_effects="headache")],
    )

    (shown,) = review_panel(episode)["current_medications"]

    assert shown == medication
    assert "headache" in shown.latest_report.summary()


# --- Referrals ----------------------------------------------------------------------------------


def test_a_care_manager_makes_a_referral_and_moves_it_on(cm_client, patient, episode):
    cm_client.post(
        reverse("care:add_referral", args=[patient.pk]),
        {"kind": "housing", "to_whom": "County housing", "reason": "Eviction notice", "sent_on": days_ago(5)},
    )
    referral = Referral.objects.get(episode=episode)

    page = cm_client.get(reverse("care:referral_status", args=[referral.pk]))
    refused = cm_client.post(
        reverse("care:referral_status", args=[referral.pk]), {"status": "completed", "on": days_ago(1)}
    )
    done = cm_client.post(
        reverse("care:referral_status", args=[referral.pk]), {"status": "scheduled", "on": days_ago(-3)}
    )

    referral.refresh_from_db()
    assert [c for c, _ in page.context["form"].fields["status"].choices] == ["scheduled", "declined"]
    assert refused.status_code == 200 and "status" in refused.context["form"].errors
    assert done.status_code == 302
    assert (referral.status, referral.scheduled_for) == ("scheduled", days_ago(-3))


def overdue_referrals(episode, by, count: int) -> None:
    for n in range(count):
        services.make_referral(
            episode=episode, by=by, kind="housing", to_whom=f"Office {n}", reason="r", sent_on=days_ago(40 + n)
        )


def test_referrals_to_follow_up_lists_the_clinics_overdue_referrals_oldest_first(cm_client, episode, care_manager):
    overdue_referrals(episode, care_manager, 3)
    services.make_referral(
        episode=episode, by=care_manager, kind="housing", to_whom="Recent", reason="r", sent_on=days_ago(3)
    )

    response = cm_client.get(reverse("care:referrals_to_follow_up"))

    assert [r.to_whom for r in response.context["referrals"]] == ["Office 2", "Office 1", "Office 0"]
    assert "Referrals to follow up" in response.content.decode()


def test_referrals_to_follow_up_costs_the_same_queries_for_few_or_many(cm_client, episode, care_manager):
    url = reverse("care:referrals_to_follow_up")
    overdue_referrals(episode, care_manager, 2)
    cm_client.get(url)  # the session's first request does its one-off work
    with CaptureQueriesContext(connection) as few:
        cm_client.get(url)
    for _ in range(9):  # across patients, each with a care manager to show
        other = EpisodeFactory(patient__clinic=episode.patient.clinic, patient__care_manager=care_manager)
        overdue_referrals(other, care_manager, 2)

    with CaptureQueriesContext(connection) as many:
        response = cm_client.get(url)

    assert len(response.context["referrals"]) == 20
    assert len(many) == len(few) <= 10


def test_a_pcp_has_no_referral_follow_up_list(client, pcp):
    client.force_login(pcp)

    assert client.get(reverse("care:referrals_to_follow_up")).status_code == 403


# --- Education ----------------------------------------------------------------------------------


def test_a_clinic_admin_adds_and_edits_a_library_topic(client, clinic, clinic_admin, library):
    client.force_login(clinic_admin)

    added = client.post(
        reverse("care:add_topic") + f"?clinic={clinic.pk}",
        {"title": "Grief", "category": "other", "language": "", "active": "on", "handout_text": "Grief takes time."},
    )
    topic = EducationTopic.objects.get(clinic=clinic, title="Grief")
    edited = client.post(
        reverse("care:edit_topic", args=[topic.pk]),
        {"title": "Grief and loss", "category": "other", "language": "", "handout_text": "Grief takes time."},
    )

    topic.refresh_from_db()
    assert (added.status_code, edited.status_code) == (302, 302)
    assert (topic.title, topic.active) == ("Grief and loss", False)
    assert topic.history.count() == 2


def test_a_duplicate_topic_title_is_named_on_the_form(client, clinic, clinic_admin, library):
    client.force_login(clinic_admin)

    response = client.post(
        reverse("care:add_topic"), {"title": library[0].title, "category": "other", "handout_text": "x"}
    )

    assert "The library already has a topic with this title in this language." in errors_of(response.context["form"])


def test_a_care_manager_reads_the_library_but_may_not_edit_it(cm_client, library):
    listed = cm_client.get(reverse("care:topics"))

    assert len(listed.context["topics"]) == len(library)
    assert not listed.context["can_edit"]
    assert cm_client.get(reverse("care:edit_topic", args=[library[0].pk])).status_code == 403
    assert cm_client.get(reverse("care:add_topic")).status_code == 403


def test_the_handout_prints_its_paragraphs(cm_client, library):
    response = cm_client.get(reverse("care:print_topic", args=[library[0].pk]))

    page = response.content.decode()
    assert "css/print.css" in page
    assert page.count("<p>") >= 3


def test_education_given_on_its_own_is_shown_on_the_patient_page(cm_client, patient, episode, library):
    response = cm_client.post(
        reverse("care:give_education", args=[patient.pk]),
        {"topic": library[2].pk, "given_on": days_ago(2), "how": "mailed", "note": "With the BA worksheet"},
    )

    assert response.status_code == 302
    page = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert library[2].title in page and "With the BA worksheet" in page


# --- The patient page's panels ------------------------------------------------------------------


def fill_care(episode, by, medication, topics, contacts: int) -> None:
    for n in range(contacts):
        contact = record_contact(episode, days_ago(30 - n), by)
        services.record_treatment_details(
            contact=contact,
            by=by,
            medication_reports=[services.ReportInput(medication, adherence="as_prescribed")],
            sessions=[SessionInput("behavioral_activation", planned_sessions=8)],
            referral=services.ReferralInput(kind="housing", to_whom=f"Office {n}", reason="r"),
            education=services.EducationInput(topics=topics[:1], how="in_person"),
        )


@pytest.mark.parametrize("contacts", [1, 6])
def test_the_patient_pages_care_panels_cost_the_same_queries_for_a_short_or_long_history(
    episode, care_manager, medication, library, contacts, django_assert_num_queries
):
    fill_care(episode, care_manager, medication, library, contacts)
    services.add_medication(episode=episode, by=care_manager, name="bupropion", dose="150 mg", started_on=days_ago(5))

    with django_assert_num_queries(5):
        context = care_context(episode, care_manager)

    (summary,) = context["intervention_summary"]
    assert (summary.done, summary.planned, summary.last_on) == (contacts, 8, days_ago(31 - contacts))
    assert [m.name for m in context["current_medications"]] == ["bupropion", "sertraline"]
    assert context["current_medications"][1].latest_report.contact.contact_date == days_ago(31 - contacts)
    assert len(context["referrals"]) == contacts


def test_a_consultant_sees_the_panels_without_edit_links(client, clinic, patient, medication):
    consultant = UserFactory(username="drchen", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])
    client.force_login(consultant)

    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()

    assert "sertraline" in page
    assert reverse("care:stop_medication", args=[medication.pk]) not in page


# --- Entered in error ----------------------------------------------------------------------------

IN_ERROR_URL = {
    "medication": "care:medication_entered_in_error",
    "referral": "care:referral_entered_in_error",
    "education_given": "care:education_given_entered_in_error",
}


def in_error_url(care_rows, kind: str) -> str:
    return reverse(IN_ERROR_URL[kind], args=[care_rows[kind].pk])


def shown_on_patient_page(page: str, care_rows, kind: str) -> bool:
    """The row's line in its panel; education given is found by its note (its data attribute is the topic's)."""
    row = care_rows[kind]
    marker = {"medication": f'data-medication="{row.pk}"', "referral": f'data-referral="{row.pk}"'}
    return marker.get(kind, "With a leaflet") in page


@pytest.mark.parametrize("kind", IN_ERROR_URL)
def test_a_care_manager_marks_a_row_entered_in_error_from_the_patient_page(
    cm_client, patient, care_manager, care_rows, kind
):
    row, url = care_rows[kind], in_error_url(care_rows, kind)
    before = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    form = cm_client.get(url)

    response = cm_client.post(url, {"reason": "Recorded for the wrong patient"}, follow=True)

    assert url in before and shown_on_patient_page(before, care_rows, kind)
    assert form.status_code == 200 and str(row) in form.content.decode()
    assert response.redirect_chain == [(reverse("patients:detail", args=[patient.pk]), 302)]
    row.refresh_from_db()
    assert (row.entered_in_error_by, row.entered_in_error_reason) == (care_manager, "Recorded for the wrong patient")
    page = response.content.decode()
    assert f"“{row}” is marked entered in error; its history is kept." in page
    assert not shown_on_patient_page(page, care_rows, kind)
    assert url not in page


def test_the_change_history_shows_who_marked_a_row_entered_in_error_and_why(
    client, patient, care_manager, clinic_admin, care_rows
):
    client.force_login(care_manager)
    client.post(in_error_url(care_rows, "medication"), {"reason": "Recorded for the wrong patient"})
    client.force_login(clinic_admin)

    response = client.get(reverse("audit:patient_history", args=[patient.pk]))

    (version,) = [v for v in response.context["versions"] if v.label.startswith("Medication") and v.kind == "changed"]
    assert version.by == care_manager
    assert {c.field: c.new for c in version.changes}["Entered in error reason"] == "Recorded for the wrong patient"
    assert "Recorded for the wrong patient" in response.content.decode()


def test_a_medication_entered_in_error_is_not_offered_at_the_next_contact(cm_client, patient, episode, care_rows):
    medication = care_rows["medication"]
    cm_client.post(in_error_url(care_rows, "medication"), {"reason": "Wrong patient"})

    page = cm_client.get(reverse("registry:record_contact", args=[patient.pk])).content.decode()
    panel = review_panel(episode)

    assert f'name="med-{medication.pk}-adherence"' not in page
    assert medication not in panel["current_medications"]


def test_a_referral_entered_in_error_leaves_the_follow_up_list(cm_client, care_rows):
    referral = care_rows["referral"]
    listed = cm_client.get(reverse("care:referrals_to_follow_up")).context["referrals"]

    cm_client.post(in_error_url(care_rows, "referral"), {"reason": "Sent for another patient"})

    assert referral in listed
    assert referral not in cm_client.get(reverse("care:referrals_to_follow_up")).context["referrals"]


@pytest.mark.parametrize("kind", IN_ERROR_URL)
def test_a_row_already_entered_in_error_is_not_marked_again(cm_client, care_rows, kind):
    url = in_error_url(care_rows, kind)
    cm_client.post(url, {"reason": "Duplicate"})

    response = cm_client.post(url, {"reason": "Again"})

    assert response.status_code == 200
    what = {"education_given": "education record"}.get(kind, kind)
    assert f"This {what} is already marked entered in error." in response.content.decode()
    row = care_rows[kind]
    row.refresh_from_db()
    assert row.entered_in_error_reason == "Duplicate"
    assert row.history.count() == 2


@pytest.mark.parametrize("reason", ["", "   "])
@pytest.mark.parametrize("kind", IN_ERROR_URL)
def test_marking_entered_in_error_without_a_reason_changes_nothing(cm_client, care_rows, kind, reason):
    response = cm_client.post(in_error_url(care_rows, kind), {"reason": reason})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    row = care_rows[kind]
    row.refresh_from_db()
    assert not row.is_entered_in_error
    assert row.history.count() == 1


@pytest.mark.parametrize("kind", IN_ERROR_URL)
def test_another_clinics_row_is_not_found_to_mark_entered_in_error(client, care_rows, kind):
    outsider = UserFactory(username="south-cm", clinics=[EpisodeFactory().patient.clinic])
    client.force_login(outsider)
    url = in_error_url(care_rows, kind)

    responses = [client.get(url), client.post(url, {"reason": "Not mine"})]

    assert [r.status_code for r in responses] == [404, 404]
    row = care_rows[kind]
    row.refresh_from_db()
    assert not row.is_entered_in_error


@pytest.mark.parametrize("kind", IN_ERROR_URL)
@pytest.mark.parametrize("role", [Role.MEDICAL_PROVIDER, Role.PSYCHIATRIC_CONSULTANT])
def test_a_reader_may_not_mark_a_row_entered_in_error_nor_sees_the_link(client, clinic, patient, care_rows, kind, role):
    reader = UserFactory(username=f"reader-{role}", role=role, clinics=[clinic])
    client.force_login(reader)
    url = in_error_url(care_rows, kind)

    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    responses = [client.get(url), client.post(url, {"reason": "Looks wrong"})]

    assert shown_on_patient_page(page, care_rows, kind)
    assert url not in page
    assert [r.status_code for r in responses] == [403, 403]
    row = care_rows[kind]
    row.refresh_from_db()
    assert not row.is_entered_in_error


def test_a_stopped_medication_may_be_marked_entered_in_error_too(cm_client, patient, care_manager, medication):
    services.stop_medication(medication=medication, by=care_manager, stopped_on=days_ago(1), reason="Rash")
    url = reverse("care:medication_entered_in_error", args=[medication.pk])
    before = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()

    response = cm_client.post(url, {"reason": "Never prescribed: another patient's"}, follow=True)

    assert "Stopped medications (1)" in before and url in before
    assert "Stopped medications" not in response.content.decode()
    medication.refresh_from_db()
    assert (medication.stopped_on, medication.entered_in_error_by) == (days_ago(1), care_manager)


# --- What the record-contact page costs ----------------------------------------------------------


def test_the_record_contact_page_reads_the_education_library_once(cm_client, patient, medication, library):
    url = reverse("registry:record_contact", args=[patient.pk])
    cm_client.get(url)  # the session's first request reads more

    with CaptureQueriesContext(connection) as queries:
        page = cm_client.get(url).content.decode()

    topic_reads = [q["sql"] for q in queries.captured_queries if 'FROM "care_educationtopic"' in q["sql"]]
    assert len(topic_reads) == 1
    assert all(f'value="{topic.pk}"' in page for topic in library)
    assert len(queries) == 11


def test_saving_a_contact_with_a_phq9_costs_a_fixed_number_of_queries(cm_client, patient, medication, library):
    url = reverse("registry:record_contact", args=[patient.pk])
    cm_client.get(url)

    with CaptureQueriesContext(connection) as queries:
        response = cm_client.post(url, {**contact_post(), **phq9()})

    assert response.status_code == 302
    # The contact form checks Contact's check constraints in Python (carereg/lib/checks.py), not
    # with a query (and a savepoint) each; the episode is read once, locked, with the patient,
    # clinic and settings the view read kept (registry/services.py, _locked).
    assert len(queries) == 23
