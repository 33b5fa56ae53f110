"""Code systems and canonical URLs the interface speaks. Panel, total, item and answer codes come
from the instruments (registry/instruments/, docs/clinical-definitions.md#codes-for-data-exchange);
only what they do not hold is here."""

from registry.instruments import INSTRUMENTS, PHQ9
from registry.instruments.base import Instrument

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
US_CORE_SCREENING_ASSESSMENT = (
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-screening-assessment"
)

# The instruments the interface exchanges: those that say so (Instrument.fhir), with LOINC panel and total codes.
FHIR_INSTRUMENTS: dict[str, Instrument] = {code: i for code, i in INSTRUMENTS.items() if i.fhir}


def questionnaire_url(instrument: Instrument) -> str:
    return f"{LOINC}/q/{instrument.panel_loinc}"


QUESTIONNAIRES = {questionnaire_url(i): i for i in FHIR_INSTRUMENTS.values()}
TOTAL_CODES = {i.total_loinc: i for i in FHIR_INSTRUMENTS.values()}

# PHQ-9's unscored difficulty question and its LOINC answers, declared with the PHQ-9
# (registry/instruments/phq9.py); kept here by name for the interface's readers.
_DIFFICULTY = PHQ9.extra_question("difficulty")
assert _DIFFICULTY is not None, "the PHQ-9 declares its difficulty question"
DIFFICULTY_LOINC = _DIFFICULTY.loinc
DIFFICULTY_ANSWER_LOINC = _DIFFICULTY.answer_loinc


def mrn_system(clinic_code: str) -> str:
    """MRNs are unique within a clinic, so each clinic's MRNs are their own identifier system."""
    return f"urn:carereg:clinic:{clinic_code}:mrn"
