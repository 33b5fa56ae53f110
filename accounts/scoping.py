"""The one rule of visibility: staff see the rows of their own clinics (superusers see all)."""

from django.db.models import QuerySet

from accounts.models import Clinic


def in_users_clinics(queryset: QuerySet, user, clinic_path: str) -> QuerySet:
    """Filter any queryset to the user's clinics; clinic_path leads from its model to Clinic."""
    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(**{f"{clinic_path}__in": user.clinics.all()})


def wholly_in_users_clinics(queryset: QuerySet, user, clinic_path: str) -> QuerySet:
    """The rows of the user's clinics that reach no other clinic: an account that also works
    elsewhere, or a run that touched another clinic, is seen but not the user's to change."""
    if not user.is_authenticated or user.is_superuser:
        return in_users_clinics(queryset, user, clinic_path)
    elsewhere = Clinic.objects.exclude(pk__in=user.clinics.values("pk"))
    return in_users_clinics(queryset, user, clinic_path).exclude(**{f"{clinic_path}__in": elsewhere})
