"""The caseload review pages: agendas per role, changing an agenda, recording a case review."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consults import services
from consults.agenda import build_agendas
from consults.models import Agenda, AgendaItem, CaseReview
from patients.models import Episode
from registry import services as registry_services
from registry.models import Flag
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
DAY = datetime.timedelta(days=1)


def today() -> datetime.date:
    return timezone.localdate()


def patient_of(clinic, care_manager, consultant=None, *kinds, **patient_fields) -> Episode:
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        enrolled_on=today() - 40 * DAY,
        **{f"patient__{name}": value for name, value in patient_fields.items()},
    )
    for kind in kinds:
        registry_services.raise_flag(episode=episode, kind=kind, reason="A rule holds.")
    return episode


def agenda_of(clinic, care_manager, consultant) -> Agenda:
    return Agenda.objects.get(clinic=clinic, care_manager=care_manager, consultant=consultant)


def order_on_page(response) -> list[int]:
    """Episode ids of the agenda's items, in the order the page lists them."""
    return [int(pk) for pk in re.findall(r'data-episode="(\d+)"', response.content.decode())]


def on_agenda(agenda) -> list[int]:
    return list(
        agenda.items.filter(removed_at__isnull=True).order_by("position", "pk").values_list("episode_id", flat=True)
    )


@pytest.fixture
def consultant(clinic):
    return UserFactory(username="psych", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])


@pytest.fixture
def pcp(clinic):
    return UserFactory(username="pcp", role=Role.MEDICAL_PROVIDER, clinics=[clinic])


@pytest.fixture
def agenda(clinic, care_manager, consultant) -> Agenda:
    """The care manager's agenda with the consultant: a (safety), b (new patient), c (follow-up overdue)."""
    patient_of(clinic, care_manager, consultant, Kind.FOLLOWUP_OVERDUE, last_name="Carver")
    patient_of(clinic, care_manager, consultant, Kind.NEW_PATIENT, last_name="Baker")
    patient_of(clinic, care_manager, consultant, Kind.SAFETY, last_name="Abbott")
    build_agendas(clinic, today())
    return agenda_of(clinic, care_manager, consultant)


def item_url(name: str, item: AgendaItem, *extra) -> str:
    return reverse(f"consults:{name}", args=[item.agenda_id, item.pk, *extra])


# --- who sees which agenda -----------------------------------------------------------------


@pytest.fixture
def agendas(clinic, other_clinic, care_manager, consultant):
    """Four agendas: mine with the consultant, mine with another consultant, another care
    manager's with the consultant, and one in another clinic."""
    other_consultant = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])
    other_cm = UserFactory(clinics=[clinic])
    patient_of(clinic, care_manager, consultant, Kind.NEW_PATIENT)
    patient_of(clinic, care_manager, other_consultant, Kind.NEW_PATIENT)
    patient_of(clinic, other_cm, consultant, Kind.NEW_PATIENT)
    elsewhere_cm = UserFactory(clinics=[other_clinic])
    patient_of(other_clinic, elsewhere_cm, None, Kind.NEW_PATIENT)
    build_agendas(clinic, today())
    build_agendas(other_clinic, today())
    return {
        "mine": agenda_of(clinic, care_manager, consultant),
        "mine_other_consultant": agenda_of(clinic, care_manager, other_consultant),
        "theirs": agenda_of(clinic, other_cm, consultant),
        "elsewhere": agenda_of(other_clinic, elsewhere_cm, None),
    }


def listed_agendas(response) -> set[int]:
    return {agenda.pk for agenda in response.context["agendas"]}


def test_a_care_manager_sees_their_own_agendas(cm_client, agendas):
    response = cm_client.get(reverse("consults:agendas"))

    assert response.status_code == 200
    assert listed_agendas(response) == {agendas["mine"].pk, agendas["mine_other_consultant"].pk}


def test_a_consultant_sees_the_agendas_they_consult_on(client, consultant, agendas):
    client.force_login(consultant)

    response = client.get(reverse("consults:agendas"))

    assert listed_agendas(response) == {agendas["mine"].pk, agendas["theirs"].pk}


def test_a_clinic_admin_sees_every_agenda_of_the_clinic(client, clinic, agendas):
    client.force_login(UserFactory(role=Role.CLINIC_ADMIN, clinics=[clinic]))

    response = client.get(reverse("consults:agendas"))

    assert listed_agendas(response) == {a.pk for name, a in agendas.items() if name != "elsewhere"}


def test_a_care_manager_opens_a_colleagues_agenda_read_only_and_no_other_clinics(cm_client, agendas):
    colleague = cm_client.get(reverse("consults:agenda", args=[agendas["theirs"].pk]))
    elsewhere = cm_client.get(reverse("consults:agenda", args=[agendas["elsewhere"].pk]))

    assert (colleague.status_code, elsewhere.status_code) == (200, 404)
    assert colleague.context["editable"] is False


