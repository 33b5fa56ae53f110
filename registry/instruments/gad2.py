"""GAD-2, the GAD-7's first two items (docs/clinical-definitions.md#instruments): positive at 3
(Kroenke et al., Ann Intern Med 2007;146:317-325)."""

from registry.instruments.base import Instrument
from registry.instruments.gad7 import GAD7

GAD2 = Instrument(
    code="GAD2",
    name="GAD-2",
    items=GAD7.items[:2],
    max_answer=3,
    positive_at=3,
    item_loinc=GAD7.item_loinc[:2],
)
