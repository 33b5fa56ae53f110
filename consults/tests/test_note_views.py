"""The consultant's pages: the review workspace and its one-form note, the note and print
pages, recommendations to closure per role, the consultant's home, the report, the session
settings, and what the workspace and the recommendations list cost in queries."""

import datetime
import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from care import services as care_services
from care.models import Medication
from consults import notes, services
from consults.agenda import build_agendas
from consults.figures import DEFINITIONS, review_figures
from consults.models import Agenda, AgendaItem, Amendment, CaseReview, Recommendation
from patients import services as patient_services
from patients.models import Episode
from registry import services as registry_services
from registry.models import Flag
from registry.services import Answers
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory, answers_totalling, record_contact

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
Status = Recommendation.Status
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def consultant(clinic):
    return UserFactory(
        username="psych",
        first_name="Ines",
        last_name="Okafor",
        role=Role.PSYCHIATRIC_CONSULTANT,
        fte=None,
        clinics=[clinic],
    )


@pytest.fixture
def colleague(clinic):
    """Another psychiatric consultant of the clinic."""
    return UserFactory(username="psych2", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])


@pytest.fixture
def pcp(clinic):
    return UserFactory(username="pcp", role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])


def patient_of(
    clinic, care_manager, consultant=None, pcp=None, *kinds, enrolled_days_ago: int = 40, **patient_fields
) -> Episode:
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        patient__pcp=pcp,
        enrolled_on=today() - enrolled_days_ago * DAY,
        **{f"patient__{name}": value for name, value in patient_fields.items()},
    )
    for kind in kinds:
        registry_services.raise_flag(episode=episode, kind=kind, reason="A rule holds.")
    return episode


@pytest.fixture
def agenda(clinic, care_manager, consultant, pcp) -> Agenda:
    """This week's session: Abbott (safety), Baker (new patient), Carver (follow-up overdue), in that order."""
    patient_of(clinic, care_manager, consultant, pcp, Kind.FOLLOWUP_OVERDUE, last_name="Carver")
    patient_of(clinic, care_manager, consultant, pcp, Kind.NEW_PATIENT, last_name="Baker")
    patient_of(clinic, care_manager, consultant, pcp, Kind.SAFETY, last_name="Abbott")
    (agenda,) = build_agendas(clinic, today())
    return agenda


def items_of(agenda) -> list[AgendaItem]:
    return list(agenda.items.filter(removed_at__isnull=True).order_by("position", "pk").select_related("episode"))


def workspace_url(item: AgendaItem) -> str:
    return reverse("consults:workspace", args=[item.agenda_id, item.pk])


def save_url(note) -> str:
    return reverse("consults:save_note", args=[note.pk])


def page(response) -> str:
    return html.unescape(response.content.decode())


def nav_links(response) -> dict[str, str]:
    return {nav: href for href, nav in re.findall(r'href="([^"]+)" data-nav="(\w+)"', page(response))}


def note_post(**fields) -> dict:
    return {
        "reviewed_on": today().isoformat(),
        "assessment": "Moderate MDD; partial response to sertraline.",
        "diagnoses": "F33.1",
        "summary": "",
        "minutes": "",
        **fields,
    }


def error_beside(response, field: str) -> str:
    """The error shown under the field (crispy's or the note editor's own), as the user reads it."""
    shown = page(response)
    found = re.search(rf'<p id="error_\d+_id_{field}"><strong>(.*?)</strong>', shown) or re.search(
        rf'<div class="invalid-feedback d-block" id="id_{field}_error">(.*?)</div>', shown
    )
    assert found, f"no error shown beside {field}"
    return found.group(1)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def login(client, user):
    client.force_login(user)
    return client


def signed_note(episode, consultant, *recommendations, reviewed_on=None) -> CaseReview:
    """A signed note with recommendations given as (kind, drug) pairs."""
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(
        review=note,
        by=consultant,
        reviewed_on=reviewed_on or today(),
        assessment=f"Assessment of {episode.patient.last_name}.",
        diagnoses=["F33.1", "F41.1"],
        summary="Why: partial response.",
    )
    for kind, drug in recommendations:
        notes.add_recommendation(review=note, by=consultant, kind=kind, drug=drug, dose="50 mg" if drug else "")
    notes.sign(review=note, by=consultant)
    note.refresh_from_db()
    return note


# --- the workspace ------------------------------------------------------------------------


def test_the_consultant_opening_a_patient_starts_one_draft_for_it_and_reopening_reuses_it(client, agenda, consultant):
    first = items_of(agenda)[0]
    login(client, consultant)

    opened = client.get(workspace_url(first))
    reopened = client.get(workspace_url(first))

    note = CaseReview.objects.get()
    assert (opened.status_code, reopened.status_code) == (200, 200)
    assert (note.agenda_item, note.episode, note.consultant, note.is_signed) == (
        first,
        first.episode,
        consultant,
        False,
    )
    assert opened.context["note"] == reopened.context["note"] == note
    assert opened.context["editable"] is True
    assert f'action="{save_url(note)}"' in page(reopened)
    assert 'data-note-state="draft"' in page(reopened)
    assert 'name="assessment"' in page(reopened)
    assert note.history.count() == 1


def test_a_care_manager_sees_the_panel_but_no_editor(client, agenda, care_manager, consultant):
    first = items_of(agenda)[0]

    before_any_note = login(client, care_manager).get(workspace_url(first))
    login(client, consultant).get(workspace_url(first))
    with_the_consultants_draft = login(client, care_manager).get(workspace_url(first))

    assert before_any_note.status_code == 200
    assert "Abbott" in page(before_any_note)
    assert "The consultant writes the note here." in page(before_any_note)
    assert CaseReview.objects.count() == 1  # the consultant's, not one for the care manager
    assert with_the_consultants_draft.context["editable"] is False
    assert 'data-note-state="draft"' in page(with_the_consultants_draft)
    for shown in (before_any_note, with_the_consultants_draft):
        assert 'name="assessment"' not in page(shown)
        assert "/save/" not in page(shown)