def test_a_consultant_covering_opens_another_consultants_agenda(client, consultant, agendas):
    client.force_login(consultant)

    mine = client.get(reverse("consults:agenda", args=[agendas["mine"].pk]))
    other = client.get(reverse("consults:agenda", args=[agendas["mine_other_consultant"].pk]))

    assert (mine.status_code, other.status_code) == (200, 200)


def test_agenda_page_lists_the_patients_in_order_with_controls_for_the_care_manager(cm_client, agenda):
    response = cm_client.get(reverse("consults:agenda", args=[agenda.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert order_on_page(response) == on_agenda(agenda)
    assert html.index("Abbott") < html.index("Baker") < html.index("Carver")
    assert "Add to agenda" in html and ">Remove</button>" in html


def test_agenda_page_shows_a_consultant_no_controls(client, consultant, agenda):
    client.force_login(consultant)

    response = client.get(reverse("consults:agenda", args=[agenda.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert len(order_on_page(response)) == 3
    assert "Add to agenda" not in html and ">Remove</button>" not in html


# --- changing an agenda through the pages --------------------------------------------------


def test_adding_a_patient_with_a_question(cm_client, agenda, clinic, care_manager, consultant):
    episode = patient_of(clinic, care_manager, consultant)

    response = cm_client.post(
        reverse("consults:add_item", args=[agenda.pk]), {"episode": episode.pk, "note": "Stop the lithium?"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("consults:agenda", args=[agenda.pk])
    item = agenda.items.get(episode=episode)
    assert on_agenda(agenda)[-1] == episode.pk
    assert (item.added_by, item.note) == (care_manager, "Stop the lithium?")


def test_adding_a_patient_from_another_caseload_is_refused(cm_client, agenda, clinic):
    stranger = patient_of(clinic, UserFactory(clinics=[clinic]))

    response = cm_client.post(reverse("consults:add_item", args=[agenda.pk]), {"episode": stranger.pk})

    assert response.status_code == 400  # the page again, the error beside the field
    assert response.context["add_form"].errors["episode"] == ["Choose a patient from the caseload."]
    assert "Choose a patient from the caseload." in response.content.decode()
    assert not agenda.items.filter(episode=stranger).exists()


def test_removing_and_putting_back_through_the_page(cm_client, agenda, care_manager):
    first, second, third = on_agenda(agenda)
    item = agenda.items.get(episode_id=first)

    removed = cm_client.post(item_url("remove_item", item))
    after_remove = on_agenda(agenda)
    page = cm_client.get(reverse("consults:agenda", args=[agenda.pk]))
    restored = cm_client.post(item_url("restore_item", item))

    assert (removed.status_code, restored.status_code) == (302, 302)
    assert after_remove == [second, third]
    assert order_on_page(page) == [second, third]
    assert "put back" in page.content.decode()
    assert on_agenda(agenda) == [second, third, first]
    item.refresh_from_db()
    assert item.removed_at is None


def test_moving_up_and_down_through_the_page(cm_client, agenda):
    first, second, third = on_agenda(agenda)

    up = cm_client.post(item_url("move_item", agenda.items.get(episode_id=third), "up"))
    after_up = on_agenda(agenda)
    cm_client.post(item_url("move_item", agenda.items.get(episode_id=first), "down"))

    assert up["Location"].endswith(f"#item-{agenda.items.get(episode_id=third).pk}")
    assert after_up == [first, third, second]
    assert on_agenda(agenda) == [third, first, second]


def test_moving_sideways_is_not_found(cm_client, agenda):
    item = agenda.items.first()

    response = cm_client.post(item_url("move_item", item, "left"))

    assert response.status_code == 404


def test_setting_the_question_through_the_page(cm_client, agenda):
    item = agenda.items.first()

    cm_client.post(item_url("set_question", item), {"note": "Lab results back?"})

    item.refresh_from_db()
    assert item.note == "Lab results back?"


def changes(agenda) -> list[tuple[str, str, dict]]:
    item = agenda.items.order_by("position").first()
    return [
        ("add_item", reverse("consults:add_item", args=[agenda.pk]), {"episode": item.episode_id}),
        ("remove_item", item_url("remove_item", item), {}),
        ("restore_item", item_url("restore_item", item), {}),
        ("move_item", item_url("move_item", item, "down"), {}),
        ("set_question", item_url("set_question", item), {"note": "Why?"}),
    ]


def test_changes_to_an_agenda_are_posts_only(cm_client, agenda):
    statuses = {name: cm_client.get(url).status_code for name, url, _ in changes(agenda)}

    assert set(statuses.values()) == {405}


@pytest.mark.parametrize("role", [Role.MEDICAL_PROVIDER, Role.PSYCHIATRIC_CONSULTANT])
def test_only_the_care_manager_may_change_the_agenda(client, clinic, agenda, consultant, role):
    user = consultant if role == Role.PSYCHIATRIC_CONSULTANT else UserFactory(role=role, clinics=[clinic])
    client.force_login(user)
    before = list(agenda.items.order_by("pk").values())

    statuses = {name: client.post(url, data).status_code for name, url, data in changes(agenda)}

    assert set(statuses.values()) == {403}
    assert list(agenda.items.order_by("pk").values()) == before


def test_a_clinic_admin_may_change_the_agenda(client, clinic, agenda):
    client.force_login(UserFactory(role=Role.CLINIC_ADMIN, clinics=[clinic]))
    item = agenda.items.first()

    response = client.post(item_url("remove_item", item))

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.removed_at is not None


def test_build_now_brings_this_weeks_agendas_up_to_date(cm_client, clinic, care_manager, consultant, agenda):
    newcomer = patient_of(clinic, care_manager, consultant, Kind.NOT_IMPROVING)

    response = cm_client.post(reverse("consults:build_now"))

    assert response.status_code == 302
    assert on_agenda(agenda)[-1] == newcomer.pk
    assert Agenda.objects.count() == 1


def test_pcp_cannot_build_agendas(client, pcp, agenda):
    client.force_login(pcp)

    response = client.post(reverse("consults:build_now"))

    assert response.status_code == 403


# --- the cost of the agenda page -----------------------------------------------------------


def queries_of_agenda_page(client, clinic, size: int, consultant) -> int:
    """Queries to show a care manager's agenda of `size` patients, one removed and one added by hand."""
    cm = UserFactory(clinics=[clinic])
    for n in range(size):
        patient_of(clinic, cm, consultant, Kind.NEW_PATIENT, *([Kind.SAFETY] if n % 2 else []))
    for _ in range(2):
        patient_of(clinic, cm, consultant)  # to choose from when adding
    build_agendas(clinic, today())
    agenda = agenda_of(clinic, cm, consultant)
    services.remove_from_agenda(item=agenda.items.first(), by=cm)
    services.add_to_agenda(agenda=agenda, episode=patient_of(clinic, cm, consultant), by=cm, note="Why?")
    client.force_login(cm)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("consults:agenda", args=[agenda.pk]))
    assert response.status_code == 200
    assert len(order_on_page(response)) == size
    return len(queries)


def test_agenda_page_costs_the_same_queries_for_3_or_30_patients(client, clinic, consultant):
    few = queries_of_agenda_page(client, clinic, 3, consultant)
    many = queries_of_agenda_page(client, clinic, 30, consultant)

    assert few == many


# --- recording a case review ---------------------------------------------------------------


@pytest.fixture
def episode(clinic, care_manager, consultant):
    return patient_of(clinic, care_manager, consultant)


def review_url(episode) -> str:
    return reverse("consults:record_review", args=[episode.patient_id])


def review_post(consultant, **overrides) -> dict:
    return {
        "reviewed_on": today().isoformat(),
        "consultant": consultant.pk,
        "summary": "Start sertraline.",
        **overrides,
    }


def test_review_page_offers_the_clinics_active_consultants(cm_client, clinic, other_clinic, episode, consultant):
    UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic], is_active=False)
    UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, clinics=[other_clinic])

    response = cm_client.get(review_url(episode))

    assert response.status_code == 200
    assert list(response.context["form"].fields["consultant"].queryset) == [consultant]
    assert response.context["form"]["consultant"].value() == consultant.pk


def test_recording_a_review_answers_the_request_and_returns_to_the_patient(
    cm_client, episode, consultant, care_manager
):
    request = registry_services.request_case_review(episode=episode, by=care_manager, reason="Stuck.")

    response = cm_client.post(review_url(episode), review_post(consultant))

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[episode.patient_id])
    review = CaseReview.objects.get()
    assert (review.episode, review.consultant, review.recorded_by) == (episode, consultant, care_manager)
    request.refresh_from_db()
    assert request.resolved_by == care_manager


def test_a_consultant_may_record_a_review(client, episode, consultant):
    client.force_login(consultant)

    response = client.post(review_url(episode), review_post(consultant))

    assert response.status_code == 302
    assert CaseReview.objects.get().recorded_by == consultant


def test_a_review_dated_in_the_future_is_refused_on_the_form(cm_client, episode, consultant):
    response = cm_client.post(review_url(episode), review_post(consultant, reviewed_on=(today() + DAY).isoformat()))

    assert response.status_code == 200
    assert response.context["form"].errors["reviewed_on"] == ["The review date cannot be in the future."]
    assert not CaseReview.objects.exists()


def test_pcp_may_not_record_a_review(client, pcp, episode, consultant):
    client.force_login(pcp)

    response = client.post(review_url(episode), review_post(consultant))

    assert response.status_code == 403
    assert not CaseReview.objects.exists()


def test_another_clinics_patient_has_no_review_page(cm_client, consultant):
    elsewhere = ClinicFactory(code="elsewhere")
    stranger = patient_of(elsewhere, UserFactory(clinics=[elsewhere]))

    response = cm_client.get(review_url(stranger))

    assert response.status_code == 404
