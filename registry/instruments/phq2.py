"""PHQ-2, the PHQ-9's first two items (docs/clinical-definitions.md#instruments): positive at 3
(Kroenke, Spitzer and Williams, Med Care 2003;41:1284-1292)."""

from registry.instruments.base import Instrument
from registry.instruments.phq9 import PHQ9

PHQ2 = Instrument(
    code="PHQ2",
    name="PHQ-2",
    items=PHQ9.items[:2],
    max_answer=3,
    positive_at=3,
    item_loinc=PHQ9.item_loinc[:2],
    panel_loinc="55757-9",
    total_loinc="55758-7",
)
