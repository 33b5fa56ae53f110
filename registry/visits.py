"""The parts that the apps above the registry add to the record-contact page, registered when
Django is ready (care adds the treatment given at the contact, care/contributions.py), so the
registry's page and its record_visit service never name them (docs/architecture.md#layering).
"""

from collections.abc import Callable
from typing import Protocol

from django.core.exceptions import ValidationError

from patients.models import Episode


class VisitPart(Protocol):
    template: str  # drawn inside the contact's form, with the part as `part`

    def is_valid(self) -> bool: ...

    def interventions_with(self, codes) -> list[str]:
        """The contact's intervention codes, with those this part records."""

    def save(self, *, contact, by) -> object:
        """Saves what was filled in, inside the contact's transaction; falsy when nothing was."""

    def show_errors(self, error: ValidationError) -> bool:
        """Puts a service's error beside this part's fields; False when the error is not its own."""


VISIT_PARTS: list[Callable[..., VisitPart]] = []  # each called with (data, episode=)


def visit_parts(data, *, episode: Episode) -> list[VisitPart]:
    return [make(data, episode=episode) for make in VISIT_PARTS]
