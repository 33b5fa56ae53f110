"""Create clinics and staff from admins' provisioning scripts: safe to run again."""

from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Clinic, Role, User

# What the apps above add to a clinic that create_clinic opens (docs/architecture.md#layering):
# each step takes the clinic and returns a line to report, or "" when it had nothing to add.
CLINIC_SET_UP_STEPS: list[Callable[[Clinic], str]] = []


def on_clinic_set_up(step: Callable[[Clinic], str]) -> Callable[[Clinic], str]:
    CLINIC_SET_UP_STEPS.append(step)
    return step


def set_up_clinic(clinic: Clinic) -> list[str]:
    """Runs every registered step: safe to run again, each step adds only what is missing."""
    return [line for step in CLINIC_SET_UP_STEPS if (line := step(clinic))]


@transaction.atomic
def ensure_clinic(*, code: str, name: str, timezone: str | None = None) -> tuple[Clinic, bool]:
    clinic, created = Clinic.objects.get_or_create(code=code, defaults={"name": name})
    changed = clinic.name != name or (timezone and clinic.timezone != timezone)
    clinic.name = name
    if timezone:
        clinic.timezone = timezone
    clinic.full_clean()
    if created or changed:
        clinic.save()
    return clinic, created


@transaction.atomic
def ensure_staff(
    *,
    username: str,
    role: str,
    clinic: Clinic,
    password: str | None,
    fte: Decimal | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    check_password: bool = True,
) -> tuple[User, bool]:
    """Create the account, or bring an existing one's role and clinics up to date.

    The password is set only for a new account or when one is given, so running a script
    again does not reset anyone's password unless it says so.
    """
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    if fte is not None and role != Role.CARE_MANAGER:
        raise ValidationError("Only care managers have an FTE.")
    # The same range as the user_fte_range constraint, said here so that a script gets a message, not a traceback.
    if fte is not None and not Decimal("0") < fte <= Decimal("1.5"):
        raise ValidationError(f"FTE must be more than 0 and at most 1.5, not {fte}.")
    if role == Role.CARE_MANAGER and fte is None:
        fte = Decimal("1.00")
    user, created = User.objects.get_or_create(username=username, defaults={"role": role})
    if created and not password:
        raise ValidationError("A new account needs a password.")
    user.role, user.fte = role, fte
    user.first_name, user.last_name = first_name or user.first_name, last_name or user.last_name
    user.email = email or user.email
    if password:
        if check_password:
            validate_password(password, user)
        user.set_password(password)
    user.full_clean(exclude=["password"] if not password else None, validate_constraints=False)
    user.save()
    user.clinics.add(clinic)
    return user, created
