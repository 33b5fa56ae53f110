"""Who may call the API: tokens issued by an admin or a command, scoped to a clinic and to
read or write; every call recorded without the query string's values."""

import hashlib
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Role
from fhirapi.clients import revoke_api_client
from fhirapi.models import ApiCallLog, ApiClient
from fhirapi.tests.conftest import Api, issue, validated
from registry.models import Measurement
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_unauthorized(response, error: bool):
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="CareReg FHIR"')
    assert ('error="invalid_token"' in response["WWW-Authenticate"]) is error
    assert validated(response.json())["issue"][0]["code"] == "login"


def test_no_token_is_401_not_a_login_redirect(client, patient):
    assert_unauthorized(client.get(f"/fhir/Patient/{patient.pk}"), error=False)


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_a_wrong_token_is_401(client, patient, header):
    response = client.get(f"/fhir/Patient/{patient.pk}", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert validated(response.json())["resourceType"] == "OperationOutcome"


def test_a_revoked_token_stops_working_at_once(client, clinic, patient):
    api_client, token = issue(clinic)
    api = Api(client, token)
    assert api.get(f"/fhir/Patient/{patient.pk}").status_code == 200

    revoke_api_client(client=api_client, by=None)

    assert_unauthorized(api.get(f"/fhir/Patient/{patient.pk}"), error=True)


def test_a_read_token_cannot_create(reader, patient):
    response = reader.post("/fhir/QuestionnaireResponse", {"resourceType": "QuestionnaireResponse"})

    assert response.status_code == 403
    assert validated(response.json())["issue"][0]["code"] == "forbidden"
    assert not Measurement.objects.exists()


def test_a_logged_in_session_is_not_a_token(cm_client, patient):
    response = cm_client.get(f"/fhir/Patient/{patient.pk}")

    assert response.status_code == 401


def test_the_token_is_stored_only_as_its_hash(clinic):
    api_client, token = issue(clinic)

    api_client.refresh_from_db()
    assert api_client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43  # 32 random bytes
    assert token not in str(list(ApiClient.objects.values()))


def test_each_client_has_its_own_service_account_that_cannot_log_in(clinic):
    first, _ = issue(clinic, "write", name="Epic")
    second, _ = issue(clinic, "write", name="Epic")

    assert first.service_user != second.service_user
    for user in (first.service_user, second.service_user):
        assert not user.has_usable_password()
        assert user.is_active and not user.is_staff
        assert user.role == Role.CLINIC_ADMIN
        assert list(user.clinics.all()) == [clinic]


def test_every_call_is_logged_without_query_string_values(reader, patient, clinic):
    reader.get("/fhir/Patient", {"identifier": "N-0001"})
    reader.get(f"/fhir/Patient/{patient.pk}")
    Api(reader.http, "").get("/fhir/Patient", {"identifier": "N-0001"})

    search, read, anonymous = ApiCallLog.objects.order_by("pk")
    assert (search.method, search.path, search.parameters, search.status_code) == (
        "GET",
        "/fhir/Patient",
        "identifier",
        200,
    )
    assert (read.resource_type, read.resource_id, read.status_code) == ("Patient", str(patient.pk), 200)
    assert search.client.clinic == clinic and search.remote_addr == "127.0.0.1"
    assert anonymous.client is None and anonymous.status_code == 401
    logged = str(list(ApiCallLog.objects.values()))
    assert "N-0001" not in logged and "Zanetti" not in logged
    assert ApiClient.objects.get(pk=search.client_id).last_used_at is not None


def test_command_prints_a_token_that_works(client, clinic, patient):
    out, err = StringIO(), StringIO()

    call_command("issue_api_token", "Epic interface", "--clinic", "north", "--scope", "write", stdout=out, stderr=err)

    token = out.getvalue().strip()
    api_client = ApiClient.objects.get()
    assert (api_client.name, api_client.clinic, api_client.scope) == ("Epic interface", clinic, "write")
    assert "shown only now" in err.getvalue()
    assert Api(client, token).get(f"/fhir/Patient/{patient.pk}").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clinic", "nowhere", "--scope", "read"], "No clinic 'nowhere'"),
        (["--clinic", "north", "--scope", "admin"], "Unknown scope 'admin'"),
    ],
)
def test_command_refuses_an_unknown_clinic_or_scope(clinic, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("issue_api_token", "Epic", *args, stdout=StringIO(), stderr=StringIO())
    assert not ApiClient.objects.exists()


@pytest.fixture
def clinic_admin(clinic):
    user = UserFactory(username="north-admin", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[clinic])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="fhirapi"))
    return user


def test_admin_issues_a_client_and_shows_its_token_once(client, clinic, clinic_admin, patient):
    client.force_login(clinic_admin)

    response = client.post(
        reverse("admin:fhirapi_apiclient_add"), {"name": "Patient app", "clinic": clinic.pk, "scope": "write"}
    )

    assert response.status_code == 200
    token = response.context["token"]
    api_client = ApiClient.objects.get()
    assert api_client.created_by == clinic_admin
    assert response["Cache-Control"].startswith("max-age=0")
    assert token in response.content.decode()
    assert token not in client.get(reverse("admin:fhirapi_apiclient_change", args=[api_client.pk])).content.decode()
    client.logout()
    assert Api(client, token).get(f"/fhir/Patient/{patient.pk}").status_code == 200


def test_admin_revokes_and_lists_only_its_clinics_clients(client, clinic, other_clinic, clinic_admin):
    ours, _ = issue(clinic)
    theirs, _ = issue(other_clinic)
    client.force_login(clinic_admin)
    changelist = reverse("admin:fhirapi_apiclient_changelist")

    listed = client.get(changelist)
    client.post(changelist, {"action": "revoke", "_selected_action": [ours.pk, theirs.pk]})

    assert [c.pk for c in listed.context["cl"].result_list] == [ours.pk]
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.is_revoked and not theirs.is_revoked
    assert client.get(reverse("admin:fhirapi_apiclient_change", args=[theirs.pk])).status_code in (302, 404)
    assert list(
        list(client.get(reverse("admin:fhirapi_apiclient_add")).context["adminform"].form.fields["clinic"].queryset)
    ) == [clinic]
