"""The demo's plans obey the app's rules: a discharge with goals met has its completed plan."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from patients.models import Episode, InitialAssessment, PlanChange, RelapsePreventionPlan, TreatmentPlan

pytestmark = pytest.mark.django_db


def seed_and_describe() -> dict:
    call_command("seed_demo", "--patients", "60", "--seed", "5", stdout=StringIO())
    return {
        "assessments": sorted(InitialAssessment.objects.values_list("episode__patient__mrn", "completed_on")),
        "plans": TreatmentPlan.objects.count(),
        "changes": sorted(PlanChange.objects.values_list("episode__patient__mrn", "changed_on", "reason")),
        "relapse": sorted(RelapsePreventionPlan.objects.values_list("episode__patient__mrn", "completed_on")),
    }


def test_every_demo_episode_discharged_with_goals_met_or_in_relapse_prevention_has_a_completed_plan():
    seed_and_describe()
    needing = Episode.objects.filter(discharge_reason="goals_met") | Episode.objects.filter(status="relapse_prevention")

    assert needing.exists()
    assert not needing.exclude(relapse_plan__completed_on__isnull=False).exists()
    assert PlanChange.objects.filter(recommendation__isnull=False).exists()
    assert (
        not PlanChange.objects.exclude(recommendation__isnull=True)
        .exclude(recommendation__episode=F("episode"))
        .exists()
    )


def test_the_demo_plans_are_the_same_for_the_same_seed(django_db_reset_sequences):
    first = seed_and_describe()
    call_command("flush", "--no-input", stdout=StringIO())

    assert seed_and_describe() == first
