"""Scoring of the symptom measures (docs/clinical-definitions.md#instruments): pure functions of the item answers.

The instruments themselves are declared in registry/instruments/ (one module each); this module
keeps the names the rest of the code imports and asks the instrument, never its code.
Nothing here touches the database, so the web form, imports and the FHIR interface all score
with the same code, and the tests check it against the published bands directly.
"""

import datetime

from registry.instruments import INSTRUMENTS, MAX_ITEMS, OPTIONAL_INSTRUMENTS
from registry.instruments.auditc import AUDITC, audit_c_cut_off
from registry.instruments.base import (
    FREQUENCY_ANSWER_LOINC as ANSWER_LOINC,
)
from registry.instruments.base import (
    FREQUENCY_ANSWERS as ANSWER_LABELS,
)
from registry.instruments.base import Band, Instrument, Score, ScoringError
from registry.instruments.cssrs import CSSRS, YES_NO, cssrs_risk
from registry.instruments.gad2 import GAD2
from registry.instruments.gad7 import GAD7
from registry.instruments.gad7 import ITEMS as GAD7_ITEMS
from registry.instruments.pcl5 import ITEMS as PCL5_ITEMS
from registry.instruments.pcl5 import PCL5
from registry.instruments.phq2 import PHQ2
from registry.instruments.phq9 import DIFFICULTY_ANSWERS as PHQ9_DIFFICULTY_ANSWERS
from registry.instruments.phq9 import DIFFICULTY_QUESTION as PHQ9_DIFFICULTY_QUESTION
from registry.instruments.phq9 import ITEMS as PHQ9_ITEMS
from registry.instruments.phq9 import PHQ9

__all__ = [
    "ANSWER_LABELS",
    "ANSWER_LOINC",
    "AUDITC",
    "CSSRS",
    "GAD2",
    "GAD7",
    "GAD7_ITEMS",
    "INSTRUMENTS",
    "MAX_ITEMS",
    "OPTIONAL_INSTRUMENTS",
    "PCL5",
    "PCL5_ITEMS",
    "PHQ2",
    "PHQ9",
    "PHQ9_DIFFICULTY_ANSWERS",
    "PHQ9_DIFFICULTY_QUESTION",
    "PHQ9_ITEMS",
    "SAFETY_ITEM",
    "YES_NO",
    "Band",
    "Instrument",
    "Score",
    "ScoringError",
    "audit_c_cut_off",
    "band_for",
    "cssrs_risk",
    "cut_off",
    "raises_safety_flag",
    "safety_reason",
    "score",
    "score_total",
]

SAFETY_ITEM = PHQ9.safety_item  # PHQ-9 item 9: thoughts of death or self-harm (docs/clinical-definitions.md#safety)


def cut_off(instrument: Instrument, *, sex: str = "unknown", pcl5_positive_at: int = 33) -> int:
    """The positive-screen threshold for this patient and clinic."""
    return instrument.cut_off(sex=sex, pcl5_positive_at=pcl5_positive_at)


def band_for(instrument: Instrument, total: int, positive_at: int | None = None) -> str:
    return instrument.band_for(total, positive_at)


def score(instrument: Instrument, answers: list[int | None], *, positive_at: int | None = None) -> Score:
    """Total, band and screen result of a complete set of item answers.

    positive_at overrides the instrument's cut-off where it depends on the patient or the
    clinic (AUDIT-C by sex, PCL-5 by setting): see cut_off.
    """
    return instrument.score(answers, positive_at=positive_at)


def score_total(instrument: Instrument, total: int, *, positive_at: int | None = None) -> Score:
    """Band and screen result of a total alone (legacy imports that kept no item answers)."""
    return instrument.score_total(total, positive_at=positive_at)


def raises_safety_flag(instrument: Instrument, answers: list[int | None]) -> bool:
    """The instrument's safety rule (docs/clinical-definitions.md#safety)."""
    return instrument.raises_safety_flag(answers)


def safety_reason(instrument: Instrument, answers: list[int], taken_on: datetime.date) -> str:
    return instrument.safety_reason(answers, taken_on)


# The outcome definitions live in registry/definitions, one module each, beside their SQL forms
# (docs/clinical-definitions.md#baseline-latest-and-change); importable from here as before.
from registry.definitions.change import percent_change  # noqa: E402, F401
from registry.definitions.improvement import is_improved  # noqa: E402, F401
from registry.definitions.remission import is_remission  # noqa: E402, F401
from registry.definitions.response import is_response  # noqa: E402, F401
