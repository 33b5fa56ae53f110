"""One access helper per object kind: outside the user's clinics is a 404, never a 403."""

from collections.abc import Callable

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from patients.models import Episode, Patient

# Grants that widen what one user may read, beyond their clinics: the audit app registers its
# emergency access here (audit/contributions.py, docs/architecture.md#layering). Each takes the
# user's visible patients and the user, and returns them with the granted ones added.
READ_GRANTS: list[Callable[[QuerySet[Patient], User], QuerySet[Patient]]] = []


def get_patient_for_user(user, pk: int, *, allow_emergency: bool = False) -> Patient:
    """allow_emergency: also a patient the user holds an active emergency grant for (the
    read-only patient page only; audit/emergency.py)."""
    patients = Patient.objects.visible_to(user)
    if allow_emergency:
        for widen in READ_GRANTS:
            patients = widen(patients, user)
    patients = patients.select_related("clinic", "care_manager", "pcp", "psychiatric_consultant")
    return get_object_or_404(patients, pk=pk)


def get_episode_for_user(user, pk: int) -> Episode:
    return get_object_or_404(Episode.objects.visible_to(user).select_related("patient"), pk=pk)


def get_open_episode_or_404(patient: Patient) -> Episode:
    """The patient's open episode, for pages that record into it: none open is a 404."""
    episode = patient.episodes.open().first()
    if episode is None:
        raise Http404("This patient has no open episode of care.")
    return episode
