"""The database keeps care rows honest even if a service is bypassed."""

import pytest
from django.db import IntegrityError, transaction

from care.models import InterventionSession, Medication, MedicationReport, Referral
from care.tests.conftest import days_ago

pytestmark = pytest.mark.django_db


def refused(make) -> bool:
    try:
        with transaction.atomic():
            make()
    except IntegrityError:
        return True
    return False


def test_a_medication_stopped_needs_a_reason_and_a_stop_date_not_before_its_start(episode, care_manager):
    base = {"episode": episode, "name": "sertraline", "dose": "50 mg", "started_on": days_ago(30)}

    no_reason = refused(lambda: Medication.objects.create(**base, stopped_on=days_ago(1), recorded_by=care_manager))
    before_start = refused(
        lambda: Medication.objects.create(**base, stopped_on=days_ago(40), stop_reason="x", recorded_by=care_manager)
    )

    assert no_reason and before_start
    assert not refused(lambda: Medication.objects.create(**base, recorded_by=care_manager))


def test_a_medication_report_must_say_something_and_describe_side_effects(contact, medication, care_manager):
    empty = refused(
        lambda: MedicationReport.objects.create(contact=contact, medication=medication, recorded_by=care_manager)
    )
    undescribed = refused(
        lambda: MedicationReport.objects.create(
            contact=contact, medication=medication, side_effect_severity="moderate", recorded_by=care_manager
        )
    )

    assert empty and undescribed


def test_one_report_per_medication_per_contact(contact, medication, care_manager):
    MedicationReport.objects.create(
        contact=contact, medication=medication, adherence="as_prescribed", recorded_by=care_manager
    )

    assert refused(
        lambda: MedicationReport.objects.create(
            contact=contact, medication=medication, adherence="missed_some", recorded_by=care_manager
        )
    )


def test_a_session_cannot_be_past_its_plan_or_recorded_twice_at_a_contact(contact, care_manager):
    fields = {
        "episode": contact.episode,
        "contact": contact,
        "intervention": "problem_solving",
        "recorded_by": care_manager,
    }

    past_plan = refused(lambda: InterventionSession.objects.create(**fields, session_number=7, planned_sessions=6))
    InterventionSession.objects.create(**fields, session_number=3, planned_sessions=6)
    twice = refused(lambda: InterventionSession.objects.create(**fields, session_number=4, planned_sessions=6))

    assert past_plan and twice


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "completed", "scheduled_for": days_ago(5)},  # closed without a closing date
        {"status": "scheduled"},  # scheduled without a date
        {"status": "sent", "closed_on": days_ago(1)},  # open with a closing date
        {"status": "sent", "scheduled_for": days_ago(30)},  # scheduled before it was sent
        {"status": "lost"},
    ],
)
def test_referral_status_and_dates_agree(episode, care_manager, fields):
    base = {
        "episode": episode,
        "kind": "housing",
        "to_whom": "Housing office",
        "reason": "Eviction",
        "sent_on": days_ago(10),
    }

    assert refused(lambda: Referral.objects.create(**base, **fields, recorded_by=care_manager))
