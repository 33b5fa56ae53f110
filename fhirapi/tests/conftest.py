import datetime
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from fhirapi.clients import issue_api_client
from fhirapi.models import ApiClient
from patients import services as patient_services


@pytest.fixture(autouse=True)
def _rate_counters_start_at_zero():
    """The rate limits count in the shared cache: each test starts with none counted."""
    cache.clear()
    yield
    cache.clear()


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def validated(resource: dict) -> dict:
    """Parse with the fhir.resources R4B model of its type (and each Bundle entry with its own)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return resource


def issue(clinic, scope="read", name="EHR interface") -> tuple[ApiClient, str]:
    client = ApiClient(name=name, clinic=clinic, scope=scope)
    token = issue_api_client(client=client, by=None)
    return client, token


@dataclass
class Api:
    """The Django test client, speaking FHIR with a token."""

    http: object
    token: str

    def _auth(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict | None = None):
        return self.http.get(path, params or {}, **self._auth())

    def post(self, path: str, resource, content_type: str = "application/fhir+json", headers: dict | None = None):
        return self.http.post(path, resource, content_type=content_type, headers=headers, **self._auth())


def enroll(clinic, by, mrn: str, enrolled_days_ago: int = 60, **fields):
    return patient_services.enroll_patient(
        clinic=clinic,
        enrolled_on=days_ago(enrolled_days_ago),
        by=by,
        mrn=mrn,
        first_name=fields.pop("first_name", "Aurelio"),
        last_name=fields.pop("last_name", "Zanetti"),
        birth_date=datetime.date(1970, 3, 4),
        sex="male",
        care_manager=by,
        **fields,
    )


@pytest.fixture
def patient(clinic, care_manager):
    return enroll(clinic, care_manager, "N-0001", phone="555-0100", city="Springfield")


@pytest.fixture
def reader(client, clinic):
    return Api(client, issue(clinic, "read")[1])


@pytest.fixture
def writer(client, clinic):
    return Api(client, issue(clinic, "write", name="Patient app")[1])
