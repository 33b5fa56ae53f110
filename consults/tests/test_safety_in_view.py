"""Safety in view wherever a patient is decided on: the review page, the agenda, the
consultant's awaiting list (most urgent first, with the MRN) and the patient page; item
answers of any score open from the timeline and the review page."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consults import notes
from consults.agenda import build_agendas
from registry import services
from registry.models import Flag, SafetyAssessment
from registry.safety import short_date
from registry.services import Answers
from tests.factories import EpisodeFactory, UserFactory, answers_totalling, record_contact

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
Kind = Flag.Kind


def today() -> datetime.date:
    return timezone.localdate()


def page(response) -> str:
    return html.unescape(response.content.decode())


def text_of(response) -> str:
    """The page's words, tags and runs of white space dropped."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page(response)))


@pytest.fixture
def consultant(clinic):
    return UserFactory(
        username="psych", first_name="Ines", last_name="Okafor", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic]
    )


def patient_of(clinic, care_manager, consultant, *kinds, **patient_fields):
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        enrolled_on=today() - 40 * DAY,
        **{f"patient__{name}": value for name, value in patient_fields.items()},
    )
    for kind in kinds:
        services.raise_flag(episode=episode, kind=kind, reason="A rule holds.")
    return episode


def item9_of_2_then_assessed(episode, care_manager):
    """The issue's patient: a first contact with PHQ-9 16 and item 9 = 2, a moderate-risk safety
    assessment an hour later."""
    record_contact(
        episode,
        today(),
        care_manager,
        kind="initial_assessment",
        scores=[Answers("PHQ9", answers_totalling("PHQ9", 16, item9=2))],
    )
    flag = Flag.objects.get(episode=episode, kind=Kind.SAFETY, resolved_at__isnull=True)
    services.resolve_safety_flag(
        flag=flag,
        by=care_manager,
        risk_level=SafetyAssessment.Risk.MODERATE,
        actions=[SafetyAssessment.Action.SAFETY_PLAN, SafetyAssessment.Action.CONSULTANT_NOTIFIED],
        note="Passive thoughts, no plan or intent; safety plan made.",
        assessed_at=timezone.now() - datetime.timedelta(minutes=5),
    )


def assert_safety_facts_shown(text: str, care_manager) -> None:
    assert f"PHQ-9 item 9 = 2 on {short_date(today())}" in text
    assert "Moderate risk" in text
    assert str(care_manager) in text
    assert "Safety plan made or reviewed" in text
    assert "Passive thoughts, no plan or intent" in text


def test_the_review_page_shows_the_safety_facts_and_item_9_of_the_contact(client, clinic, care_manager, consultant):
    episode = patient_of(clinic, care_manager, consultant, Kind.NEW_PATIENT, last_name="Ames")
    item9_of_2_then_assessed(episode, care_manager)
    (agenda,) = build_agendas(clinic, today())
    item = agenda.items.get()
    client.force_login(consultant)

    response = client.get(reverse("consults:workspace", args=[agenda.pk, item.pk]))

    text = text_of(response)
    assert_safety_facts_shown(text, care_manager)
    assert "item 9: 2" in text  # on the contact line, beside "PHQ-9 16"
    answers = re.search(r"<details[^>]*data-item-answers.*?</details>", page(response), re.S).group(0)
    assert "Thoughts that you would be better off dead" in answers and "More than half the days" in answers


def test_the_patient_page_shows_the_safety_facts_and_opens_any_scores_answers(client, clinic, care_manager):
    episode = patient_of(clinic, care_manager, None)
    item9_of_2_then_assessed(episode, care_manager)
    record_contact(episode, today(), care_manager, scores=[Answers("GAD7", [0, 1, 0, 0, 0, 0, 0])])
    client.force_login(care_manager)

    response = client.get(reverse("patients:detail", args=[episode.patient_id]))

    assert_safety_facts_shown(text_of(response), care_manager)
    shown = page(response)
    assert shown.count("data-item-answers=") == 2  # the PHQ-9 and a GAD-7 of 1: any score opens
    assert "Not being able to stop or control worrying: 1 (Several days)" in text_of(response)


