"""One access helper per object kind: outside the user's clinics is a 404, never a 403."""

from django.shortcuts import get_object_or_404

from patients.models import Episode, Patient


def get_patient_for_user(user, pk: int) -> Patient:
    patients = Patient.objects.visible_to(user).select_related(
        "clinic", "care_manager", "pcp", "psychiatric_consultant"
    )
    return get_object_or_404(patients, pk=pk)


def get_episode_for_user(user, pk: int) -> Episode:
    return get_object_or_404(Episode.objects.visible_to(user).select_related("patient"), pk=pk)
