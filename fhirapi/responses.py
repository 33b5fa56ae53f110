"""FHIR JSON responses and OperationOutcomes."""

import json
from dataclasses import dataclass

from django.http import HttpResponse

FHIR_JSON = "application/fhir+json; charset=utf-8"


@dataclass(frozen=True)
class Issue:
    """One problem, said so that the sender can fix it: `expression` points into their resource."""

    diagnostics: str
    code: str = "invalid"
    expression: str = ""


class FhirError(Exception):
    """Stops a request with an OperationOutcome: every issue is listed, nothing is stored."""

    def __init__(self, status: int, issues: list[Issue], headers: dict | None = None):
        super().__init__("; ".join(issue.diagnostics for issue in issues))
        self.status, self.issues, self.headers = status, issues, headers or {}


def operation_outcome(issues: list[Issue], severity: str = "error") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": issue.code,
                "diagnostics": issue.diagnostics,
                **({"expression": [issue.expression]} if issue.expression else {}),
            }
            for issue in issues
        ],
    }


def fhir_response(resource: dict, status: int = 200, headers: dict | None = None) -> HttpResponse:
    return HttpResponse(json.dumps(resource), status=status, content_type=FHIR_JSON, headers=headers)


def error_response(error: FhirError) -> HttpResponse:
    return fhir_response(operation_outcome(error.issues), status=error.status, headers=error.headers)


def not_found(what: str) -> FhirError:
    return FhirError(404, [Issue(f"{what} was not found.", code="not-found")])