def test_an_open_flag_shows_how_long_it_has_been_open_and_that_no_assessment_was_made(
    client, clinic, care_manager, consultant
):
    episode = patient_of(clinic, care_manager, consultant)
    services.record_measurement(
        episode=episode, answers=Answers("CSSRS", [1, 1, 1, 1, 0, 0]), taken_on=today() - 2 * DAY, by=care_manager
    )
    Flag.objects.filter(episode=episode, kind=Kind.SAFETY).update(raised_at=timezone.now() - 2 * DAY)
    client.force_login(consultant)

    text = text_of(client.get(reverse("consults:record_review", args=[episode.patient_id])))

    assert f"C-SSRS screener high risk on {short_date(today() - 2 * DAY)}" in text
    assert "open 2 days" in text and "no safety assessment yet" in text


def test_the_agenda_row_shows_the_safety_facts(client, clinic, care_manager, consultant):
    ames = patient_of(clinic, care_manager, consultant, Kind.NEW_PATIENT, last_name="Ames")
    item9_of_2_then_assessed(ames, care_manager)
    patient_of(clinic, care_manager, consultant, Kind.NEW_PATIENT, last_name="Bell")
    (agenda,) = build_agendas(clinic, today())
    client.force_login(consultant)

    response = client.get(reverse("consults:agenda", args=[agenda.pk]))

    rows = re.findall(r'<li class="list-group-item[^"]*" id="item-\d+".*?</li>', page(response), re.S)
    assert len(rows) == 2
    ames, bell = sorted(rows, key=lambda row: "Bell" in row)
    assert_safety_facts_shown(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", ames)), care_manager)
    assert "data-safety-facts" not in bell


# --- the awaiting list: most urgent first, with the MRN ---------------------------------------


def awaiting_on_page(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-awaiting="(\d+)"', page(response))]


def test_awaiting_review_puts_safety_first_then_not_improving_then_new_then_the_rest(
    client, clinic, care_manager, consultant
):
    other_cm = UserFactory(last_name="Aaronson", clinics=[clinic])  # the old order put this caseload first
    asked = patient_of(clinic, other_cm, consultant, Kind.NEEDS_DISCUSSION, last_name="Adams")
    new = patient_of(clinic, other_cm, consultant, Kind.NEW_PATIENT, last_name="Baker")
    stuck = patient_of(clinic, other_cm, consultant, Kind.NOT_IMPROVING, last_name="Carver")
    lee_2 = patient_of(clinic, care_manager, consultant, Kind.SAFETY, last_name="Lee", first_name="Dmitri", mrn="B2")
    lee_1 = patient_of(clinic, care_manager, consultant, Kind.SAFETY, last_name="Lee", first_name="Dmitri", mrn="A1")
    assessed = patient_of(clinic, care_manager, consultant, last_name="Zeller")  # flag closed, consultant told
    item9_of_2_then_assessed(assessed, care_manager)
    stuck_and_new = patient_of(clinic, care_manager, consultant, Kind.NEW_PATIENT, Kind.NOT_IMPROVING, last_name="Ng")
    client.force_login(consultant)

    response = client.get(reverse("consults:agendas"))

    assert awaiting_on_page(response) == [
        assessed.pk,  # the care manager notified the consultant: top of the list
        lee_1.pk,
        lee_2.pk,
        stuck.pk,
        stuck_and_new.pk,
        new.pk,
        asked.pk,
    ]
    text = text_of(response)
    assert "Lee, Dmitri A1" in text and "Lee, Dmitri B2" in text  # told apart by the MRN


def test_a_safety_event_leaves_the_awaiting_list_with_a_signed_review(client, clinic, care_manager, consultant):
    episode = patient_of(clinic, care_manager, consultant)
    item9_of_2_then_assessed(episode, care_manager)
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(review=note, by=consultant, reviewed_on=today(), assessment="Seen.", diagnoses=[], summary="")
    notes.sign(review=note, by=consultant)
    client.force_login(consultant)

    assert episode.pk not in awaiting_on_page(client.get(reverse("consults:agendas")))


def queries_of_consultant_home(client, clinic, size: int) -> int:
    consultant = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])
    cm = UserFactory(clinics=[clinic])
    for n in range(size):
        episode = patient_of(clinic, cm, consultant, Kind.NEW_PATIENT, *([Kind.NOT_IMPROVING] if n % 3 else []))
        if n % 2:
            item9_of_2_then_assessed(episode, cm)
    build_agendas(clinic, today())
    client.force_login(consultant)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("consults:agendas"))
    assert len(awaiting_on_page(response)) == size
    assert page(response).count("data-safety-facts") == size // 2
    return len(queries)


def test_the_consultants_home_costs_the_same_queries_for_3_or_15_awaiting(client, clinic):
    few = queries_of_consultant_home(client, clinic, 3)
    many = queries_of_consultant_home(client, clinic, 15)

    assert few == many