def test_another_consultant_of_the_clinic_writes_their_own_draft(client, agenda, consultant, colleague):
    first = items_of(agenda)[0]
    login(client, consultant).get(workspace_url(first))
    session_note = CaseReview.objects.get()

    session_of_another = login(client, colleague).get(workspace_url(first))
    started = client.post(reverse("consults:start_note", args=[first.episode.patient_id]))
    theirs = CaseReview.objects.get(consultant=colleague)
    theirs_page = client.get(started["Location"])
    the_first_ones = client.get(reverse("consults:note", args=[session_note.pk]))

    # A colleague covering opens the session and reads its note; they write their own elsewhere.
    assert session_of_another.status_code == 200
    assert (session_of_another.context["note"], session_of_another.context["editable"]) == (session_note, False)
    assert started["Location"] == reverse("consults:note", args=[theirs.pk])
    assert theirs.pk != session_note.pk
    assert (theirs.episode, theirs.agenda_item) == (first.episode, None)
    assert theirs_page.context["editable"] is True
    assert the_first_ones.status_code == 200
    assert the_first_ones.context["editable"] is False
    assert CaseReview.objects.get(pk=session_note.pk).agenda_item == first


def test_previous_and_next_go_through_the_agenda_skipping_removed_patients(client, agenda, consultant, care_manager):
    first, second, third = items_of(agenda)
    extra = services.add_to_agenda(
        agenda=agenda,
        episode=patient_of(agenda.clinic, care_manager, consultant, None, last_name="Dunn"),
        by=care_manager,
    )
    services.remove_from_agenda(item=third, by=care_manager)
    login(client, consultant)

    on_first, on_second, on_last = (client.get(workspace_url(item)) for item in (first, second, extra))

    assert nav_links(on_first) == {"next": workspace_url(second)}
    assert nav_links(on_second) == {"previous": workspace_url(first), "next": workspace_url(extra)}
    assert nav_links(on_last) == {"previous": workspace_url(second)}
    assert "Patient 2 of 3" in page(on_second)
    assert client.get(workspace_url(third)).status_code == 404


def test_never_reviewed_is_marked_until_a_signed_review_and_a_draft_does_not_count(
    client, agenda, consultant, care_manager
):
    first, second, _ = items_of(agenda)
    services.record_case_review(
        episode=second.episode, reviewed_on=today() - 5 * DAY, consultant=consultant, summary="Seen.", by=care_manager
    )
    login(client, consultant)

    never = client.get(workspace_url(first))  # and the consultant's draft has just begun
    reviewed = client.get(workspace_url(second))

    assert "data-never-reviewed" in page(never)
    assert CaseReview.objects.filter(agenda_item=first).exists()
    assert "data-never-reviewed" not in page(reviewed)
    assert "None: this patient has never been reviewed." not in page(reviewed)


# --- the one-form note --------------------------------------------------------------------


@pytest.fixture
def session_note(client, agenda, consultant) -> CaseReview:
    """The consultant is at the first patient of the session, a draft begun; the client is theirs."""
    login(client, consultant).get(workspace_url(items_of(agenda)[0]))
    return CaseReview.objects.get()


