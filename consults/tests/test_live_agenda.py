"""The live agenda (docs/user-guide.md#a-live-agenda): until its meeting is held it follows the
patients' current flags and requests; a request always lands on the next meeting; the order
changes in one request; every row's question is saved together, none dropped."""

import datetime
import zoneinfo
from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from carereg.dates import clinic_today
from consults import services
from consults.agenda import build_agendas, build_due_agendas, put_on_next_agenda
from consults.models import Agenda, AgendaItem
from patients.models import Episode
from registry import services as registry_services
from registry.models import Flag, RegistrySettings
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
DAY = datetime.timedelta(days=1)


@pytest.fixture
def consultant(clinic):
    return UserFactory(username="psych", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])


def patient_of(clinic, care_manager, consultant, *kinds, **patient_fields) -> Episode:
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        **{f"patient__{name}": value for name, value in patient_fields.items()},
    )
    for kind in kinds:
        registry_services.raise_flag(episode=episode, kind=kind, reason="A rule holds.")
    return episode


def on_agenda(agenda) -> list[int]:
    return list(
        agenda.items.filter(removed_at__isnull=True).order_by("position", "pk").values_list("episode_id", flat=True)
    )


def page(client, agenda):
    return client.get(reverse("consults:agenda", args=[agenda.pk]))


@pytest.fixture
def agenda(clinic, care_manager, consultant) -> Agenda:
    """This week's agenda: Abbott (safety), Baker (new patient), Carver (not improving)."""
    patient_of(clinic, care_manager, consultant, Kind.SAFETY, last_name="Abbott")
    patient_of(clinic, care_manager, consultant, Kind.NEW_PATIENT, last_name="Baker")
    patient_of(clinic, care_manager, consultant, Kind.NOT_IMPROVING, last_name="Carver")
    (agenda,) = build_agendas(clinic, clinic_today(clinic))
    return agenda


# --- live until held -----------------------------------------------------------------------


def test_opening_the_agenda_adds_the_newly_flagged_and_marks_cleared_reasons(cm_client, agenda, clinic, care_manager):
    carver = agenda.items.get(episode__patient__last_name="Carver")
    enrolled_today = patient_of(clinic, care_manager, agenda.consultant, Kind.NEW_PATIENT, last_name="Newman")
    registry_services.resolve_flag(flag=Flag.objects.get(episode=carver.episode), by=care_manager, note="Improving.")

    response = page(cm_client, agenda)

    html = response.content.decode()
    assert on_agenda(agenda)[-1] == enrolled_today.pk and "Newman" in html
    carver.refresh_from_db()
    assert carver.reason_cleared_at is not None and carver.reasons == [Kind.NOT_IMPROVING]
    assert carver.episode_id in on_agenda(agenda)  # marked, not dropped
    assert "reason cleared: was not improving" in html


def test_a_reason_back_again_is_no_longer_marked_cleared(cm_client, agenda, care_manager):
    baker = agenda.items.get(episode__patient__last_name="Baker")
    registry_services.resolve_flag(flag=Flag.objects.get(episode=baker.episode), by=care_manager, note="Seen.")
    page(cm_client, agenda)
    registry_services.raise_flag(episode=baker.episode, kind=Kind.NOT_IMPROVING, reason="A rule holds.")

    page(cm_client, agenda)

    baker.refresh_from_db()
    assert (baker.reason_cleared_at, baker.reasons) == (None, [Kind.NOT_IMPROVING])


def test_a_held_meeting_is_frozen(cm_client, agenda, clinic, care_manager):
    held = cm_client.post(reverse("consults:hold_meeting", args=[agenda.pk]))
    before = list(agenda.items.order_by("pk").values())
    patient_of(clinic, care_manager, agenda.consultant, Kind.SAFETY)

    response = page(cm_client, agenda)
    item = agenda.items.first()
    move = cm_client.post(reverse("consults:move_item", args=[agenda.pk, item.pk, "down"]))
    save = cm_client.post(reverse("consults:save_questions", args=[agenda.pk]), {f"note-{item.pk}": "Late?"})

    assert held.status_code == 302
    agenda.refresh_from_db()
    assert agenda.held_by == care_manager
    assert list(agenda.items.order_by("pk").values()) == before
    assert "no longer changes" in response.content.decode() and "Move to top" not in response.content.decode()
    assert (move.status_code, save.status_code) == (403, 403)


def test_marking_the_meeting_held_saves_the_questions_typed_in_the_rows(cm_client, agenda):
    item = agenda.items.order_by("position", "pk").first()

    held = cm_client.post(reverse("consults:hold_meeting", args=[agenda.pk]), {f"note-{item.pk}": "Dose up?"})

    assert held.status_code == 302
    item.refresh_from_db()
    agenda.refresh_from_db()
    assert (item.note, agenda.is_held) == ("Dose up?", True)


