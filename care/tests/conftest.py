import datetime

import pytest
from django.utils import timezone

from accounts.models import Role
from care import services
from tests.factories import EpisodeFactory, UserFactory, record_contact


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def pcp(clinic):
    return UserFactory(
        username="drwells", first_name="Aaron", last_name="Wells", role=Role.MEDICAL_PROVIDER, clinics=[clinic]
    )


@pytest.fixture
def clinic_admin(clinic):
    return UserFactory(username="dana", role=Role.CLINIC_ADMIN, clinics=[clinic])


@pytest.fixture
def episode(clinic, care_manager, pcp):
    return EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__pcp=pcp,
        enrolled_on=days_ago(90),
        status="active",
    )


@pytest.fixture
def patient(episode):
    return episode.patient


@pytest.fixture
def contact(episode, care_manager):
    return record_contact(episode, days_ago(7), care_manager)


@pytest.fixture
def medication(episode, care_manager, pcp):
    return services.add_medication(
        episode=episode, by=care_manager, name="sertraline", dose="50 mg", started_on=days_ago(60), prescriber=pcp
    )


@pytest.fixture
def library(clinic):
    services.ensure_starter_library(clinic)
    return list(clinic.education_topics.all())


@pytest.fixture
def referral(episode, care_manager):
    """Sent 40 days ago and still open: on the follow-up list with the clinic's default 30 days."""
    return services.make_referral(
        episode=episode,
        by=care_manager,
        kind="housing",
        to_whom="Housing office",
        reason="Eviction",
        sent_on=days_ago(40),
    )


@pytest.fixture
def care_rows(medication, referral, episode, care_manager, library) -> dict:
    """One of each care row a care manager may mark entered in error, by the keyword its service takes."""
    return {
        "medication": medication,
        "referral": referral,
        "education_given": services.give_education(
            episode=episode,
            topic=library[0],
            by=care_manager,
            given_on=days_ago(2),
            how="mailed",
            note="With a leaflet",
        ),
    }
