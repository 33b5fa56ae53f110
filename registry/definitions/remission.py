"""Remission (docs/clinical-definitions.md#baseline-latest-and-change): the latest PHQ-9 (GAD-7
for anxiety) below 5. A missing score is no remission.

Used by the caseload statistics (registry.caseload), the remission measures of the outcomes
report (registry.outcomes) and, declared by the instruments that have one (registry/instruments:
PHQ-9, PHQ-A, GAD-7), the score chart's remission line.
"""

from django.db.models import Q

REMISSION_BELOW = 5


def is_remission(latest: int | None) -> bool:
    """The Python form."""
    return latest is not None and latest < REMISSION_BELOW


def remission_q(latest: str = "phq9_latest") -> Q:
    """The ORM form, over an integer column (by default the episode's latest PHQ-9)."""
    return Q(**{f"{latest}__lt": REMISSION_BELOW})


def remission_sql(latest: str) -> str:
    """The SQL form, over a column expression of a raw query."""
    return f"({latest} < {REMISSION_BELOW})"
