"""A consultant removed from a clinic sees none of its patients any more: every list is scoped
by the clinics the user has now (accounts/scoping.py), and every URL of its data is a 404."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consults import notes
from consults.agenda import build_agendas
from registry import services
from registry.models import Flag
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def today() -> datetime.date:
    return timezone.localdate()


def flagged_patient(clinic, care_manager, consultant, last_name: str, mrn: str):
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        patient__last_name=last_name,
        patient__mrn=mrn,
        enrolled_on=today() - 40 * DAY,
    )
    services.raise_flag(episode=episode, kind=Flag.Kind.SAFETY, reason="PHQ-9 item 9 answered 2.")
    services.raise_flag(episode=episode, kind=Flag.Kind.NEW_PATIENT, reason="Not yet reviewed.")
    return episode


@pytest.fixture
def west_world(db):
    """A consultant of north and west with, for a west patient, a signed note whose
    recommendation is open, this week's agenda item and a draft note begun from it."""
    north, west = ClinicFactory(code="north"), ClinicFactory(code="west")
    consultant = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, clinics=[north, west])
    north_cm, west_cm = UserFactory(clinics=[north]), UserFactory(clinics=[west])
    north_patient = flagged_patient(north, north_cm, consultant, "Northcott", "N-0001")
    west_patient = flagged_patient(west, west_cm, consultant, "Westerman", "W-0001")
    signed = notes.start_note(episode=west_patient, consultant=consultant, by=consultant)
    notes.save_draft(
        review=signed,
        by=consultant,
        reviewed_on=today() - 7 * DAY,
        assessment="Moderate MDD.",
        diagnoses=["F33.1"],
        summary="",
    )
    recommendation = notes.add_recommendation(
        review=signed, by=consultant, kind="start_medication", drug="sertraline", dose="50 mg", details=""
    )
    notes.sign(review=signed, by=consultant)
    build_agendas(north, today())
    (west_agenda,) = build_agendas(west, today())
    item = west_agenda.items.get()
    draft = notes.start_note(episode=west_patient, consultant=consultant, by=consultant, agenda_item=item)
    return {
        "consultant": consultant,
        "west": west,
        "north_patient": north_patient,
        "west_patient": west_patient,
        "west_agenda": west_agenda,
        "item": item,
        "draft": draft,
        "signed": signed,
        "recommendation": recommendation,
    }


CONSULTANT_PAGES = [
    "consults:agendas",
    "consults:recommendations",
    "registry:dashboard",
    "registry:today",
    "consults:report",
]


def shown(client, name: str) -> str:
    response = client.get(reverse(name))
    assert response.status_code == 200, name
    return html.unescape(response.content.decode())


def test_before_the_removal_the_consultant_sees_the_west_patient_everywhere(client, west_world):
    client.force_login(west_world["consultant"])

    home = shown(client, "consults:agendas")

    assert home.count("Westerman") >= 2  # awaiting review, unsigned draft
    assert reverse("consults:agenda", args=[west_world["west_agenda"].pk]) in home
    assert "sertraline" in shown(client, "consults:recommendations")


def test_after_the_removal_no_page_lists_the_west_patient_and_every_url_is_not_found(client, west_world):
    consultant, west_patient = west_world["consultant"], west_world["west_patient"]
    consultant.clinics.remove(west_world["west"])
    client.force_login(consultant)

    for name in CONSULTANT_PAGES:
        page = shown(client, name)
        assert "Westerman" not in page and "W-0001" not in page, name
    home = shown(client, "consults:agendas")
    assert "Northcott" in home  # north is still his
    assert reverse("consults:agenda", args=[west_world["west_agenda"].pk]) not in home
    assert reverse("consults:note", args=[west_world["draft"].pk]) not in home
    assert "sertraline" not in shown(client, "consults:recommendations")

    agenda, item, draft = west_world["west_agenda"], west_world["item"], west_world["draft"]
    gets = [
        reverse("consults:agenda", args=[agenda.pk]),
        reverse("consults:workspace", args=[agenda.pk, item.pk]),
        reverse("consults:note", args=[draft.pk]),
        reverse("consults:print_note", args=[west_world["signed"].pk]),
        reverse("consults:record_review", args=[west_patient.patient_id]),
        reverse("patients:detail", args=[west_patient.patient_id]),
    ]
    posts = [
        reverse("consults:save_note", args=[draft.pk]),
        reverse("consults:start_note", args=[west_patient.patient_id]),
        reverse("consults:update_session", args=[agenda.pk]),
        reverse("consults:communicate", args=[west_world["recommendation"].pk]),
    ]
    assert {url: client.get(url).status_code for url in gets} == dict.fromkeys(gets, 404)
    assert {url: client.post(url, {"assessment": "x"}).status_code for url in posts} == dict.fromkeys(posts, 404)
    draft.refresh_from_db()
    assert draft.assessment == ""  # nothing written through a 404
