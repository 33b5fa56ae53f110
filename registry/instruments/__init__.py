"""The instruments the registry knows, one module each (docs/clinical-definitions.md#instruments).

INSTRUMENTS is the registry: forms, templates, the self-report, FHIR, imports and charts look
an instrument up here and ask it; adding an instrument is adding its module to MODULES.
"""

from registry.instruments.auditc import AUDITC
from registry.instruments.base import Instrument
from registry.instruments.cssrs import CSSRS
from registry.instruments.epds import EPDS
from registry.instruments.gad2 import GAD2
from registry.instruments.gad7 import GAD7
from registry.instruments.pcl5 import PCL5
from registry.instruments.phq2 import PHQ2
from registry.instruments.phq9 import PHQ9
from registry.instruments.phqa import PHQA

INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument for instrument in (PHQ9, GAD7, PHQ2, GAD2, AUDITC, CSSRS, PCL5, EPDS, PHQA)
}
MAX_ITEMS = max(instrument.item_count for instrument in INSTRUMENTS.values())
# Instruments a clinic may switch off for its care managers; the PHQ-9 is the registry's main
# measure and is always offered.
OPTIONAL_INSTRUMENTS = tuple(code for code, instrument in INSTRUMENTS.items() if instrument.optional)
ALWAYS_OFFERED = tuple(instrument for instrument in INSTRUMENTS.values() if not instrument.optional)

__all__ = [
    "ALWAYS_OFFERED",
    "AUDITC",
    "CSSRS",
    "EPDS",
    "GAD2",
    "GAD7",
    "INSTRUMENTS",
    "MAX_ITEMS",
    "OPTIONAL_INSTRUMENTS",
    "PCL5",
    "PHQ2",
    "PHQ9",
    "PHQA",
    "Instrument",
]
