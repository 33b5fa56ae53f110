"""Arrangements shared by the plan tests: an episode in treatment, a consultant's recommendation
taken to implementation, a completed relapse prevention plan."""

import datetime

from django.utils import timezone

from accounts.models import Role
from consults import notes
from patients import plans
from patients import services as patient_services
from patients.models import Episode
from tests.factories import UserFactory, record_contact

RELAPSE_PLAN = {
    "warning_signs": "Sleeping badly for a week.",
    "coping_strategies": "Morning walk; call my sister.",
    "maintenance_treatment": "Sertraline 100 mg for 9 more months.",
    "contacts": "Care manager Maria, 555-0100.",
    "when_to_come_back": "If the signs last two weeks.",
}


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def enroll(clinic, cm, *, mrn: str = "MRN-7001", enrolled_days_ago: int = 120) -> Episode:
    patient = patient_services.enroll_patient(
        clinic=clinic,
        enrolled_on=days_ago(enrolled_days_ago),
        by=cm,
        mrn=mrn,
        first_name="Ana",
        last_name="Reyes",
        birth_date=datetime.date(1972, 11, 30),
        sex="female",
        care_manager=cm,
    )
    return patient.episodes.get()


def in_treatment(clinic, cm, **kwargs) -> Episode:
    episode = enroll(clinic, cm, **kwargs)
    record_contact(episode, episode.enrolled_on, cm, kind="initial_assessment")
    episode.refresh_from_db()
    return episode


def consultant_for(clinic):
    return UserFactory(username=f"psych-{clinic.code}", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])


def recommendation_for(episode: Episode, consultant, cm, *, implemented: bool = True, **fields):
    """A signed note's recommendation, carried to the PCP, accepted and (by default) implemented."""
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(review=note, by=consultant, reviewed_on=days_ago(20), assessment="MDD.", diagnoses=[], summary="")
    fields = {"kind": "adjust_dose", "drug": "sertraline", "dose": "100 mg daily", **fields}
    recommendation = notes.add_recommendation(review=note, by=consultant, **fields)
    notes.sign(review=note, by=consultant)
    recommendation.refresh_from_db()
    recommendation = notes.respond(recommendation=recommendation, by=cm, response="accepted")
    if implemented:
        recommendation = notes.mark_implemented(recommendation=recommendation, by=cm, on=days_ago(10))
    return recommendation


def complete_relapse_plan(episode: Episode, cm, on: datetime.date | None = None):
    return plans.save_relapse_plan(episode=episode, by=cm, completed_on=on or days_ago(1), **RELAPSE_PLAN)