def test_saving_the_draft_keeps_every_field_and_returns_to_the_note(client, session_note):
    response = client.post(
        save_url(session_note),
        note_post(
            reviewed_on=(today() - DAY).isoformat(),
            diagnoses="f33.1; F41.1, f33.1",
            summary="Room to increase.",
            minutes="12",
            save="",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == workspace_url(session_note.agenda_item) + "#note"
    session_note.refresh_from_db()
    assert session_note.reviewed_on == today() - DAY
    assert session_note.assessment == "Moderate MDD; partial response to sertraline."
    assert (session_note.diagnoses, session_note.summary) == (["F33.1", "F41.1"], "Room to increase.")
    assert session_note.agenda_item.minutes == 12
    assert not session_note.is_signed
    shown = client.get(response["Location"])
    assert "Draft saved." in messages_of(shown)
    assert shown.context["note_form"].initial["diagnoses"] == "F33.1, F41.1"


def test_adding_a_recommendation_keeps_the_text_typed_beside_it(client, session_note):
    response = client.post(
        save_url(session_note),
        note_post(
            assessment="Typed before pressing Add.",
            add_recommendation="1",
            kind="start_medication",
            drug="sertraline",
            dose="25 mg",
            details="Increase to 50 mg after a week.",
        ),
        follow=True,
    )

    session_note.refresh_from_db()
    assert session_note.assessment == "Typed before pressing Add."
    recommendation = session_note.recommendations.get()
    assert (recommendation.kind, recommendation.drug, recommendation.dose, recommendation.details) == (
        "start_medication",
        "sertraline",
        "25 mg",
        "Increase to 50 mg after a week.",
    )
    assert response.redirect_chain[-1][0].endswith("#note")
    assert "Draft saved; recommendation added." in messages_of(response)
    assert "Typed before pressing Add." in page(response)
    assert 'data-recommendation="start_medication"' in page(response)


def test_a_medication_recommendation_without_a_drug_is_refused_and_the_text_is_kept(client, session_note):
    response = client.post(
        save_url(session_note),
        note_post(assessment="Still typed.", add_recommendation="1", kind="change_medication", drug="", dose="75 mg"),
    )

    assert response.status_code == 400  # the page again, not a redirect that empties the form
    assert error_beside(response, "drug") == "Name the medication."
    assert "Draft saved." in messages_of(response)
    assert response.context["note_form"]["assessment"].value() == "Still typed."
    assert response.context["recommendation_form"]["dose"].value() == "75 mg"
    assert 'value="75 mg"' in page(response)
    session_note.refresh_from_db()
    assert session_note.assessment == "Still typed."
    assert not session_note.recommendations.exists()


def test_removing_a_recommendation_from_the_draft(client, session_note, consultant):
    kept = notes.add_recommendation(review=session_note, by=consultant, kind="continue")
    removed = notes.add_recommendation(review=session_note, by=consultant, kind="start_medication", drug="bupropion")

    response = client.post(save_url(session_note), note_post(remove_recommendation=str(removed.pk)))

    assert response.status_code == 302
    assert list(session_note.recommendations.all()) == [kept]


def test_a_recommendation_of_another_note_is_not_removed_through_this_one(client, session_note, clinic, consultant):
    elsewhere = notes.start_note(
        episode=patient_of(clinic, session_note.episode.patient.care_manager, consultant),
        consultant=consultant,
        by=consultant,
    )
    theirs = notes.add_recommendation(review=elsewhere, by=consultant, kind="continue")

    response = client.post(save_url(session_note), note_post(remove_recommendation=str(theirs.pk)))

    assert response.status_code == 404
    assert Recommendation.objects.filter(pk=theirs.pk).exists()


def test_signing_goes_on_to_the_next_patient(client, session_note, agenda):
    notes.add_recommendation(review=session_note, by=session_note.consultant, kind="continue")

    response = client.post(save_url(session_note), note_post(sign="1"))

    assert response["Location"] == workspace_url(session_note.agenda_item) + "#next"
    session_note.refresh_from_db()
    assert session_note.is_signed
    assert session_note.recommendations.get().recommended_on == today()
    after = client.get(response["Location"])
    assert "Note on Abbott signed." in messages_of(after)
    assert 'data-note-state="signed"' in page(after)
    assert 'name="assessment"' not in page(after)
    assert nav_links(after)["next"] == workspace_url(items_of(agenda)[1])
    agenda_page = page(client.get(reverse("consults:agenda", args=[agenda.pk])))
    assert '<span class="badge text-bg-success">signed</span>' in agenda_page


def test_signing_without_an_assessment_is_refused_and_stays_on_the_note(client, session_note):
    response = client.post(save_url(session_note), note_post(assessment="", summary="Reasoning kept.", sign="1"))

    assert response.status_code == 400
    assert response.templates[0].name == "consults/workspace.html"
    assert not CaseReview.objects.get(pk=session_note.pk).is_signed
    assert error_beside(response, "assessment") == "Write the assessment before signing."
    assert "Reasoning kept." in page(response)


def test_an_icd10_typo_keeps_everything_typed_with_the_error_beside_the_codes_and_saves_nothing(client, session_note):
    """The issue's own example: "F33.1, nonsense" and Save draft emptied Assessment, Reasoning and Minutes."""
    typed = note_post(
        assessment="Assessment typed.", diagnoses="F33.1, nonsense", summary="Reasoning typed.", minutes="25"
    )

    response = client.post(save_url(session_note), {**typed, "save": ""})

    assert response.status_code == 400
    assert response.templates[0].name == "consults/workspace.html"
    assert error_beside(response, "diagnoses") == "'nonsense' is not an ICD-10 code such as F33.1 or F41.1."
    form = response.context["note_form"]
    assert {name: form[name].value() for name in ("assessment", "diagnoses", "summary", "minutes")} == {
        "assessment": "Assessment typed.",
        "diagnoses": "F33.1, nonsense",
        "summary": "Reasoning typed.",
        "minutes": "25",
    }
    assert "Assessment typed." in page(response) and "Reasoning typed." in page(response)
    session_note.refresh_from_db()
    assert (session_note.assessment, session_note.diagnoses, session_note.is_signed) == ("", [], False)


def test_a_note_outside_a_session_is_drawn_again_on_its_own_page(client, clinic, care_manager, consultant):
    note = notes.start_note(episode=patient_of(clinic, care_manager, consultant), consultant=consultant, by=consultant)

    response = login(client, consultant).post(
        save_url(note), note_post(assessment="Curbside, typed.", minutes="-3", save="")
    )

    assert response.status_code == 400
    assert response.templates[0].name == "consults/note.html"
    assert error_beside(response, "minutes") == "Ensure this value is greater than or equal to 0."
    assert "Curbside, typed." in page(response)
    assert CaseReview.objects.get(pk=note.pk).assessment == ""


@pytest.mark.parametrize("who", ["care_manager", "pcp", "colleague"])
def test_only_the_notes_consultant_saves_it(client, session_note, care_manager, pcp, colleague, who):
    login(client, {"care_manager": care_manager, "pcp": pcp, "colleague": colleague}[who])

    response = client.post(save_url(session_note), note_post(assessment="Not mine.", sign="1"))

    assert response.status_code == 403
    session_note.refresh_from_db()
    assert (session_note.assessment, session_note.is_signed) == ("", False)


def test_a_signed_note_is_not_saved_again_through_the_form(client, session_note):
    client.post(save_url(session_note), note_post(assessment="As signed.", sign="1"))

    response = client.post(save_url(session_note), note_post(assessment="Changed afterwards."))

    assert response.status_code == 400
    assert "A signed note is never edited: add an amendment instead." in page(response)
    assert "Changed afterwards." in page(response)  # to copy into an amendment
    assert CaseReview.objects.get(pk=session_note.pk).assessment == "As signed."


# --- the note page and notes outside a session --------------------------------------------


def test_a_consultant_starts_a_note_from_the_patient_page(client, clinic, care_manager, consultant):
    episode = patient_of(clinic, care_manager, consultant)
    login(client, consultant)
    patient_page = client.get(reverse("patients:detail", args=[episode.patient_id]))

    started = client.post(reverse("consults:start_note", args=[episode.patient_id]))
    again = client.post(reverse("consults:start_note", args=[episode.patient_id]))
    note = CaseReview.objects.get()
    note_page = client.get(started["Location"])
    saved = client.post(save_url(note), note_post())

    assert f'action="{reverse("consults:start_note", args=[episode.patient_id])}"' in page(patient_page)
    assert started["Location"] == again["Location"] == reverse("consults:note", args=[note.pk])
    assert (note.episode, note.agenda_item, note.consultant) == (episode, None, consultant)
    assert note_page.status_code == 200
    assert note_page.context["editable"] is True
    assert 'name="assessment"' in page(note_page)
    assert saved["Location"] == reverse("consults:note", args=[note.pk]) + "#note"


def test_a_care_manager_starts_no_consultation_note(cm_client, clinic, care_manager, consultant):
    episode = patient_of(clinic, care_manager, consultant)

    patient_page = cm_client.get(reverse("patients:detail", args=[episode.patient_id]))
    response = cm_client.post(reverse("consults:start_note", args=[episode.patient_id]))
    read = cm_client.get(reverse("consults:start_note", args=[episode.patient_id]))

    assert reverse("consults:start_note", args=[episode.patient_id]) not in page(patient_page)
    assert "Record a review held outside CareReg" in page(patient_page)
    assert (response.status_code, read.status_code) == (403, 405)
    assert not CaseReview.objects.exists()


def test_the_patient_page_shows_drafts_as_drafts_and_signed_notes_with_their_recommendations(
    cm_client, clinic, care_manager, consultant, colleague
):
    episode = patient_of(clinic, care_manager, consultant)
    signed = signed_note(episode, consultant, ("start_medication", "sertraline"))
    unsigned = notes.start_note(episode=episode, consultant=colleague, by=colleague)

    response = cm_client.get(reverse("patients:detail", args=[episode.patient_id]))

    shown = page(response)
    assert f'href="{reverse("consults:print_note", args=[signed.pk])}"' in shown
    assert "Start a medication sertraline 50 mg" in shown and 'data-recommendation-status="pending">Pending<' in shown
    assert f'href="{reverse("consults:note", args=[unsigned.pk])}"' in shown
    assert '<span class="badge text-bg-warning">draft</span>' in shown


def test_amending_a_signed_note_through_its_page(client, clinic, care_manager, consultant):
    note = signed_note(patient_of(clinic, care_manager, consultant), consultant)
    url = reverse("consults:amend_note", args=[note.pk])

    refused = login(client, care_manager).post(url, {"text": "Not a consultant."})
    amended = login(client, consultant).post(url, {"text": "Lithium level 0.6, not 1.6."})
    note_page = client.get(reverse("consults:note", args=[note.pk]))

    assert refused.status_code == 403
    assert amended["Location"] == reverse("consults:note", args=[note.pk])
    assert list(Amendment.objects.values_list("text", "amended_by")) == [("Lithium level 0.6, not 1.6.", consultant.pk)]
    assert "Lithium level 0.6, not 1.6." in page(note_page)
    assert note_page.context["editable"] is False


def test_an_empty_amendment_is_refused_beside_its_field(client, clinic, care_manager, consultant):
    note = signed_note(patient_of(clinic, care_manager, consultant), consultant)

    response = login(client, consultant).post(reverse("consults:amend_note", args=[note.pk]), {"text": "   "})

    assert response.status_code == 400
    assert error_beside(response, "text") == "This field is required."
    assert not Amendment.objects.exists()


# --- the printable summary ----------------------------------------------------------------


def test_the_printable_summary_of_a_signed_note(cm_client, clinic, care_manager, consultant, pcp):
    episode = patient_of(clinic, care_manager, consultant, pcp, last_name="Abbott")
    note = signed_note(episode, consultant, ("adjust_dose", "sertraline"), ("referral", ""))

    response = cm_client.get(reverse("consults:print_note", args=[note.pk]))

    shown = page(response)
    assert response.status_code == 200
    assert '<link rel="stylesheet" href="/static/css/print.css">' in shown
    assert "Psychiatric consultation summary" in shown
    assert "Assessment of Abbott." in shown
    assert "F33.1 Major depressive disorder, recurrent, moderate; F41.1 Generalized anxiety disorder" in shown
    assert "<li>Adjust a dose sertraline 50 mg</li>" in shown
    assert "<li>Referral to specialty care</li>" in shown
    assert "Why: partial response." in shown
    assert f"for PCP {pcp}" in shown


def test_a_draft_has_no_printable_summary(client, clinic, care_manager, consultant):
    note = notes.start_note(episode=patient_of(clinic, care_manager, consultant), consultant=consultant, by=consultant)

    response = login(client, consultant).get(reverse("consults:print_note", args=[note.pk]))

    assert response.status_code == 404


# --- recommendations to closure -----------------------------------------------------------


@pytest.fixture
def team(clinic, other_clinic, care_manager, consultant, colleague, pcp) -> dict:
    """Three patients of the clinic and one elsewhere, each with one pending recommendation:

    mine: the care manager's, the PCP's, the consultant's
    shared: another care manager's and PCP's, the consultant's
    covered: the care manager's, another PCP's, written by the colleague
    and a draft recommendation on `mine`, never listed.
    """
    other_cm = UserFactory(username="cm2", clinics=[clinic])
    other_pcp = UserFactory(username="pcp2", role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])
    mine = patient_of(clinic, care_manager, consultant, pcp, last_name="Mine")
    shared = patient_of(clinic, other_cm, consultant, other_pcp, last_name="Shared")
    covered = patient_of(clinic, care_manager, colleague, other_pcp, last_name="Covered")
    far_cm = UserFactory(clinics=[other_clinic])
    far_psych = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[other_clinic])
    far = patient_of(other_clinic, far_cm, far_psych, None, last_name="Far")
    recommendations = {
        "mine": signed_note(mine, consultant, ("start_medication", "sertraline")).recommendations.get(),
        "shared": signed_note(shared, consultant, ("continue", "")).recommendations.get(),
        "covered": signed_note(covered, colleague, ("stop_medication", "paroxetine")).recommendations.get(),
        "far": signed_note(far, far_psych, ("continue", "")).recommendations.get(),
    }
    draft = notes.start_note(episode=mine, consultant=consultant, by=consultant)
    notes.add_recommendation(review=draft, by=consultant, kind="adjust_dose", drug="sertraline")
    return {"other_cm": other_cm, "other_pcp": other_pcp, **recommendations}


