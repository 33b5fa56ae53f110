"""Saving one clinical row in a service (docs/architecture.md#services): Django's field checks
first (choices, lengths, blanks), raised keyed by field; then the save, with `by` on the row's
history. The relations the service set itself are left out of the checks, and the check
constraints are the database's to enforce."""

from collections.abc import Iterable

from django.db import models


def save_checked(instance: models.Model, by, *, exclude: Iterable[str] = ()) -> None:
    # django-simple-history reads the row's author from this attribute, which django-stubs
    # cannot know of (docs/architecture.md#services).
    instance._history_user = by  # type: ignore[attr-defined]
    instance.full_clean(exclude=list(exclude), validate_constraints=False)
    instance.save()
