"""Code systems and canonical URLs the interface speaks. Item and answer codes come from
registry/scoring.py (docs/clinical-definitions.md#codes-for-data-exchange); only what scoring does not hold is here."""

from registry.scoring import GAD7, PHQ9, Instrument

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
US_CORE_SCREENING_ASSESSMENT = (
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-screening-assessment"
)

# The instruments the interface exchanges: those with LOINC item, answer and total codes.
FHIR_INSTRUMENTS: dict[str, Instrument] = {PHQ9.code: PHQ9, GAD7.code: GAD7}


def questionnaire_url(instrument: Instrument) -> str:
    return f"{LOINC}/q/{instrument.panel_loinc}"


QUESTIONNAIRES = {questionnaire_url(i): i for i in FHIR_INSTRUMENTS.values()}
TOTAL_CODES = {i.total_loinc: i for i in FHIR_INSTRUMENTS.values()}

# PHQ-9's unscored difficulty question and its LOINC answer list (LL358-3), in the order of
# registry.scoring.PHQ9_DIFFICULTY_ANSWERS (0-3). Note LA6575-0 is "Very" and LA6574-3 is
# "Extremely": the codes are not in numeric order.
DIFFICULTY_LOINC = "69722-7"
DIFFICULTY_ANSWER_LOINC = ("LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3")


def mrn_system(clinic_code: str) -> str:
    """MRNs are unique within a clinic, so each clinic's MRNs are their own identifier system."""
    return f"urn:carereg:clinic:{clinic_code}:mrn"