def listed(response) -> set[int]:
    assert response.status_code == 200
    return {r.pk for r in response.context["recommendations"]}


def test_each_role_sees_the_recommendations_that_concern_them(
    client, clinic, team, care_manager, consultant, colleague, pcp
):
    admin = UserFactory(role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])
    url = reverse("consults:recommendations")
    seen = {
        name: listed(login(client, user).get(url))
        for name, user in {
            "pcp": pcp,
            "other_pcp": team["other_pcp"],
            "care_manager": care_manager,
            "other_cm": team["other_cm"],
            "consultant": consultant,
            "colleague": colleague,
            "admin": admin,
        }.items()
    }

    pk = {name: team[name].pk for name in ("mine", "shared", "covered")}
    assert seen == {
        "pcp": {pk["mine"]},
        "other_pcp": {pk["shared"], pk["covered"]},
        "care_manager": {pk["mine"], pk["covered"]},
        "other_cm": {pk["shared"]},
        "consultant": {pk["mine"], pk["shared"]},
        "colleague": {pk["covered"]},
        "admin": set(pk.values()),
    }


def test_the_list_shows_open_recommendations_unless_asked_for_a_status(cm_client, team, care_manager, pcp):
    notes.respond(recommendation=team["covered"], by=care_manager, response="declined", note="Not tolerated.")

    open_ = listed(cm_client.get(reverse("consults:recommendations")))
    declined = listed(cm_client.get(reverse("consults:recommendations"), {"status": "declined"}))
    everything = cm_client.get(reverse("consults:recommendations"), {"status": "all"})

    assert open_ == {team["mine"].pk}
    assert declined == {team["covered"].pk}
    assert listed(everything) == {team["mine"].pk, team["covered"].pk}
    assert "Not tolerated." in page(everything)


def act_url(name: str, recommendation) -> str:
    return reverse(f"consults:{name}", args=[recommendation.pk])


def an_hour_ago() -> str:
    return timezone.localtime(timezone.now() - HOUR).strftime("%Y-%m-%dT%H:%M")


def test_the_care_manager_records_communicated_and_implemented(cm_client, team, care_manager, pcp):
    recommendation = team["mine"]

    communicated = cm_client.post(act_url("communicate", recommendation), {"when": an_hour_ago(), "how": "phone"})
    notes.respond(recommendation=recommendation, by=pcp, response="accepted")
    implemented = cm_client.post(act_url("implemented", recommendation), {"on": today().isoformat()}, follow=True)

    assert communicated["Location"] == reverse("consults:recommendations")
    recommendation.refresh_from_db()
    assert (recommendation.communicated_how, recommendation.communicated_by) == ("phone", care_manager)
    assert (recommendation.status, recommendation.implemented_on, recommendation.implemented_by) == (
        Status.IMPLEMENTED,
        today(),
        care_manager,
    )
    assert "Start a medication sertraline 50 mg: implementation recorded." in messages_of(implemented)


