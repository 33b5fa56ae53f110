"""Hostile and random input (hypothesis): the enrollment, patient and contact forms, the CSV
import and the FHIR endpoint never answer 500 and never write part of what they were given.

Each property is bounded (50-60 examples, no deadline) so the suite stays fast. The database is
not rolled back between examples, so each example compares the row counts before and after.
"""

import datetime
import json
import string

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhirapi.tests.conftest import Api, enroll, issue
from fhirapi.tests.test_create import CREATE, questionnaire_response
from interchange.importer import import_registry
from interchange.tests.builders import contact, files, measurement, patient
from patients.models import Episode, Patient
from registry.models import Contact, ContactSubmission, Flag, Measurement

pytestmark = pytest.mark.django_db

BOUNDED = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Anything a browser or a script could send in a form field: any text (NUL, control characters,
# astral planes, markup), very long text, numbers far out of range, dates in every shape.
any_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.printable, min_size=90, max_size=300),
    st.sampled_from(["<script>alert(1)</script>", "'; DROP TABLE patients_patient; --", "\x00", "\u202e", "%s%n"]),
)
any_number = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str), st.floats(allow_nan=True).map(str), any_text
)
any_date = st.one_of(
    st.dates(min_value=datetime.date(1, 1, 1)).map(datetime.date.isoformat), any_text, st.just("2026-02-30")
)
any_choice = st.one_of(
    st.sampled_from(["female", "male", "other", "unknown", "follow_up", "phone", "patient"]), any_text
)


def row_counts() -> tuple[int, ...]:
    return (
        Patient.objects.count(),
        Episode.objects.count(),
        Contact.objects.count(),
        Measurement.objects.count(),
        Flag.objects.count(),
        ContactSubmission.objects.count(),
        Patient.history.count(),
    )


def post_counting_rows(client, url: str, fields: dict):
    """Post a form; return the response and the row counts before and after it."""
    before = row_counts()
    response = client.post(url, fields)
    return response, before, row_counts()


# --- Forms through the Django test client ------------------------------------------------


@BOUNDED
@given(
    fields=st.fixed_dictionaries(
        {
            "mrn": any_text,
            "first_name": any_text,
            "last_name": any_text,
            "birth_date": any_date,
            "sex": any_choice,
            "preferred_language": any_text,
            "phone": any_text,
            "email": st.one_of(st.emails(), any_text),
            "postal_code": any_number,
            "enrolled_on": any_date,
            "care_manager": any_number,
        }
    )
)
def test_enrollment_form_saves_a_whole_patient_or_shows_errors(cm_client, care_manager, fields):
    response, before, after = post_counting_rows(cm_client, reverse("patients:enroll"), fields)

    if response.status_code == 302:
        assert after[:2] == (before[0] + 1, before[1] + 1)  # the patient and the episode, together
    else:
        assert response.status_code == 400
        assert after == before


@BOUNDED
@given(
    fields=st.fixed_dictionaries(
        {
            "mrn": any_text,
            "first_name": any_text,
            "last_name": any_text,
            "birth_date": any_date,
            "sex": any_choice,
            "city": any_text,
            "care_manager": any_number,
            "version": any_number,
        }
    )
)
def test_patient_edit_form_saves_or_shows_errors(cm_client, edited_patient, fields):
    response, before, after = post_counting_rows(cm_client, reverse("patients:edit", args=[edited_patient.pk]), fields)

    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert after == before
    else:
        assert after[6] == before[6] + 1  # one new version in history, nothing else


@pytest.fixture
def edited_patient(clinic, care_manager):
    return enroll(clinic, care_manager, "E-1")


