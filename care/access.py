"""One access helper per object kind: outside the user's clinics is a 404, never a 403."""

from django.shortcuts import get_object_or_404

from care.models import EducationGiven, EducationTopic, Medication, Referral


def get_medication_for_user(user, pk: int) -> Medication:
    return get_object_or_404(Medication.objects.visible_to(user).select_related("episode__patient__pcp"), pk=pk)


def get_referral_for_user(user, pk: int) -> Referral:
    return get_object_or_404(Referral.objects.visible_to(user).select_related("episode__patient"), pk=pk)


def get_education_given_for_user(user, pk: int) -> EducationGiven:
    return get_object_or_404(EducationGiven.objects.visible_to(user).select_related("episode__patient", "topic"), pk=pk)


def get_topic_for_user(user, pk: int) -> EducationTopic:
    return get_object_or_404(EducationTopic.objects.visible_to(user).select_related("clinic"), pk=pk)