def test_the_pcp_responds_in_the_app_but_neither_communicates_nor_marks_implemented(client, team, pcp):
    recommendation = team["mine"]
    login(client, pcp)

    communicate = client.post(act_url("communicate", recommendation), {"when": an_hour_ago(), "how": "phone"})
    respond = client.post(act_url("respond", recommendation), {"response": "modified", "note": "25 mg first."})
    implemented = client.post(act_url("implemented", recommendation), {"on": today().isoformat()})

    assert (communicate.status_code, respond.status_code, implemented.status_code) == (403, 302, 403)
    recommendation.refresh_from_db()
    assert (recommendation.status, recommendation.response_note, recommendation.responded_by) == (
        Status.MODIFIED,
        "25 mg first.",
        pcp,
    )
    assert (recommendation.communicated_how, recommendation.communicated_by) == ("in_app", pcp)
    assert recommendation.implemented_on is None


def test_the_consultant_carries_no_recommendation_and_another_pcp_cannot_see_it(client, team, consultant):
    recommendation = team["mine"]

    by_consultant = login(client, consultant).post(act_url("respond", recommendation), {"response": "accepted"})
    by_other_pcp = login(client, team["other_pcp"]).post(act_url("respond", recommendation), {"response": "accepted"})

    assert (by_consultant.status_code, by_other_pcp.status_code) == (403, 404)
    assert Recommendation.objects.get(pk=recommendation.pk).status == Status.PENDING


def test_a_refusal_without_a_reason_and_a_time_in_the_future_are_refused_with_the_reason(cm_client, team):
    recommendation = team["mine"]
    tomorrow = timezone.localtime(timezone.now() + DAY).strftime("%Y-%m-%dT%H:%M")

    declined = cm_client.post(act_url("respond", recommendation), {"response": "declined", "note": ""})
    future = cm_client.post(act_url("communicate", recommendation), {"when": tomorrow, "how": "phone"})

    assert (declined.status_code, future.status_code) == (400, 400)
    assert error_beside(declined, "note") == "Say what was changed, or why it was declined."
    assert error_beside(future, "when") == "That time is in the future."
    assert Recommendation.objects.get(pk=recommendation.pk).status == Status.PENDING


def test_a_refused_step_comes_back_with_what_was_typed_and_where_it_came_from(client, team, pcp):
    recommendation = team["mine"]
    login(client, pcp)
    home = reverse("consults:pcp_home")

    response = client.post(
        act_url("respond", recommendation), {"response": "", "note": "Typed by the PCP.", "next": home}
    )

    assert response.status_code == 400
    assert error_beside(response, "response") == (
        "Choose the PCP's response: accepted, accepted with changes, or declined."
    )
    assert "Typed by the PCP." in page(response)
    assert f'name="next" value="{home}"' in page(response)
    assert Recommendation.objects.get(pk=recommendation.pk).status == Status.PENDING


def test_each_step_has_a_page_of_its_own_that_changes_nothing(cm_client, team):
    pages = {name: cm_client.get(act_url(name, team["mine"])) for name in ("communicate", "respond", "implemented")}

    assert {name: response.status_code for name, response in pages.items()} == dict.fromkeys(pages, 200)
    assert 'name="when"' in page(pages["communicate"]) and 'name="on"' in page(pages["implemented"])
    assert Recommendation.objects.get(pk=team["mine"].pk).status == Status.PENDING


def test_after_an_action_only_a_local_next_address_is_followed(cm_client, team):
    local = cm_client.post(act_url("respond", team["mine"]), {"response": "accepted", "next": "/patients/1/"})
    offsite = cm_client.post(
        act_url("communicate", team["covered"]),
        {"when": an_hour_ago(), "how": "phone", "next": "https://evil.example/phish"},
    )

    assert local["Location"] == "/patients/1/"
    assert offsite["Location"] == reverse("consults:recommendations")
    assert Recommendation.objects.get(pk=team["covered"].pk).status == Status.COMMUNICATED


# --- the consultant's home ----------------------------------------------------------------


def test_the_consultants_home_lists_next_sessions_patients_awaiting_review_and_drafts(
    client, clinic, care_manager, consultant, colleague
):
    other_cm = UserFactory(username="cm2", first_name="Zed", last_name="Zimmer", clinics=[clinic])
    new = patient_of(clinic, care_manager, consultant, None, Kind.NEW_PATIENT, last_name="Newcomb")
    stuck = patient_of(clinic, other_cm, consultant, None, Kind.NOT_IMPROVING, Kind.FOLLOWUP_OVERDUE, last_name="Stott")
    asked = patient_of(clinic, other_cm, consultant, None, last_name="Asker")
    registry_services.request_case_review(episode=asked, by=other_cm, reason="Sleep?")
    overdue = patient_of(clinic, care_manager, consultant, None, Kind.FOLLOWUP_OVERDUE, last_name="Overdue")
    patient_of(clinic, care_manager, colleague, None, Kind.NEW_PATIENT, last_name="Colleagues")
    gone = patient_of(clinic, care_manager, consultant, None, Kind.NEW_PATIENT, last_name="Gone")
    patient_services.change_status(
        episode=gone, status="discharged", on=today(), by=care_manager, discharge_reason="moved"
    )
    this_week = build_agendas(clinic, today())
    old = Agenda.objects.create(
        clinic=clinic,
        week_of=today() - 8 * DAY,
        care_manager=care_manager,
        consultant=consultant,
        built_at=timezone.now(),
    )
    my_draft = notes.start_note(episode=new, consultant=consultant, by=consultant)
    notes.start_note(episode=stuck, consultant=colleague, by=colleague)
    signed_note(overdue, consultant)  # signed: not a draft; follow-up overdue: not a reason for review

    response = login(client, consultant).get(reverse("consults:agendas"))

    mine_this_week = {a.pk for a in this_week if a.consultant_id == consultant.pk}
    assert {a.pk for a in response.context["next_sessions"]} == mine_this_week
    assert old.pk not in {a.pk for a in response.context["next_sessions"]}
    assert len(mine_this_week) == 2  # one per care manager
    awaiting = {e.pk: sorted(f.kind for f in e.open_flags) for e in response.context["awaiting"]}
    assert awaiting == {new.pk: [Kind.NEW_PATIENT], stuck.pk: [Kind.NOT_IMPROVING], asked.pk: [Kind.NEEDS_DISCUSSION]}
    assert [d.pk for d in response.context["drafts"]] == [my_draft.pk]
    shown = page(response)
    assert "Your next sessions" in shown and "Zed Zimmer" in shown
    assert f'href="{reverse("consults:note", args=[my_draft.pk])}"' in shown