@BOUNDED
@given(
    fields=st.fixed_dictionaries(
        {
            "contact_date": any_date,
            "contact_time": any_text,
            "kind": any_choice,
            "with_whom": any_choice,
            "mode": any_choice,
            "reached": st.sampled_from(["on", "", "off"]),
            "minutes": any_number,
            "interventions": st.lists(any_choice, max_size=3),
            "note": any_text,
            "next_contact_on": any_date,
            "submission": st.one_of(st.uuids().map(str), any_text),
            **{
                f"phq9-item_{n}": st.one_of(st.sampled_from(["0", "1", "2", "3", ""]), any_number) for n in range(1, 10)
            },
        }
    )
)
def test_contact_form_saves_a_contact_with_its_scores_or_nothing(cm_client, contact_patient, fields):
    response, before, after = post_counting_rows(
        cm_client, reverse("registry:record_contact", args=[contact_patient.pk]), fields
    )

    assert response.status_code in (400, 302)  # refused (drawn again) or saved
    if response.status_code == 400:
        assert after == before
    else:
        assert after[2] in (before[2], before[2] + 1)  # one contact, or none for a form sent twice


@pytest.fixture
def contact_patient(clinic, care_manager):
    return enroll(clinic, care_manager, "C-1", enrolled_days_ago=200)


# --- The CSV import ------------------------------------------------------------------------


def cells(builder, names):
    return st.fixed_dictionaries({name: st.one_of(any_text, any_date, any_number) for name in names}).map(
        lambda fuzzed: builder(**fuzzed)
    )


@BOUNDED
@given(
    patients=st.lists(cells(patient, ["mrn", "first_name", "birth_date", "sex", "enrolled_on", "status"]), max_size=2),
    contacts=st.lists(cells(contact, ["date", "kind", "reached", "minutes", "interventions", "note"]), max_size=2),
    measurements=st.lists(cells(measurement, ["date", "instrument", "items", "total"]), max_size=2),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_import_of_fuzzed_cells_never_raises_and_a_failed_import_changes_nothing(
    data_manager, care_manager, patients, contacts, measurements, raw
):
    given_files = files(patients=patients, contacts=contacts, measurements=measurements)
    if raw is not None:
        given_files["contacts.csv"] = raw  # not even CSV: any bytes
    before = row_counts()

    result = import_registry(files=given_files, by=data_manager)

    if not result.succeeded:
        assert result.errors
        assert row_counts() == before


@pytest.fixture
def data_manager(clinic):
    from accounts.models import Role
    from tests.factories import UserFactory

    return UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])


# --- The FHIR endpoint --------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def damaged_questionnaire_responses(draw, patient_pk):
    """A valid PHQ-9 response with some of its parts replaced by anything JSON can hold."""
    resource = questionnaire_response(patient_pk, [1] * 9)
    for key in draw(st.lists(st.sampled_from([*resource, "item.answer", "extra"]), min_size=1, max_size=3)):
        if key == "item.answer":
            items = resource["item"]
            if not (isinstance(items, list) and items and all(isinstance(i, dict) for i in items)):
                continue  # an earlier draw already replaced the items themselves
            items[draw(st.integers(0, len(items) - 1))]["answer"] = draw(json_values)
        else:
            resource[key] = draw(json_values)
    return resource


@pytest.fixture
def fhir_writer(client, clinic, care_manager):
    episode_patient = enroll(clinic, care_manager, "F-1")
    return Api(client, issue(clinic, "write", name="Patient app")[1]), episode_patient


@BOUNDED
@given(data=st.data())
def test_fuzzed_questionnaire_response_is_refused_with_an_operation_outcome(fhir_writer, data):
    api, subject = fhir_writer
    body = data.draw(
        st.one_of(
            damaged_questionnaire_responses(subject.pk),
            json_values.map(json.dumps),
            st.binary(max_size=100),
        )
    )
    before = row_counts()

    response = api.post(CREATE, body if isinstance(body, (str, bytes)) else json.dumps(body))

    if response.status_code == 201:  # the damage happened to leave a valid response
        assert row_counts()[3] == before[3] + 1
        return
    assert 400 <= response.status_code < 500, response.content[:500]
    assert response.json()["resourceType"] == "OperationOutcome"
    assert row_counts() == before
