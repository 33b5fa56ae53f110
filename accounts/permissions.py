"""Who may change what. Everyone in a clinic may read its patients; writes depend on role."""

from django.core.exceptions import PermissionDenied

from accounts.models import Role

CLINICAL_WRITERS = {Role.CARE_MANAGER, Role.CLINIC_ADMIN}
SAFETY_RESOLVERS = CLINICAL_WRITERS | {Role.PSYCHIATRIC_CONSULTANT}


def can_write_clinical(user) -> bool:
    return user.is_superuser or user.role in CLINICAL_WRITERS


def can_resolve_safety(user) -> bool:
    return user.is_superuser or user.role in SAFETY_RESOLVERS


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise PermissionDenied(f"Your role does not allow you to {what}.")


def can_administer_clinic(user) -> bool:
    """The clinic admin (data manager) runs the clinic: its settings, imports, education library, the
    program overview and the audit pages. Every "superuser or clinic admin" check asks this."""
    return user.is_superuser or user.role == Role.CLINIC_ADMIN


def template_permissions(request) -> dict:
    """What the signed-in user may do, for the templates (the navbar above all): decided here,
    not by role names spelled out in markup."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "may": {
            "write_clinical": can_write_clinical(user),
            "administer": can_administer_clinic(user),
            "answer_recommendations": user.role == Role.MEDICAL_PROVIDER,
            "review_cases": user.role == Role.PSYCHIATRIC_CONSULTANT,
        }
    }