def test_other_roles_get_the_agenda_list_without_the_consultants_home(cm_client, agenda):
    response = cm_client.get(reverse("consults:agendas"))

    assert "next_sessions" not in response.context
    assert "Your next sessions" not in page(response)


# --- the report ---------------------------------------------------------------------------


def test_the_report_gives_the_figures_per_care_manager_and_in_all_with_their_definitions(
    client, clinic, care_manager, consultant
):
    other_cm = UserFactory(username="cm2", first_name="Zed", last_name="Zimmer", clinics=[clinic])
    reviewed = patient_of(clinic, care_manager, consultant)
    signed_note(reviewed, consultant, ("continue", ""), reviewed_on=reviewed.enrolled_on + 10 * DAY)
    patient_of(clinic, care_manager, consultant)
    patient_of(clinic, other_cm, consultant)
    admin = UserFactory(role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])

    response = login(client, admin).get(reverse("consults:report"))

    rows = {cm.pk: figures for cm, figures in response.context["rows"]}
    assert set(rows) == {care_manager.pk, other_cm.pk}
    assert (rows[care_manager.pk]["new_due"], rows[care_manager.pk]["new_reviewed"]) == (2, 1)
    assert rows[care_manager.pk]["new_reviewed_pct"] == 50
    assert (rows[other_cm.pk]["new_due"], rows[other_cm.pk]["new_reviewed_pct"]) == (1, 0)
    total = response.context["total"]
    assert total == review_figures(Episode.objects.open(), today())
    assert (total["new_due"], total["new_reviewed"], total["new_reviewed_pct"]) == (3, 1, 33)
    shown = page(response)
    total_row = re.search(r"<tr [^>]*data-total>(.*?)</tr>", shown, re.S).group(1)
    assert re.sub(r"<[^>]+>|\s+", "", total_row).startswith("All33%(1/3)")
    for definition in DEFINITIONS:
        assert definition in shown


# --- the session ---------------------------------------------------------------------------


def session_post(agenda, **fields) -> dict:
    return {"meeting_on": (today() + 2 * DAY).isoformat(), "format": "in_person", **fields}


@pytest.mark.parametrize("who", ["care_manager", "consultant"])
def test_the_care_manager_or_the_consultant_sets_the_meeting_date_and_format(
    client, agenda, care_manager, consultant, who
):
    user = care_manager if who == "care_manager" else consultant

    response = login(client, user).post(reverse("consults:update_session", args=[agenda.pk]), session_post(agenda))

    assert response["Location"] == reverse("consults:agenda", args=[agenda.pk])
    agenda.refresh_from_db()
    assert (agenda.meeting_on, agenda.format, agenda.meets_on) == (today() + 2 * DAY, "in_person", today() + 2 * DAY)
    assert agenda.history.order_by("-history_id").first().history_user == user
    shown = page(client.get(response["Location"]))
    assert f"meets {agenda.meets_on:%a %Y-%m-%d}, in person" in shown


def test_a_pcp_cannot_set_the_session(client, agenda, pcp):
    response = login(client, pcp).post(reverse("consults:update_session", args=[agenda.pk]), session_post(agenda))

    assert response.status_code == 403
    agenda.refresh_from_db()
    assert (agenda.meeting_on, agenda.format) == (None, "video")


def test_a_session_without_a_date_is_refused(cm_client, agenda):
    response = cm_client.post(
        reverse("consults:update_session", args=[agenda.pk]), session_post(agenda, meeting_on="", format="phone")
    )

    assert response.status_code == 400  # the agenda again, the error beside the date, the format as chosen
    assert response.context["session"]["errors"]["meeting_on"] == ["This field is required."]
    assert '<option value="phone" selected>' in response.content.decode()
    agenda.refresh_from_db()
    assert agenda.meeting_on is None


# --- what the pages cost --------------------------------------------------------------------


def queries_of_workspace(client, clinic, consultant, contacts: int) -> int:
    """Queries of a consultant's workspace (draft begun) for a patient with two earlier signed
    notes (recommendations, an amendment) and `contacts` contacts since, each with a PHQ-9 and
    interventions."""
    cm = UserFactory(clinics=[clinic])
    episode = patient_of(clinic, cm, consultant, None, Kind.NEW_PATIENT, enrolled_days_ago=100)
    for when in (today() - 60 * DAY, today() - 50 * DAY):
        signed_note(episode, consultant, ("start_medication", "sertraline"), ("referral", ""), reviewed_on=when)
    notes.amend(review=CaseReview.objects.filter(episode=episode).first(), by=consultant, text="Addendum.")
    for n in range(contacts):
        record_contact(
            episode,
            today() - (contacts - n) * DAY,
            cm,
            kind="initial_assessment" if n == 0 else "follow_up",
            interventions=["behavioral_activation", "psychoeducation"][: 1 + n % 2],
            scores=[Answers("PHQ9", answers_totalling("PHQ9", 20 - n % 10))],
        )
    (agenda,) = [a for a in build_agendas(clinic, today()) if a.care_manager_id == cm.pk]
    url = workspace_url(agenda.items.get())
    login(client, consultant).get(url)  # begins the draft
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["editable"] is True
    assert len(response.context["previous_notes"]) == 2
    assert len(response.context["recommendations"]) == 4
    assert len(response.context["contacts_since_review"]) == contacts
    return len(queries)


def test_the_workspace_costs_the_same_queries_for_3_or_20_contacts(client, clinic, consultant):
    few = queries_of_workspace(client, clinic, consultant, 3)
    many = queries_of_workspace(client, clinic, consultant, 20)

    assert few == many
    # 16 measured on SQLite and PostgreSQL; 19 with sign-in checks, 21 with the access log, 23 with the
    # safety facts, 24 with the navbar's unread notices
    assert many <= 24


