"""Writes for case reviews and agendas: each validated, with its actor, in history."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Role
from consults import services
from consults.agenda import build_agendas
from consults.models import AgendaItem, CaseReview
from patients import services as patient_services
from patients.models import Episode
from registry import services as registry_services
from registry.models import Flag
from tests.factories import EpisodeFactory, UserFactory, record_score

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
DAY = datetime.timedelta(days=1)


def today() -> datetime.date:
    return timezone.localdate()


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


@pytest.fixture
def agenda(clinic, care_manager, consultant):
    """An agenda of three rule-flagged patients, a, b and c in that order."""
    for _ in range(3):
        registry_services.raise_flag(
            episode=patient_of(clinic, care_manager, consultant), kind=Kind.NEW_PATIENT, reason="New."
        )
    (agenda,) = build_agendas(clinic, today())
    return agenda


def on_agenda(agenda) -> list[int]:
    return list(agenda.items.filter(removed_at__isnull=True).order_by("position", "pk").values_list("pk", flat=True))


# --- add, remove, restore ------------------------------------------------------------------


def test_a_patient_added_by_hand_goes_at_the_end_with_who_and_the_question(agenda, clinic, care_manager, consultant):
    episode = patient_of(clinic, care_manager, consultant)
    before = on_agenda(agenda)

    item = services.add_to_agenda(agenda=agenda, episode=episode, by=care_manager, note="Dose change?")

    assert on_agenda(agenda) == [*before, item.pk]
    assert (item.added_by, item.note, item.reasons) == (care_manager, "Dose change?", [])
    assert item.history.get().history_user == care_manager


def test_a_patient_of_another_care_manager_cannot_be_added(agenda, clinic):
    someone_elses = patient_of(clinic, UserFactory(clinics=[clinic]))

    with pytest.raises(ValidationError, match="this care manager's caseload"):
        services.add_to_agenda(agenda=agenda, episode=someone_elses, by=agenda.care_manager)

    assert not agenda.items.filter(episode=someone_elses).exists()


def test_a_discharged_patient_cannot_be_added(agenda, clinic, care_manager):
    episode = patient_of(clinic, care_manager)
    patient_services.change_status(
        episode=episode, status=Episode.Status.DISCHARGED, on=today(), by=care_manager, discharge_reason="moved"
    )
    episode.refresh_from_db()

    with pytest.raises(ValidationError):
        services.add_to_agenda(agenda=agenda, episode=episode, by=care_manager)


def test_a_patient_on_the_agenda_cannot_be_added_twice(agenda, care_manager):
    item = agenda.items.first()

    with pytest.raises(ValidationError, match="on the agenda already"):
        services.add_to_agenda(agenda=agenda, episode=item.episode, by=care_manager)

    assert agenda.items.filter(episode=item.episode).count() == 1


def test_removing_keeps_the_row_with_who_and_when(agenda, care_manager):
    item = agenda.items.first()

    services.remove_from_agenda(item=item, by=care_manager)

    item.refresh_from_db()
    assert item.removed_at is not None
    assert item.removed_by == care_manager
    assert item.pk not in on_agenda(agenda)
    assert AgendaItem.objects.filter(pk=item.pk).exists()
    latest = item.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user) == ("~", care_manager)


def test_a_removed_patient_put_back_goes_at_the_end_keeping_the_question(agenda, care_manager):
    first, second, third = (AgendaItem.objects.get(pk=pk) for pk in on_agenda(agenda))
    services.set_item_question(item=first, by=care_manager, note="Sleep?")
    services.remove_from_agenda(item=first, by=care_manager)

    restored = services.add_to_agenda(agenda=agenda, episode=first.episode, by=care_manager)

    assert restored.pk == first.pk
    assert on_agenda(agenda) == [second.pk, third.pk, first.pk]
    restored.refresh_from_db()
    assert (restored.removed_at, restored.removed_by, restored.note) == (None, None, "Sleep?")
    assert agenda.items.count() == 3


# --- move and question ---------------------------------------------------------------------


def test_moving_up_and_down_swaps_with_the_neighbour(agenda, care_manager):
    a, b, c = on_agenda(agenda)

    services.move_on_agenda(item=AgendaItem.objects.get(pk=c), by=care_manager, step=-1)
    after_up = on_agenda(agenda)
    services.move_on_agenda(item=AgendaItem.objects.get(pk=a), by=care_manager, step=1)
    after_down = on_agenda(agenda)

    assert after_up == [a, c, b]
    assert after_down == [c, a, b]
    assert AgendaItem.objects.get(pk=a).history.order_by("-history_id").first().history_user == care_manager


def test_moving_past_either_end_changes_nothing(agenda, care_manager):
    a, b, c = on_agenda(agenda)
    history = AgendaItem.history.count()

    services.move_on_agenda(item=AgendaItem.objects.get(pk=a), by=care_manager, step=-1)
    services.move_on_agenda(item=AgendaItem.objects.get(pk=c), by=care_manager, step=1)

    assert on_agenda(agenda) == [a, b, c]
    assert AgendaItem.history.count() == history


def test_moving_skips_patients_removed_from_the_agenda(agenda, care_manager):
    a, b, c = on_agenda(agenda)
    services.remove_from_agenda(item=AgendaItem.objects.get(pk=b), by=care_manager)

    services.move_on_agenda(item=AgendaItem.objects.get(pk=c), by=care_manager, step=-1)

    assert on_agenda(agenda) == [c, a]


def test_the_question_is_saved_trimmed_with_who(agenda, care_manager):
    item = agenda.items.first()

    services.set_item_question(item=item, by=care_manager, note="  Switch to sertraline?  ")

    item.refresh_from_db()
    assert item.note == "Switch to sertraline?"
    assert item.history.order_by("-history_id").first().history_user == care_manager


# --- record_case_review --------------------------------------------------------------------


@pytest.fixture
def episode(clinic, care_manager, consultant):
    return patient_of(clinic, care_manager, consultant, enrolled_on=today() - 30 * DAY)


def test_a_case_review_is_recorded_with_who_and_when(episode, consultant, care_manager):
    review = services.record_case_review(
        episode=episode, reviewed_on=today() - DAY, consultant=consultant, summary="Increase dose.", by=care_manager
    )

    review.refresh_from_db()
    assert (review.episode, review.reviewed_on, review.consultant, review.recorded_by) == (
        episode,
        today() - DAY,
        consultant,
        care_manager,
    )
    assert review.history.get().history_user == care_manager


def test_a_case_review_needs_a_psychiatric_consultant(episode, care_manager):
    with pytest.raises(ValidationError) as error:
        services.record_case_review(
            episode=episode, reviewed_on=today(), consultant=care_manager, summary="Seen.", by=care_manager
        )

    assert "consultant" in error.value.message_dict
    assert not CaseReview.objects.exists()


@pytest.mark.parametrize(
    ("offset", "says"), [(1, "cannot be in the future"), (-31, "before this episode began")], ids=["future", "early"]
)
def test_a_case_review_date_outside_the_episode_is_refused(episode, consultant, care_manager, offset, says):
    with pytest.raises(ValidationError, match=says) as error:
        services.record_case_review(
            episode=episode, reviewed_on=today() + offset * DAY, consultant=consultant, summary="Seen.", by=care_manager
        )

    assert "reviewed_on" in error.value.message_dict
    assert not CaseReview.objects.exists()


def test_a_case_review_needs_a_summary(episode, consultant, care_manager):
    with pytest.raises(ValidationError):
        services.record_case_review(
            episode=episode, reviewed_on=today(), consultant=consultant, summary="", by=care_manager
        )

    assert not CaseReview.objects.exists()


def test_a_case_review_answers_the_request_for_discussion_and_leaves_other_flags(episode, consultant, care_manager):
    request = registry_services.request_case_review(episode=episode, by=care_manager, reason="Not sleeping.")
    record_score(episode, "PHQ9", 14, today() - 2 * DAY, care_manager, item9=1)

    services.record_case_review(
        episode=episode, reviewed_on=today() - DAY, consultant=consultant, summary="Add trazodone.", by=consultant
    )

    request.refresh_from_db()
    assert request.resolved_at is not None
    assert request.resolved_by == consultant
    assert request.resolution_note == f"Discussed at the case review of {today() - DAY:%Y-%m-%d}."
    latest = request.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user, latest.resolution_note) == (
        "~",
        consultant,
        request.resolution_note,
    )
    assert Flag.objects.get(episode=episode, kind=Kind.SAFETY).is_open


def test_a_case_review_queues_a_flag_refresh_after_commit(
    episode, consultant, care_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.record_case_review(
            episode=episode, reviewed_on=today(), consultant=consultant, summary="Seen.", by=care_manager
        )

    assert len(callbacks) == 1


def test_a_review_by_a_consultant_of_another_clinic_is_refused(clinic, other_clinic, care_manager):
    outsider = UserFactory(username="far-psych", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[other_clinic])
    episode = patient_of(clinic, care_manager)

    with pytest.raises(ValidationError, match="does not consult for this clinic"):
        services.record_case_review(
            episode=episode, reviewed_on=today(), consultant=outsider, summary="x", by=care_manager
        )

    assert not CaseReview.objects.exists()


def test_a_discharged_episode_cannot_be_reviewed(clinic, care_manager, consultant):
    episode = patient_of(clinic, care_manager, consultant)
    patient_services.change_status(
        episode=episode, status="discharged", on=today(), by=care_manager, discharge_reason="moved"
    )

    with pytest.raises(ValidationError, match="discharged"):
        services.record_case_review(
            episode=episode, reviewed_on=today(), consultant=consultant, summary="x", by=care_manager
        )