def test_an_invalid_question_keeps_the_meeting_open_and_shows_what_was_typed(cm_client, agenda):
    item = agenda.items.order_by("position", "pk").first()
    too_long = "Why " + "x" * 300

    refused = cm_client.post(reverse("consults:hold_meeting", args=[agenda.pk]), {f"note-{item.pk}": too_long})

    assert refused.status_code == 400
    assert too_long in refused.content.decode()
    agenda.refresh_from_db()
    assert not agenda.is_held


def test_the_consultant_may_mark_the_meeting_held_a_pcp_may_not(client, clinic, agenda, consultant):
    client.force_login(UserFactory(role=Role.MEDICAL_PROVIDER, clinics=[clinic]))
    refused = client.post(reverse("consults:hold_meeting", args=[agenda.pk]))
    client.force_login(consultant)
    held = client.post(reverse("consults:hold_meeting", args=[agenda.pk]))

    assert (refused.status_code, held.status_code) == (403, 302)
    agenda.refresh_from_db()
    assert agenda.is_held


def queries_to_open(client, clinic, consultant, newly_flagged: int) -> int:
    cm = UserFactory(clinics=[clinic])
    patient_of(clinic, cm, consultant, Kind.NEW_PATIENT)
    build_agendas(clinic, clinic_today(clinic))
    agenda = Agenda.objects.get(care_manager=cm)
    for _ in range(newly_flagged):
        patient_of(clinic, cm, consultant, Kind.SAFETY)
    registry_services.resolve_flag(flag=Flag.objects.get(episode=agenda.items.get().episode), by=cm, note="Seen.")
    client.force_login(cm)
    with CaptureQueriesContext(connection) as queries:
        response = page(client, agenda)
    assert on_agenda(agenda)[1:] and len(on_agenda(agenda)) == newly_flagged + 1
    assert response.status_code == 200
    return len(queries)


def test_reconciling_costs_the_same_queries_for_2_or_20_newly_flagged(client, clinic, consultant):
    assert queries_to_open(client, clinic, consultant, 2) == queries_to_open(client, clinic, consultant, 20)


# --- a request lands on the next meeting ---------------------------------------------------


def request_review(client, episode):
    return client.post(
        reverse("registry:request_review", args=[episode.patient_id]), {"reason": "Worse since the divorce."}
    )


def test_a_request_lands_on_this_weeks_agenda_at_once(cm_client, agenda, clinic, care_manager):
    improving = patient_of(clinic, care_manager, agenda.consultant, last_name="Doyle")

    response = request_review(cm_client, improving)

    assert response.status_code == 302
    item = agenda.items.get(episode=improving)
    assert item.reasons == [Kind.NEEDS_DISCUSSION] and item.removed_at is None


def test_a_request_creates_the_next_agenda_when_there_is_none(cm_client, clinic, care_manager, consultant):
    RegistrySettings.objects.create(clinic=clinic, agenda_weekday=RegistrySettings.Weekday.THURSDAY)
    episode = patient_of(clinic, care_manager, consultant)

    request_review(cm_client, episode)

    agenda = Agenda.objects.get()
    today = clinic_today(clinic)
    assert agenda.week_of.weekday() == 3 and today <= agenda.week_of < today + 7 * DAY
    assert on_agenda(agenda) == [episode.pk]


def test_a_request_after_the_meeting_was_held_goes_to_the_next_week(cm_client, agenda, clinic, care_manager):
    services.hold_meeting(agenda=agenda, by=care_manager)
    episode = patient_of(clinic, care_manager, agenda.consultant)

    request_review(cm_client, episode)

    later = Agenda.objects.exclude(pk=agenda.pk).get()
    assert later.week_of > agenda.week_of and episode.pk in on_agenda(later)
    assert not agenda.items.filter(episode=episode).exists()


def test_a_request_puts_back_a_patient_the_care_manager_had_removed(cm_client, agenda, care_manager):
    item = agenda.items.get(episode__patient__last_name="Baker")
    services.remove_from_agenda(item=item, by=care_manager)

    request_review(cm_client, item.episode)

    item.refresh_from_db()
    assert item.removed_at is None and on_agenda(agenda)[-1] == item.episode_id


# --- reordering in one request -------------------------------------------------------------


