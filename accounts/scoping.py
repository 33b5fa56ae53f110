"""The one rule of visibility: staff see the rows of their own clinics (superusers see all)."""

from django.db.models import QuerySet


def in_users_clinics(queryset: QuerySet, user, clinic_path: str) -> QuerySet:
    """Filter any queryset to the user's clinics; clinic_path leads from its model to Clinic."""
    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(**{f"{clinic_path}__in": user.clinics.all()})
