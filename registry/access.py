from django.shortcuts import get_object_or_404

from registry.models import Contact, Flag, Measurement


def get_contact_for_user(user, pk: int) -> Contact:
    return get_object_or_404(Contact.objects.visible_to(user).select_related("episode__patient"), pk=pk)


def get_measurement_for_user(user, pk: int) -> Measurement:
    return get_object_or_404(Measurement.objects.visible_to(user).select_related("episode__patient"), pk=pk)


def get_flag_for_user(user, pk: int) -> Flag:
    return get_object_or_404(Flag.objects.visible_to(user).select_related("episode__patient"), pk=pk)
