"""The searches the interface offers, declared once: the views read queries with them and the
CapabilityStatement lists them (docs/fhir.md#search)."""

from fhirapi.search import Parameter, SearchSpec

PATIENT_REFERENCE = "The patient: its id, Patient/<id>, or the full URL. Required."

PATIENT = SearchSpec(
    "Patient",
    (Parameter("identifier", "token", "The MRN: value, or system|value. Required."),),
)
OBSERVATION = SearchSpec(
    "Observation",
    (
        Parameter("patient", "reference", PATIENT_REFERENCE),
        Parameter("subject", "reference", "The same as patient."),
        Parameter(
            "code",
            "token",
            "http://loinc.org|44261-6 (PHQ-9 total) or |70274-6 (GAD-7 total), comma-separated for either.",
        ),
        Parameter("category", "token", "survey (every score is one), with or without its system."),
        Parameter(
            "date",
            "date",
            "The day the score was taken, with eq, ge, le, gt or lt; repeat for a range.",
            repeatable=True,
        ),
    ),
    sorts={"date": ("taken_on",)},
    default_order=("-taken_on", "-pk"),
)
QUESTIONNAIRE_RESPONSE = SearchSpec(
    "QuestionnaireResponse",
    (
        Parameter("patient", "reference", PATIENT_REFERENCE),
        Parameter("subject", "reference", "The same as patient."),
        Parameter(
            "questionnaire", "reference", "http://loinc.org/q/44249-1 (PHQ-9) or http://loinc.org/q/69737-5 (GAD-7)."
        ),
        Parameter(
            "authored",
            "date",
            "The day it was answered, with eq, ge, le, gt or lt; repeat for a range.",
            repeatable=True,
        ),
    ),
    sorts={"authored": ("taken_on",)},
    default_order=("-taken_on", "-pk"),
)
SPECS = {spec.resource_type: spec for spec in (PATIENT, OBSERVATION, QUESTIONNAIRE_RESPONSE)}
