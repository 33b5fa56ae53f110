"""Depressed (docs/clinical-definitions.md#baseline-latest-and-change): a PHQ-9 at or above its
positive screen, 10 ("above 9" in NQF's wording). The number is the instrument's own cut-off
(docs/clinical-definitions.md#instruments), not a second copy of it.

Used by the caseload statistics (a depressed baseline, registry.caseload) and the index score
of the 6- and 12-month response and remission measures (registry.outcomes).
"""

from django.db.models import Q

from registry.scoring import PHQ9

DEPRESSED_FROM = PHQ9.positive_at


def is_depressed(total: int | None) -> bool:
    """The Python form."""
    return total is not None and total >= DEPRESSED_FROM


def depressed_q(total: str = "phq9_baseline") -> Q:
    """The ORM form, over an integer column (by default the episode's baseline PHQ-9)."""
    return Q(**{f"{total}__gte": DEPRESSED_FROM})