def queries_of_review_page(client, clinic, consultant, patients: int, history: int) -> int:
    """Queries of the consultant's review page (draft begun) of the first of `patients` on an
    agenda, whose history grows with `history`: signed notes with two recommendations and an
    amendment each, medications, contacts with scores and interventions, and scores without a
    contact (self-reports)."""
    cm = UserFactory(clinics=[clinic])
    episodes = [
        patient_of(clinic, cm, consultant, None, Kind.NEW_PATIENT, enrolled_days_ago=200) for _ in range(patients)
    ]
    episode = episodes[0]
    registry_services.raise_flag(episode=episode, kind=Kind.SAFETY, reason="Item 9 answered 1.")
    for n in range(history):
        note = signed_note(
            episode,
            consultant,
            ("start_medication", f"drug {n}"),
            ("referral", ""),
            reviewed_on=today() - (150 - n * 10) * DAY,
        )
        notes.amend(review=note, by=consultant, text=f"Addendum {n}.")
        care_services.add_medication(
            episode=episode, by=cm, name=f"drug {n}", dose="50 mg", started_on=today() - (140 - n * 10) * DAY
        )
    for n in range(2 * history):
        record_contact(
            episode,
            today() - (2 * history - n) * DAY,
            cm,
            kind="initial_assessment" if n == 0 else "follow_up",
            interventions=["behavioral_activation", "psychoeducation"][: 1 + n % 2],
            scores=[
                Answers("PHQ9", answers_totalling("PHQ9", 20 - n % 10)),
                Answers("GAD7", answers_totalling("GAD7", 9)),
            ],
        )
        registry_services.record_measurement(
            episode=episode,
            answers=Answers("PHQ9", answers_totalling("PHQ9", 12)),
            taken_on=today() - (2 * history - n) * DAY,
            by=cm,
        )
    (agenda,) = [a for a in build_agendas(clinic, today()) if a.care_manager_id == cm.pk]
    item = agenda.items.get(episode=episode)
    url = workspace_url(item)
    login(client, consultant).get(url)  # begins the draft
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["editable"] is True
    assert response.context["count"] == patients
    assert len(response.context["previous_notes"]) == history
    assert len(response.context["recommendations"]) == 2 * history
    assert len(response.context["contacts_since_review"]) == 2 * history
    assert len(response.context["scores_since_review"]) == 2 * history
    assert len(response.context["current_medications"]) == history
    return len(queries)


def test_the_review_page_costs_the_same_queries_for_2_or_12_patients_and_any_history(client, clinic, consultant):
    small = queries_of_review_page(client, clinic, consultant, patients=2, history=1)
    large = queries_of_review_page(client, clinic, consultant, patients=12, history=5)

    assert small == large
    # as the workspace above, and one more for the medications' latest reports
    assert large <= 25


def queries_of_recommendations(client, clinic, count: int) -> int:
    """Queries of a care manager's open recommendations: `count` of them, in every open state."""
    cm = UserFactory(clinics=[clinic])
    psych = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])
    pcp = UserFactory(role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])
    for n in range(count):
        recommendation = signed_note(
            patient_of(clinic, cm, psych, pcp), psych, ("start_medication", f"drug {n}")
        ).recommendations.get()
        if n % 3 == 1:
            notes.communicate(recommendation=recommendation, by=cm, when=timezone.now() - HOUR, how="phone")
        elif n % 3 == 2:
            notes.respond(recommendation=recommendation, by=pcp, response="modified", note="Lower dose.")
    login(client, cm)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("consults:recommendations"))
    assert len(listed(response)) == count
    return len(queries)


def test_the_recommendations_list_costs_the_same_queries_for_2_or_20(client, clinic):
    few = queries_of_recommendations(client, clinic, 2)
    many = queries_of_recommendations(client, clinic, 20)

    assert few == many
    assert many < 10  # 7 measured on SQLite and PostgreSQL


def add_recommendations(clinic, team: dict, notes_count: int) -> None:
    """`notes_count` signed notes of the team's consultant for patients of its care manager and
    PCP, three recommendations each: one pending, one communicated, one answered by the PCP
    (declined, or accepted and implemented)."""
    cm, psych, pcp = team["care manager"], team["consultant"], team["pcp"]
    for n in range(notes_count):
        note = signed_note(
            patient_of(clinic, cm, psych, pcp),
            psych,
            ("start_medication", f"drug {n}"),
            ("referral", ""),
            ("continue", ""),
        )
        _pending, communicated, answered = note.recommendations.order_by("pk")
        notes.communicate(recommendation=communicated, by=cm, when=timezone.now() - HOUR, how="phone")
        notes.respond(recommendation=answered, by=pcp, response="declined" if n % 2 else "accepted", note="Seen.")
        if n % 2 == 0:
            notes.mark_implemented(recommendation=answered, by=cm, on=today())


def queries_of_whole_list(client, user, expected: int) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("consults:recommendations"), {"status": "all"})
    assert len(listed(response)) == expected
    return len(queries)


def test_the_whole_recommendations_list_costs_the_same_queries_for_3_or_30_for_each_role(client, clinic):
    team = {
        "care manager": UserFactory(clinics=[clinic]),
        "consultant": UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic]),
        "pcp": UserFactory(role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic]),
    }
    add_recommendations(clinic, team, 1)
    few = {role: queries_of_whole_list(client, user, 3) for role, user in team.items()}
    add_recommendations(clinic, team, 9)

    many = {role: queries_of_whole_list(client, user, 30) for role, user in team.items()}

    assert few == many
    assert max(many.values()) < 10


def test_another_clinics_note_is_not_found(client, consultant):
    elsewhere = ClinicFactory(code="elsewhere")
    far_psych = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[elsewhere])
    note = signed_note(patient_of(elsewhere, UserFactory(clinics=[elsewhere]), far_psych), far_psych)
    login(client, consultant)

    statuses = {
        name: client.get(reverse(f"consults:{name}", args=[note.pk])).status_code for name in ("note", "print_note")
    }

    assert statuses == {"note": 404, "print_note": 404}


# --- implemented, with the medication list in the same step ----------------------------------


def accepted(recommendation, pcp):
    notes.respond(recommendation=recommendation, by=pcp, response="accepted")
    recommendation.refresh_from_db()
    return recommendation


def implemented_post(**fields) -> dict:
    return {"on": today().isoformat(), "update_list": "on", **fields}


