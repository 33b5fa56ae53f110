"""The weekly caseload review agenda built from the open flags (docs/clinical-definitions.md#weekly-caseload-review)."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from accounts.models import Role
from consults import services
from consults.agenda import build_agendas, build_due_agendas
from consults.models import Agenda, AgendaItem
from patients import services as patient_services
from patients.models import Episode
from registry import services as registry_services
from registry.flags import refresh_flags
from registry.models import Flag, RegistrySettings
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
DAY = datetime.timedelta(days=1)
WEEK_OF = datetime.date(2025, 3, 10)  # a Monday


@pytest.fixture
def consultant(clinic):
    return UserFactory(username="psych", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])


def patient_of(clinic, care_manager, consultant=None, **episode_fields) -> Episode:
    return EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        **episode_fields,
    )


def flag(episode, kind, by) -> None:
    """Raise a flag as the app does: safety from an item 9 answer, needs discussion by a person,
    the rest as a rule would (no person)."""
    if kind == Kind.SAFETY:
        record_score(episode, "PHQ9", 12, timezone.localdate() - DAY, by, item9=1)
    elif kind == Kind.NEEDS_DISCUSSION:
        registry_services.request_case_review(episode=episode, by=by, reason="Please discuss.")
    else:
        registry_services.raise_flag(episode=episode, kind=kind, reason="A rule holds.")


def flagged(clinic, care_manager, consultant, *kinds) -> Episode:
    episode = patient_of(clinic, care_manager, consultant)
    for kind in kinds:
        flag(episode, kind, care_manager)
    return episode


def on_agenda(agenda) -> list[int]:
    """Episode ids still on the agenda, in the order they will be discussed."""
    return list(
        agenda.items.filter(removed_at__isnull=True).order_by("position", "pk").values_list("episode_id", flat=True)
    )


def resolve(episode, kind, by) -> None:
    registry_services.resolve_flag(
        flag=Flag.objects.get(episode=episode, kind=kind, resolved_at__isnull=True), by=by, note="Done."
    )


# --- build_agendas -------------------------------------------------------------------------


def test_one_agenda_per_care_manager_and_consultant_pair(clinic, other_clinic, care_manager, consultant):
    second_consultant = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])
    second_cm = UserFactory(clinics=[clinic])
    a = flagged(clinic, care_manager, consultant, Kind.NEW_PATIENT)
    b = flagged(clinic, care_manager, consultant, Kind.FOLLOWUP_OVERDUE)
    c = flagged(clinic, care_manager, second_consultant, Kind.NEW_PATIENT)
    d = flagged(clinic, care_manager, None, Kind.NEW_PATIENT)
    e = flagged(clinic, second_cm, consultant, Kind.NEW_PATIENT)
    flagged(clinic, None, consultant, Kind.NEW_PATIENT)  # no care manager: nobody's caseload
    patient_of(clinic, care_manager, consultant)  # no open flag
    gone = flagged(clinic, care_manager, consultant, Kind.FOLLOWUP_OVERDUE)
    patient_services.change_status(
        episode=gone,
        status=Episode.Status.DISCHARGED,
        on=timezone.localdate(),
        by=care_manager,
        discharge_reason="moved",
    )
    other_cm = UserFactory(clinics=[other_clinic])
    flagged(other_clinic, other_cm, None, Kind.NEW_PATIENT)

    agendas = build_agendas(clinic, WEEK_OF)

    teams = {(agenda.care_manager_id, agenda.consultant_id): on_agenda(agenda) for agenda in agendas}
    assert teams == {
        (care_manager.pk, consultant.pk): [a.pk, b.pk],
        (care_manager.pk, second_consultant.pk): [c.pk],
        (care_manager.pk, None): [d.pk],
        (second_cm.pk, consultant.pk): [e.pk],
    }
    assert {(a.clinic_id, a.week_of) for a in agendas} == {(clinic.pk, WEEK_OF)}
    assert Agenda.objects.count() == 4


def test_agenda_orders_safety_then_not_improving_then_new_patients_then_the_rest(clinic, care_manager, consultant):
    # Created in an order unlike the agenda's, so that the order is not the ids'.
    measurement = flagged(clinic, care_manager, consultant, Kind.MEASUREMENT_OVERDUE)
    followup = flagged(clinic, care_manager, consultant, Kind.FOLLOWUP_OVERDUE)
    new = flagged(clinic, care_manager, consultant, Kind.NEW_PATIENT)
    discussion = flagged(clinic, care_manager, consultant, Kind.NEEDS_DISCUSSION)
    first_followup = flagged(clinic, care_manager, consultant, Kind.NO_FIRST_FOLLOWUP)
    stuck = flagged(clinic, care_manager, consultant, Kind.NOT_IMPROVING)
    safety = flagged(clinic, care_manager, consultant, Kind.MEASUREMENT_OVERDUE, Kind.SAFETY)
    new_too = flagged(clinic, care_manager, consultant, Kind.FOLLOWUP_OVERDUE, Kind.NEW_PATIENT)

    (agenda,) = build_agendas(clinic, WEEK_OF)

    assert on_agenda(agenda) == [
        safety.pk,
        stuck.pk,
        new.pk,
        new_too.pk,
        discussion.pk,
        followup.pk,
        first_followup.pk,
        measurement.pk,
    ]
    items = {item.episode_id: item for item in agenda.items.all()}
    assert items[safety.pk].reasons == [Kind.SAFETY, Kind.MEASUREMENT_OVERDUE]
    assert items[new_too.pk].reasons == [Kind.NEW_PATIENT, Kind.FOLLOWUP_OVERDUE]
    assert sorted(item.position for item in items.values()) == list(range(1, 9))
    assert all(item.added_by is None for item in items.values())
    assert AgendaItem.history.filter(history_type="+").count() == 8


def test_agenda_from_the_flags_the_rules_raised(clinic, care_manager, consultant):
    today = timezone.localdate()
    waiting = patient_of(clinic, care_manager, consultant, enrolled_on=today - 5 * DAY)
    stuck = patient_of(clinic, care_manager, consultant)
    record_contact(stuck, today - 80 * DAY, care_manager, kind="initial_assessment")
    record_score(stuck, "PHQ9", 20, today - 80 * DAY, care_manager)
    record_contact(stuck, today - 3 * DAY, care_manager)
    record_score(stuck, "PHQ9", 17, today - 3 * DAY, care_manager)
    refresh_flags(today=today)

    (agenda,) = build_agendas(clinic, today)

    assert on_agenda(agenda) == [stuck.pk, waiting.pk]
    assert agenda.items.get(episode=stuck).reasons == [Kind.NOT_IMPROVING, Kind.NEW_PATIENT]


def test_building_again_adds_the_newly_flagged_at_the_end_and_keeps_the_care_managers_changes(
    clinic, care_manager, consultant
):
    new = flagged(clinic, care_manager, consultant, Kind.NEW_PATIENT)
    overdue = flagged(clinic, care_manager, consultant, Kind.FOLLOWUP_OVERDUE)
    removed = flagged(clinic, care_manager, consultant, Kind.MEASUREMENT_OVERDUE)
    (agenda,) = build_agendas(clinic, WEEK_OF)
    services.move_on_agenda(item=agenda.items.get(episode=overdue), by=care_manager, step=-1)
    services.remove_from_agenda(item=agenda.items.get(episode=removed), by=care_manager)
    flag(removed, Kind.NOT_IMPROVING, care_manager)  # more urgent now, but the care manager took it off
    later_safety = flagged(clinic, care_manager, consultant, Kind.SAFETY)
    later_overdue = flagged(clinic, care_manager, consultant, Kind.FOLLOWUP_OVERDUE)
    flag(overdue, Kind.SAFETY, care_manager)
    resolve(new, Kind.NEW_PATIENT, care_manager)

    (rebuilt,) = build_agendas(clinic, WEEK_OF)

    assert rebuilt.pk == agenda.pk
    assert on_agenda(agenda) == [overdue.pk, new.pk, later_safety.pk, later_overdue.pk]
    items = {item.episode_id: item for item in agenda.items.all()}
    assert items[overdue.pk].reasons == [Kind.SAFETY, Kind.FOLLOWUP_OVERDUE]
    assert items[new.pk].reasons == [Kind.NEW_PATIENT]  # kept, and marked cleared: not silently dropped
    assert items[new.pk].reason_cleared_at is not None
    assert items[overdue.pk].reason_cleared_at is None
    assert items[removed.pk].removed_at is not None
    assert items[removed.pk].removed_by == care_manager
    assert Agenda.objects.count() == 1


def test_building_twice_changes_nothing(clinic, care_manager, consultant):
    flagged(clinic, care_manager, consultant, Kind.NEW_PATIENT)
    flagged(clinic, care_manager, consultant, Kind.SAFETY)
    (agenda,) = build_agendas(clinic, WEEK_OF)
    before = list(agenda.items.order_by("pk").values())
    history_before = AgendaItem.history.count()

    build_agendas(clinic, WEEK_OF)

    assert list(agenda.items.order_by("pk").values()) == before
    assert AgendaItem.history.count() == history_before
    assert Agenda.objects.count() == 1


def test_a_new_week_gets_a_new_agenda(clinic, care_manager, consultant):
    episode = flagged(clinic, care_manager, consultant, Kind.NEW_PATIENT)
    (first,) = build_agendas(clinic, WEEK_OF)
    services.remove_from_agenda(item=first.items.get(), by=care_manager)

    (second,) = build_agendas(clinic, WEEK_OF + 7 * DAY)

    assert second.pk != first.pk
    assert on_agenda(second) == [episode.pk]


# --- build_due_agendas ---------------------------------------------------------------------


def at(clinic_timezone: str, *args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zoneinfo.ZoneInfo(clinic_timezone))


@pytest.fixture
def tokyo():
    """A clinic whose Monday 6:00 is Sunday evening in UTC (and in the server's Los Angeles)."""
    clinic = ClinicFactory(code="tokyo", timezone="Asia/Tokyo")
    cm = UserFactory(clinics=[clinic])
    flagged(clinic, cm, None, Kind.NEW_PATIENT)
    return clinic


@pytest.mark.parametrize(
    ("local", "built"),
    [
        ((2025, 3, 10, 5, 59), False),  # Monday, before the hour
        ((2025, 3, 10, 6, 0), True),  # Monday, at the hour
        ((2025, 3, 10, 15, 30), True),  # Monday, later that day
        ((2025, 3, 11, 6, 30), False),  # Tuesday
        ((2025, 3, 9, 6, 30), False),  # Sunday
    ],
)
def test_agendas_are_built_on_the_clinics_weekday_from_its_hour_in_its_time_zone(tokyo, local, built):
    now = at("Asia/Tokyo", *local).astimezone(datetime.UTC)

    count = build_due_agendas(now)

    agendas = list(Agenda.objects.filter(clinic=tokyo))
    assert (count, len(agendas)) == ((1, 1) if built else (0, 0))
    if built:
        assert agendas[0].week_of == datetime.date(*local[:3])


def test_agenda_week_is_the_clinics_local_date(tokyo):
    now = at("Asia/Tokyo", 2025, 3, 10, 6, 30)
    assert timezone.localdate(now) == datetime.date(2025, 3, 9)  # still Sunday on the server

    build_due_agendas(now)

    assert Agenda.objects.get(clinic=tokyo).week_of == datetime.date(2025, 3, 10)


def test_each_clinic_uses_its_own_weekday_and_hour(clinic, care_manager, tokyo):
    RegistrySettings.objects.create(clinic=clinic, agenda_weekday=RegistrySettings.Weekday.WEDNESDAY, agenda_hour=9)
    flagged(clinic, care_manager, None, Kind.NEW_PATIENT)

    monday = build_due_agendas(at("Asia/Tokyo", 2025, 3, 10, 7, 0))
    wednesday_early = build_due_agendas(at("America/Los_Angeles", 2025, 3, 12, 8, 59))
    wednesday = build_due_agendas(at("America/Los_Angeles", 2025, 3, 12, 9, 0))

    assert (monday, wednesday_early, wednesday) == (1, 0, 1)
    assert sorted(Agenda.objects.values_list("clinic__code", "week_of")) == [
        ("north", datetime.date(2025, 3, 12)),
        ("tokyo", datetime.date(2025, 3, 10)),
    ]


def test_agendas_are_built_once_a_day(tokyo):
    first = build_due_agendas(at("Asia/Tokyo", 2025, 3, 10, 6, 5))
    items = list(AgendaItem.objects.order_by("pk").values())

    second = build_due_agendas(at("Asia/Tokyo", 2025, 3, 10, 7, 5))
    third = build_due_agendas(at("Asia/Tokyo", 2025, 3, 10, 7, 5))

    assert (first, second, third) == (1, 0, 0)
    assert Agenda.objects.count() == 1
    assert list(AgendaItem.objects.order_by("pk").values()) == items
