"""Registry rows as FHIR R4 resources: pure functions from model instances to JSON dicts.

Ids are the database primary keys (they say nothing about the patient, only the order rows
were made in). A measurement is both an Observation (its total) and a QuestionnaireResponse
(its answers), under the same id.
"""

from django.conf import settings

from accounts.models import Clinic
from fhirapi import codes, search_specs
from patients.models import Patient
from registry.instruments import INSTRUMENTS
from registry.models import Measurement

FHIR_VERSION = "4.0.1"


def reference(resource_type: str, pk: int) -> dict:
    return {"reference": f"{resource_type}/{pk}"}


def patient(patient: Patient, clinic: Clinic) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [{"system": codes.IDENTIFIER_TYPE, "code": "MR"}], "text": "MRN"},
                "system": codes.mrn_system(clinic.code),
                "value": patient.mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": patient.last_name, "given": [patient.first_name]}],
        "gender": patient.sex,  # our choices are FHIR's administrative genders
        "birthDate": patient.birth_date.isoformat(),
        "communication": [{"language": {"text": patient.preferred_language}, "preferred": True}],
        "managingOrganization": {"display": clinic.name},
    }
    telecom = [{"system": "phone", "value": patient.phone}] if patient.phone else []
    telecom += [{"system": "email", "value": patient.email}] if patient.email else []
    if telecom:
        resource["telecom"] = telecom
    address = {
        "line": [patient.address_line] if patient.address_line else None,
        "city": patient.city or None,
        "state": patient.state or None,
        "postalCode": patient.postal_code or None,
    }
    if any(address.values()):
        resource["address"] = [{key: value for key, value in address.items() if value}]
    return resource


def observation(measurement: Measurement, patient_id: int) -> dict:
    """The total as a US Core screening-assessment Observation, derived from the answers."""
    instrument = INSTRUMENTS[measurement.instrument]
    resource = {
        "resourceType": "Observation",
        "id": str(measurement.pk),
        "meta": {"profile": [codes.US_CORE_SCREENING_ASSESSMENT]},
        "status": "final",
        "category": [
            {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]},
        ],
        "code": {
            "coding": [{"system": codes.LOINC, "code": instrument.total_loinc}],
            "text": f"{instrument.name} total score",
        },
        "subject": reference("Patient", patient_id),
        "effectiveDateTime": measurement.taken_on.isoformat(),
        "issued": measurement.created_at.isoformat(),
        "valueQuantity": {"value": measurement.total, "unit": "{score}", "system": codes.UCUM, "code": "{score}"},
        "interpretation": [{"text": measurement.band}],
    }
    if measurement.total_only:
        resource["note"] = [{"text": "Total only, from a legacy import: the item answers are not known."}]
    else:
        resource["derivedFrom"] = [reference("QuestionnaireResponse", measurement.pk)]
    return resource


def questionnaire_response(measurement: Measurement, patient_id: int) -> dict:
    """The item answers, with LOINC item codes as linkIds and LOINC answer codes (integers where
    the instrument has none: docs/fhir.md#resources)."""
    instrument = INSTRUMENTS[measurement.instrument]
    items = [
        _answered_item(link_id, text, answer, instrument.answer_codes_for(number), instrument.labels_for(number))
        for number, (link_id, text, answer) in enumerate(
            zip(instrument.item_link_ids, instrument.items, measurement.answers, strict=True), start=1
        )
    ]
    for question in instrument.extra_questions:
        answer = getattr(measurement, question.field)
        if answer is not None:
            items.append(
                _answered_item(question.link_id, question.text, answer, question.answer_loinc, question.answers)
            )
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(measurement.pk),
        **_identifier(getattr(measurement, "fhir_identifier", None)),
        "questionnaire": codes.questionnaire_url(instrument),
        "status": "completed",
        "subject": reference("Patient", patient_id),
        "authored": measurement.taken_on.isoformat(),
        "item": items,
    }
    if measurement.source == Measurement.Source.SELF_REPORT:
        resource["source"] = reference("Patient", patient_id)
    return resource


def _identifier(identifier) -> dict:
    """The identifier the sending system gave it (fhirapi.models.ResponseIdentifier), if any."""
    if identifier is None:
        return {}
    given = {"system": identifier.system, "value": identifier.value}
    return {"identifier": {key: value for key, value in given.items() if value}}