def test_implementing_start_sertraline_offers_the_medication_filled_in_and_records_both(cm_client, team, pcp):
    """The issue's example: "Start sertraline 50 mg" implemented left "No current medications recorded"."""
    recommendation = accepted(team["mine"], pcp)
    patient_page = reverse("patients:detail", args=[recommendation.episode.patient_id])
    assert "No current medications recorded" in page(cm_client.get(patient_page))

    offered = cm_client.get(act_url("implemented", recommendation))
    form = offered.context["form"]
    response = cm_client.post(
        act_url("implemented", recommendation),
        implemented_post(name=form["name"].value(), dose=form["dose"].value(), instructions="Once daily"),
    )

    assert {name: form[name].value() for name in ("update_list", "name", "dose")} == {
        "update_list": True,
        "name": "sertraline",
        "dose": "50 mg",
    }
    assert response["Location"] == reverse("consults:recommendations")
    recommendation.refresh_from_db()
    assert (recommendation.status, recommendation.implemented_on) == (Status.IMPLEMENTED, today())
    medication = Medication.objects.get(episode=recommendation.episode)
    assert (medication.name, medication.dose, medication.instructions) == ("sertraline", "50 mg", "Once daily")
    assert (medication.started_on, medication.prescriber, medication.is_current) == (today(), pcp, True)
    shown = page(cm_client.get(patient_page))
    assert "No current medications recorded" not in shown
    assert "sertraline" in shown


def test_the_list_leads_a_medication_recommendation_to_its_step_and_others_keep_the_one_line_form(
    cm_client, clinic, team, care_manager, consultant, pcp
):
    medication = accepted(team["mine"], pcp)
    episode = patient_of(clinic, care_manager, consultant, pcp, last_name="Other")
    other = accepted(signed_note(episode, consultant, ("continue", "")).recommendations.get(), pcp)

    shown = page(cm_client.get(reverse("consults:recommendations")))

    assert f'href="{act_url("implemented", medication)}?next=' in shown
    assert f'action="{act_url("implemented", medication)}"' not in shown
    assert f'action="{act_url("implemented", other)}"' in shown


def test_a_dose_adjustment_changes_the_medication_on_the_list_and_keeps_the_old_dose_in_its_history(
    cm_client, clinic, care_manager, consultant, pcp
):
    episode = patient_of(clinic, care_manager, consultant, pcp)
    taking = care_services.add_medication(
        episode=episode,
        by=care_manager,
        name="Sertraline",
        dose="50 mg",
        instructions="Mornings",
        started_on=today() - 30 * DAY,
    )
    recommendation = accepted(
        signed_note(episode, consultant, ("adjust_dose", "sertraline")).recommendations.get(), pcp
    )
    Recommendation.objects.filter(pk=recommendation.pk).update(dose="100 mg")

    form = cm_client.get(act_url("implemented", recommendation)).context["form"]
    cm_client.post(
        act_url("implemented", recommendation),
        implemented_post(
            medication=str(taking.pk), name="Sertraline", dose=form["dose"].value(), instructions="Mornings"
        ),
    )

    assert (form["medication"].value(), form["instructions"].value()) == (taking.pk, "Mornings")
    taking.refresh_from_db()
    assert (taking.dose, taking.started_on, Medication.objects.filter(episode=episode).count()) == (
        "100 mg",
        today() - 30 * DAY,
        1,
    )
    assert [v.dose for v in taking.history.order_by("history_id")] == ["50 mg", "100 mg"]
    assert Recommendation.objects.get(pk=recommendation.pk).status == Status.IMPLEMENTED


def test_a_stop_recommendation_stops_the_medication_with_the_reason_filled_in(
    cm_client, clinic, care_manager, consultant, pcp
):
    episode = patient_of(clinic, care_manager, consultant, pcp)
    taking = care_services.add_medication(
        episode=episode, by=care_manager, name="paroxetine", dose="20 mg", started_on=today() - 30 * DAY
    )
    recommendation = accepted(
        signed_note(episode, consultant, ("stop_medication", "paroxetine")).recommendations.get(), pcp
    )

    form = cm_client.get(act_url("implemented", recommendation)).context["form"]
    cm_client.post(
        act_url("implemented", recommendation),
        implemented_post(medication=str(taking.pk), stop_reason=form["stop_reason"].value()),
    )

    assert form["medication"].value() == taking.pk
    taking.refresh_from_db()
    assert (taking.stopped_on, taking.stop_reason) == (
        today(),
        f"On the psychiatric consultant's recommendation of {today():%Y-%m-%d}.",
    )


def test_implemented_and_the_medication_change_are_saved_both_or_neither(
    cm_client, clinic, care_manager, consultant, pcp
):
    episode = patient_of(clinic, care_manager, consultant, pcp)
    stopped = care_services.add_medication(
        episode=episode, by=care_manager, name="paroxetine", dose="20 mg", started_on=today() - 30 * DAY
    )
    care_services.stop_medication(medication=stopped, by=care_manager, stopped_on=today() - DAY, reason="Nausea.")
    recommendation = accepted(
        signed_note(episode, consultant, ("stop_medication", "paroxetine")).recommendations.get(), pcp
    )

    with pytest.raises(ValidationError):  # the medication refuses: the implementation goes with it
        notes.mark_implemented_with_medication(
            recommendation=recommendation,
            by=care_manager,
            on=today(),
            update_list=True,
            medication=stopped,
            stop_reason="Done.",
        )
    blank_dose = cm_client.post(
        act_url("implemented", accepted(team_start(episode, consultant, pcp), pcp)),
        implemented_post(name="sertraline", dose=""),
    )

    assert Recommendation.objects.get(pk=recommendation.pk).status == Status.ACCEPTED
    assert blank_dose.status_code == 400
    assert error_beside(blank_dose, "dose") == "Give the medication and its dose, or leave the list as it is."
    assert not Medication.objects.filter(name="sertraline").exists()
    assert not Recommendation.objects.filter(status=Status.IMPLEMENTED).exists()


def team_start(episode, consultant, pcp):
    return signed_note(episode, consultant, ("start_medication", "sertraline")).recommendations.get()


def test_leaving_the_list_as_it_is_marks_only_the_implementation(cm_client, team, pcp):
    recommendation = accepted(team["mine"], pcp)

    cm_client.post(act_url("implemented", recommendation), {"on": today().isoformat(), "name": "sertraline"})

    assert Recommendation.objects.get(pk=recommendation.pk).status == Status.IMPLEMENTED
    assert not Medication.objects.exists()


def test_the_pcp_sees_what_raised_a_safety_flag_beside_the_recommendation_to_answer(client, team, care_manager, pcp):
    recommendation = team["mine"]
    notes.communicate(
        recommendation=recommendation, by=care_manager, when=timezone.now() - datetime.timedelta(hours=1), how="phone"
    )
    scores = [Answers("PHQ9", answers_totalling("PHQ9", 18, item9=1))]
    record_contact(recommendation.episode, today(), care_manager, scores=scores)
    login(client, pcp)

    card = page(client.get(reverse("consults:pcp_home"))).split(f'data-recommendation="{recommendation.pk}"')[1]

    assert "PHQ-9 item 9 = 1 on" in card.split("</section>")[0]
    assert "no safety assessment yet" in card.split("</section>")[0]