def test_the_whole_order_is_saved_in_one_request(cm_client, agenda):
    a, b, c = agenda.items.order_by("position")

    response = cm_client.post(
        reverse("consults:reorder", args=[agenda.pk]), {"item": [c.pk, a.pk, b.pk]}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 200
    assert on_agenda(agenda) == [c.episode_id, a.episode_id, b.episode_id]
    assert AgendaItem.history.filter(history_type="~", history_user__isnull=False).count() == 3


def test_a_stale_order_changes_nothing(cm_client, agenda):
    a, _, c = agenda.items.order_by("position")
    before = on_agenda(agenda)

    response = cm_client.post(
        reverse("consults:reorder", args=[agenda.pk]), {"item": [c.pk, a.pk]}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 409 and "reload" in response.json()["error"]
    assert on_agenda(agenda) == before


def test_move_to_top_from_place_19_is_one_click(cm_client, clinic, care_manager, consultant):
    for _ in range(18):
        patient_of(clinic, care_manager, consultant, Kind.NEW_PATIENT)
    (agenda,) = build_agendas(clinic, clinic_today(clinic))
    added = services.add_to_agenda(agenda=agenda, episode=patient_of(clinic, care_manager, consultant), by=care_manager)
    assert on_agenda(agenda).index(added.episode_id) == 18

    response = cm_client.post(reverse("consults:move_item", args=[agenda.pk, added.pk, "top"]))

    assert response.status_code == 302 and response["Location"].endswith(f"#item-{added.pk}")
    assert on_agenda(agenda)[0] == added.episode_id and len(on_agenda(agenda)) == 19


# --- every row's question saved together ---------------------------------------------------


def test_one_save_keeps_the_questions_of_every_row(cm_client, agenda):
    a, b, c = agenda.items.order_by("position")

    response = cm_client.post(
        reverse("consults:save_questions", args=[agenda.pk]),
        {f"note-{a.pk}": "Lithium level?", f"note-{b.pk}": "Switch to sertraline?", f"note-{c.pk}": ""},
    )

    assert response.status_code == 302
    assert dict(agenda.items.values_list("pk", "note")) == {
        a.pk: "Lithium level?",
        b.pk: "Switch to sertraline?",
        c.pk: "",
    }


def test_an_invalid_row_shows_every_typed_question_again_and_saves_none(cm_client, agenda):
    a, b, _ = agenda.items.order_by("position")

    response = cm_client.post(
        reverse("consults:save_questions", args=[agenda.pk]),
        {f"note-{a.pk}": "Lithium level?", f"note-{b.pk}": "x" * 301},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="Lithium level?"' in html and "x" * 301 in html
    assert "Ensure this value has at most 300 characters" in html
    assert set(agenda.items.values_list("note", flat=True)) == {""}


def test_moving_a_row_also_saves_the_questions_typed_meanwhile(cm_client, agenda):
    a, b, _ = agenda.items.order_by("position")

    cm_client.post(reverse("consults:move_item", args=[agenda.pk, b.pk, "top"]), {f"note-{a.pk}": "Labs?"})

    a.refresh_from_db()
    assert a.note == "Labs?" and on_agenda(agenda)[0] == b.episode_id


def test_an_invalid_patient_to_add_keeps_the_typed_question(cm_client, agenda):
    response = cm_client.post(reverse("consults:add_item", args=[agenda.pk]), {"episode": "", "note": "Why now?"})

    assert response.status_code == 400
    assert 'value="Why now?"' in response.content.decode()
    assert "Choose a patient." in response.content.decode()


def test_one_rows_question_too_long_comes_back_beside_its_row(cm_client, agenda):
    item = agenda.items.order_by("position").last()

    response = cm_client.post(reverse("consults:set_question", args=[agenda.pk, item.pk]), {"note": "y" * 301})

    assert response.status_code == 400
    assert "y" * 301 in response.content.decode()
    item.refresh_from_db()
    assert item.note == ""


def test_a_request_before_the_agenda_hour_does_not_stop_the_days_build(clinic, care_manager, consultant):
    zone = zoneinfo.ZoneInfo(clinic.timezone)
    monday_5, monday_6 = (datetime.datetime(2025, 3, 10, hour, 0, tzinfo=zone) for hour in (5, 6))
    requested = patient_of(clinic, care_manager, consultant, Kind.NEEDS_DISCUSSION)
    colleague = UserFactory(clinics=[clinic])
    other_team = patient_of(clinic, colleague, consultant, Kind.NEW_PATIENT)
    with patch.object(timezone, "now", return_value=monday_5):
        made_early = put_on_next_agenda(requested, care_manager)

    built = build_due_agendas(monday_6)

    assert made_early.week_of == datetime.date(2025, 3, 10) and built == 1
    assert on_agenda(Agenda.objects.get(care_manager=colleague)) == [other_team.pk]
    assert build_due_agendas(monday_6 + datetime.timedelta(minutes=30)) == 0  # still once a day