def _answered_item(link_id: str, text: str, answer: int, answer_codes: tuple[str, ...], labels) -> dict:
    """A LOINC-coded answer where the instrument has answer codes, else the score as an integer."""
    if answer_codes:
        value = {"valueCoding": {"system": codes.LOINC, "code": answer_codes[answer], "display": labels[answer]}}
    else:
        value = {"valueInteger": answer}
    return {"linkId": link_id, "text": text, "answer": [value]}


def bundle(base_url: str, matches: list[dict], *, total: int | None = None, links: list[dict] = ()) -> dict:
    """A searchset Bundle; `base_url` ends with a slash (e.g. https://host/fhir/). `total` is the
    number of matches of the whole search, of which `matches` may be one page."""
    resource = {"resourceType": "Bundle", "type": "searchset", "total": len(matches) if total is None else total}
    if links:
        resource["link"] = list(links)
    if matches:
        resource["entry"] = [_entry(base_url, match, "match") for match in matches]
    return resource


def _entry(base_url: str, resource: dict, mode: str) -> dict:
    return {
        "fullUrl": f"{base_url}{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def capability_statement(date: str, base_url: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "CareReg"},
        "implementation": {"description": "CareReg collaborative care registry: FHIR R4 interface", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "instantiates": [BULK_DATA_CAPABILITY],
        "rest": [
            {
                "mode": "server",
                "security": _security(base_url),
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": _search_parameters(search_specs.PATIENT),
                        "operation": [
                            {
                                "name": "everything",
                                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                            },
                            {"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/patient-export"},
                        ],
                    },
                    {
                        "type": "Group",
                        "documentation": "Each clinic is a Group, its id the clinic's code: only for $export.",
                        "operation": [
                            {"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/group-export"}
                        ],
                    },
                    {
                        "type": "Observation",
                        "supportedProfile": [codes.US_CORE_SCREENING_ASSESSMENT],
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": _search_parameters(search_specs.OBSERVATION),
                    },
                    {
                        "type": "QuestionnaireResponse",
                        "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "create"}],
                        "conditionalCreate": True,
                        "searchParam": _search_parameters(search_specs.QUESTIONNAIRE_RESPONSE),
                        "documentation": ", ".join(
                            f"{i.name} ({codes.questionnaire_url(i)})" for i in codes.FHIR_INSTRUMENTS.values()
                        )
                        + ": items by LOINC linkId (item-N where LOINC has no item code), answers as LOINC "
                        "answer codes or integers. "
                        "Create is safe to retry with If-None-Exist: identifier=system|value (or identifier=value), "
                        "the response's identifier, unique within the clinic.",
                    },
                ],
            }
        ],
    }


BULK_DATA = "http://hl7.org/fhir/uv/bulkdata"
BULK_DATA_CAPABILITY = f"{BULK_DATA}/CapabilityStatement/bulk-data"
SMART_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"


def _security(base_url: str) -> dict:
    return {
        "extension": [{"url": SMART_OAUTH_URIS, "extension": [{"url": "token", "valueUri": f"{base_url}auth/token"}]}],
        "service": [{"coding": [{"system": SECURITY_SERVICE, "code": "SMART-on-FHIR"}]}],
        "description": "SMART Backend Services (system/ scopes; see .well-known/smart-configuration), or a "
        "per-client static token issued by a registry admin, sent as 'Authorization: Bearer <token>'. "
        "Every token is limited to one clinic.",
    }


def _search_parameters(spec) -> list[dict]:
    found = [{"name": p.name, "type": p.type, "documentation": p.documentation} for p in spec.parameters]
    found.append(
        {
            "name": "_count",
            "type": "number",
            "documentation": f"Page size: {settings.CAREREG_FHIR_PAGE_SIZE} when not given, at most "
            f"{settings.CAREREG_FHIR_MAX_COUNT} (a larger _count is lowered to it). Follow the Bundle's "
            "next and previous links for the other pages; _count=0 is _summary=count.",
        }
    )
    if spec.sorts:
        keys = ", ".join(f"{key}, -{key}" for key in spec.sorts)
        found.append({"name": "_sort", "type": "special", "documentation": f"{keys}. Newest first by default."})
    found.append({"name": "_summary", "type": "special", "documentation": "count: the total only."})
    return found
