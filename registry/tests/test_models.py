"""The database keeps clinical rows honest even when the services are bypassed.

Each test writes a row straight through the ORM (no service, no validation) and expects the
check constraint to refuse it; the valid-row tests show the refusals are for the one reason
given, not for a missing field.
"""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.models import Contact, Flag, Measurement
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(clinic):
    return EpisodeFactory(patient__clinic=clinic)


@pytest.fixture
def user(clinic):
    return UserFactory(clinics=[clinic])


def phq9_row(episode, user, **overrides) -> dict:
    """A valid PHQ-9 row (total 9, mild), with any field overridden."""
    items = {f"item_{n}": 1 for n in range(1, 10)}
    return {
        "episode": episode,
        "instrument": "PHQ9",
        "taken_on": episode.enrolled_on,
        "total": 9,
        "band": "mild",
        "recorded_by": user,
        **items,
        **overrides,
    }


def gad7_row(episode, user, **overrides) -> dict:
    items = {f"item_{n}": 2 for n in range(1, 8)}
    return {
        "episode": episode,
        "instrument": "GAD7",
        "taken_on": episode.enrolled_on,
        "total": 14,
        "band": "moderate",
        "recorded_by": user,
        **items,
        **overrides,
    }


def refused(create) -> bool:
    """True when the database refuses the write (the savepoint keeps the test's transaction usable)."""
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


# --- measurements -------------------------------------------------------------------------


def test_valid_phq9_and_gad7_rows_are_accepted(episode, user):
    Measurement.objects.create(**phq9_row(episode, user))
    Measurement.objects.create(**gad7_row(episode, user))
    Measurement.objects.create(
        **phq9_row(episode, user, total_only=True, total=27, **{f"item_{n}": None for n in range(1, 10)})
    )

    assert Measurement.objects.count() == 3


@pytest.mark.parametrize("item", ["item_1", "item_9"])
def test_phq9_answer_above_3_is_refused(episode, user, item):
    row = phq9_row(episode, user, **{item: 4}, total=12)  # total still the sum

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(**row)


def test_gad7_answer_above_3_is_refused(episode, user):
    row = gad7_row(episode, user, item_7=5, total=17)

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(**row)


def test_gad7_with_an_eighth_item_is_refused(episode, user):
    row = gad7_row(episode, user, item_8=0)

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(**row)


@pytest.mark.parametrize(
    "row",
    [
        lambda episode, user: phq9_row(episode, user, item_9=None, total=8),  # item 9 unknown, not "total only"
        lambda episode, user: phq9_row(episode, user, item_1=None, total=8),
        lambda episode, user: gad7_row(episode, user, item_3=None, total=12),
    ],
    ids=["phq9-item9", "phq9-item1", "gad7-item3"],
)
def test_score_with_an_item_missing_is_refused(episode, user, row):
    row = row(episode, user)

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(**row)


@pytest.mark.parametrize("total", [8, 10, 0])
def test_total_that_is_not_the_sum_of_items_is_refused(episode, user, total):
    row = phq9_row(episode, user, total=total)

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(**row)


def test_total_changed_behind_the_items_back_is_refused(episode, user):
    measurement = Measurement.objects.create(**phq9_row(episode, user))

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.filter(pk=measurement.pk).update(total=3)

    measurement.refresh_from_db()
    assert measurement.total == 9


def test_item_changed_behind_the_total_back_is_refused(episode, user):
    measurement = Measurement.objects.create(**phq9_row(episode, user))

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.filter(pk=measurement.pk).update(item_9=3)


@pytest.mark.parametrize(("instrument", "total"), [("PHQ9", 28), ("GAD7", 22), ("PHQ2", 7), ("GAD2", 7)])
def test_total_only_score_over_the_maximum_is_refused(episode, user, instrument, total):
    row = {
        "episode": episode,
        "instrument": instrument,
        "taken_on": episode.enrolled_on,
        "total": total,
        "band": "severe",
        "recorded_by": user,
        "total_only": True,
    }

    assert refused(lambda: Measurement.objects.create(**row))
    assert not refused(lambda: Measurement.objects.create(**{**row, "total": total - 1}))


def test_total_only_score_with_item_answers_is_refused(episode, user):
    row = phq9_row(episode, user, total_only=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(**row)


def test_bulk_insert_with_one_bad_row_inserts_none(episode, user):
    rows = [Measurement(**phq9_row(episode, user)), Measurement(**gad7_row(episode, user, total=13))]

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.bulk_create(rows)

    assert not Measurement.objects.exists()


def test_unknown_instrument_is_refused(episode, user):
    row = phq9_row(episode, user, instrument="PHQ8")

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(**row)


def test_difficulty_answer_only_on_phq9(episode, user):
    assert not refused(lambda: Measurement.objects.create(**phq9_row(episode, user, difficulty=3)))
    assert refused(lambda: Measurement.objects.create(**phq9_row(episode, user, difficulty=4)))
    assert refused(lambda: Measurement.objects.create(**gad7_row(episode, user, difficulty=1)))


# --- flags --------------------------------------------------------------------------------


def test_second_open_flag_of_the_same_kind_is_refused(episode):
    Flag.objects.create(episode=episode, kind=Flag.Kind.SAFETY, raised_at=timezone.now())

    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(episode=episode, kind=Flag.Kind.SAFETY, raised_at=timezone.now())

    assert Flag.objects.filter(episode=episode).count() == 1


def test_open_flags_of_other_kinds_or_episodes_and_resolved_flags_may_coexist(clinic, episode, user):
    other_episode = EpisodeFactory(patient__clinic=clinic)
    now = timezone.now()
    Flag.objects.create(
        episode=episode, kind=Flag.Kind.SAFETY, raised_at=now, resolved_at=now, resolved_by=user, resolution_note="ok"
    )

    Flag.objects.create(episode=episode, kind=Flag.Kind.SAFETY, raised_at=now)
    Flag.objects.create(episode=episode, kind=Flag.Kind.NOT_IMPROVING, raised_at=now)
    Flag.objects.create(episode=other_episode, kind=Flag.Kind.SAFETY, raised_at=now)

    assert Flag.objects.count() == 4


def test_reopening_a_resolved_flag_beside_an_open_one_is_refused(episode, user):
    now = timezone.now()
    old = Flag.objects.create(
        episode=episode, kind=Flag.Kind.SAFETY, raised_at=now, resolved_at=now, resolved_by=user, resolution_note="ok"
    )
    Flag.objects.create(episode=episode, kind=Flag.Kind.SAFETY, raised_at=now)

    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.filter(pk=old.pk).update(resolved_at=None)


def test_safety_flag_resolved_without_a_person_is_refused(episode):
    now = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(
            episode=episode, kind=Flag.Kind.SAFETY, raised_at=now, resolved_at=now, resolution_note="Rule cleared."
        )


def test_flag_resolved_without_a_note_is_refused(episode, user):
    now = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(
            episode=episode, kind=Flag.Kind.NEW_PATIENT, raised_at=now, resolved_at=now, resolved_by=user
        )


# --- contacts -----------------------------------------------------------------------------


def contact_row(episode, user, **overrides) -> dict:
    return {
        "episode": episode,
        "contact_date": episode.enrolled_on,
        "kind": Contact.Kind.FOLLOW_UP,
        "mode": Contact.Mode.PHONE,
        "recorded_by": user,
        **overrides,
    }


def test_next_contact_before_the_contact_is_refused(episode, user):
    day = episode.enrolled_on

    assert not refused(lambda: Contact.objects.create(**contact_row(episode, user, next_contact_on=day)))
    assert refused(
        lambda: Contact.objects.create(**contact_row(episode, user, next_contact_on=day - datetime.timedelta(days=1)))
    )


def test_moving_a_contact_after_its_next_contact_date_is_refused(episode, user):
    day = episode.enrolled_on
    contact = Contact.objects.create(**contact_row(episode, user, next_contact_on=day + datetime.timedelta(days=14)))

    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(contact_date=day + datetime.timedelta(days=15))


def test_more_than_600_minutes_at_one_contact_is_refused(episode, user):
    assert not refused(lambda: Contact.objects.create(**contact_row(episode, user, minutes=600)))
    assert refused(lambda: Contact.objects.create(**contact_row(episode, user, minutes=601)))


@pytest.mark.parametrize(("field", "value"), [("kind", "visit"), ("mode", "fax"), ("with_whom", "neighbour")])
def test_contact_with_an_unknown_choice_is_refused(episode, user, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(**contact_row(episode, user, **{field: value}))
