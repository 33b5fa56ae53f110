"""SMART Backend Services: a client written here, with its own key pair, registers its public
keys, signs an assertion, gets a short-lived access token at the token endpoint and reads with
it; every assertion that must be refused is, with the OAuth error the specifications name."""

import datetime
import json
import time
import uuid
from dataclasses import dataclass
from io import StringIO
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from fhirapi.clients import issue_api_client, revoke_api_client
from fhirapi.jwks import validate_public_jwks
from fhirapi.models import AccessToken, ApiCallLog, ApiClient, UsedAssertion
from fhirapi.scopes import ScopeError, parse_scopes, registered_grant
from fhirapi.smart import forget_expired
from fhirapi.tests.conftest import Api, enroll, validated
from fhirapi.tests.test_create import CREATE, questionnaire_response
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "http://testserver/fhir/auth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key():
    return ec.generate_private_key(ec.SECP384R1())


def public_jwk(private_key, kid: str) -> dict:
    algorithm = (
        jwt.algorithms.RSAAlgorithm if isinstance(private_key, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
    )
    return {**algorithm.to_jwk(private_key.public_key(), as_dict=True), "kid": kid}


@dataclass
class BackendClient:
    """A backend service as the specification describes it: it holds its private key and signs."""

    client_id: str
    private_key: object
    kid: str
    algorithm: str

    def assertion(self, *, headers: dict | None = None, key=None, algorithm: str | None = None, **claims) -> str:
        now = int(time.time())
        body = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": TOKEN_URL,
            "exp": now + 240,
            "jti": uuid.uuid4().hex,
        }
        body.update(claims)
        body = {name: value for name, value in body.items() if value is not None}
        return jwt.encode(
            body,
            key or self.private_key,
            algorithm=algorithm or self.algorithm,
            headers={"kid": self.kid, "typ": "JWT", **(headers or {})},
        )

    def request_token(self, http, scope: str, assertion: str | None = None, **form):
        data = {
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion or self.assertion(),
            **form,
        }
        return post_form(http, data)

    def token(self, http, scope: str) -> str:
        response = self.request_token(http, scope)
        assert response.status_code == 200, response.content
        return response.json()["access_token"]


def post_form(http, data: dict):
    """As OAuth clients send it: application/x-www-form-urlencoded (the test client's default
    is multipart)."""
    return http.post("/fhir/auth/token", urlencode(data), content_type="application/x-www-form-urlencoded")


def register(clinic, scope: str, private_key, kid: str = "key-1", algorithm: str = "RS384") -> BackendClient:
    client = ApiClient(name=f"Data platform {kid}", clinic=clinic, scope=scope)
    client.jwks = {"keys": [public_jwk(private_key, kid)]}
    assert issue_api_client(client=client, by=None) is None  # no static token for a key client
    return BackendClient(client.client_id, private_key, kid, algorithm)


@pytest.fixture
def rs384_reader(clinic):
    return register(clinic, "read", rsa_key())


@pytest.fixture
def es384_writer(clinic):
    return register(clinic, "write", ec_key(), kid="ec-1", algorithm="ES384")


def test_discovery_at_the_fhir_base_names_the_token_endpoint_and_what_it_accepts(client):
    response = client.get("/fhir/.well-known/smart-configuration")

    config = response.json()
    assert response.status_code == 200
    assert config["token_endpoint"] == TOKEN_URL
    assert config["grant_types_supported"] == ["client_credentials"]
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(config["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert {"client-confidential-asymmetric", "permission-v2"} <= set(config["capabilities"])
    statement = validated(client.get("/fhir/metadata").json())
    oauth = statement["rest"][0]["security"]["extension"][0]
    assert oauth["extension"] == [{"url": "token", "valueUri": TOKEN_URL}]


def test_an_rs384_client_gets_a_short_lived_token_and_reads_what_its_scopes_allow(client, rs384_reader, patient):
    response = rs384_reader.request_token(client, "system/Patient.rs system/Observation.rs")

    issued = response.json()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert (issued["token_type"], issued["expires_in"], issued["scope"]) == (
        "bearer",
        300,
        "system/Patient.rs system/Observation.rs",
    )
    api = Api(client, issued["access_token"])
    assert api.get(f"/fhir/Patient/{patient.pk}").status_code == 200
    assert api.get("/fhir/Observation", {"patient": patient.pk}).status_code == 200
    not_granted = api.get("/fhir/QuestionnaireResponse", {"patient": patient.pk})
    assert not_granted.status_code == 403
    assert 'error="insufficient_scope"' in not_granted["WWW-Authenticate"]
    assert issued["access_token"] not in str(list(AccessToken.objects.values()))


def test_an_es384_client_with_a_create_scope_records_a_score_but_cannot_read_patients(client, es384_writer, patient):
    api = Api(client, es384_writer.token(client, "system/QuestionnaireResponse.c"))

    created = api.post(CREATE, questionnaire_response(patient.pk, [1] * 9))

    assert created.status_code == 201
    assert api.get(f"/fhir/Patient/{patient.pk}").status_code == 403


@pytest.mark.parametrize("scope", ["system/*.read", "system/*.rs", "system/Observation.read system/Patient.read"])
def test_v1_and_v2_read_scopes_both_read(client, rs384_reader, patient, scope):
    api = Api(client, rs384_reader.token(client, scope))

    assert api.get("/fhir/Observation", {"patient": patient.pk}).status_code == 200


def test_a_token_sees_its_clients_clinic_only(client, rs384_reader, other_clinic):
    south_cm = UserFactory(username="south-cm", clinics=[other_clinic])
    theirs = enroll(other_clinic, south_cm, "S-0001")
    api = Api(client, rs384_reader.token(client, "system/*.rs"))

    assert api.get(f"/fhir/Patient/{theirs.pk}").status_code == 404


def test_an_expired_access_token_is_refused(client, rs384_reader, patient):
    token = rs384_reader.token(client, "system/*.rs")
    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = Api(client, token).get(f"/fhir/Patient/{patient.pk}")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_revoking_the_client_stops_its_access_tokens_and_its_token_requests(client, rs384_reader, patient):
    token = rs384_reader.token(client, "system/*.rs")

    revoke_api_client(client=ApiClient.objects.get(client_id=rs384_reader.client_id), by=None)

    assert Api(client, token).get(f"/fhir/Patient/{patient.pk}").status_code == 401
    assert rs384_reader.request_token(client, "system/*.rs").json()["error"] == "invalid_client"


def refuse(response, error: str, status: int) -> str:
    assert (response.status_code, response.json()["error"]) == (status, error), response.content
    assert response["Cache-Control"] == "no-store"
    assert not AccessToken.objects.exists()
    assert ApiCallLog.objects.filter(path="/fhir/auth/token", status_code=status).exists()
    return response.json()["error_description"]


def test_an_expired_assertion_is_refused(client, rs384_reader):
    assertion = rs384_reader.assertion(exp=int(time.time()) - 120)

    description = refuse(rs384_reader.request_token(client, "system/*.rs", assertion), "invalid_client", 401)

    assert "expired" in description


def test_a_replayed_assertion_is_refused(client, rs384_reader):
    assertion = rs384_reader.assertion()
    assert rs384_reader.request_token(client, "system/*.rs", assertion).status_code == 200
    AccessToken.objects.all().delete()

    description = refuse(rs384_reader.request_token(client, "system/*.rs", assertion), "invalid_client", 401)

    assert "used already" in description


def test_an_assertion_signed_with_another_key_is_refused(client, rs384_reader):
    assertion = rs384_reader.assertion(key=rsa_key())  # same kid, not the registered key

    description = refuse(rs384_reader.request_token(client, "system/*.rs", assertion), "invalid_client", 401)

    assert "signature" in description


def test_an_assertion_for_another_audience_is_refused(client, rs384_reader):
    assertion = rs384_reader.assertion(aud="https://other.example/token")

    description = refuse(rs384_reader.request_token(client, "system/*.rs", assertion), "invalid_client", 401)

    assert TOKEN_URL in description


def test_scopes_beyond_the_clients_registration_are_refused(client, rs384_reader):
    response = rs384_reader.request_token(client, "system/Observation.rs system/QuestionnaireResponse.c")

    description = refuse(response, "invalid_scope", 400)

    assert "system/QuestionnaireResponse.c" in description and "system/Observation.rs" not in description


@pytest.mark.parametrize(
    ("claims", "headers", "algorithm"),
    [
        ({"exp": int(time.time()) + 3600}, {}, None),  # valid for an hour: more than five minutes
        ({"jti": None}, {}, None),
        ({"sub": "someone-else"}, {}, None),
        ({"iss": "not-a-client", "sub": "not-a-client"}, {}, None),
        ({}, {"kid": "unknown-kid"}, None),
        ({}, {"typ": "at+jwt"}, None),
    ],
)
def test_other_faulty_assertions_are_invalid_client(client, rs384_reader, claims, headers, algorithm):
    assertion = rs384_reader.assertion(headers=headers, **claims)

    refuse(rs384_reader.request_token(client, "system/*.rs", assertion), "invalid_client", 401)


def test_an_assertion_with_a_shared_secret_algorithm_is_refused(client, rs384_reader):
    assertion = rs384_reader.assertion(key="a-shared-secret-" + "x" * 48, algorithm="HS384")

    refuse(rs384_reader.request_token(client, "system/*.rs", assertion), "invalid_client", 401)


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}, "invalid_request"),
        ({"client_assertion": ""}, "invalid_request"),
        ({"scope": "user/Patient.rs"}, "invalid_scope"),
        ({"scope": "system/Patient.c"}, "invalid_scope"),
        ({"scope": "system/Observation.rs?code=44261-6"}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
    ],
)
def test_malformed_token_requests_get_the_oauth_error_for_what_is_wrong(client, rs384_reader, form, error):
    response = post_form(
        client,
        {
            "grant_type": "client_credentials",
            "scope": "system/*.rs",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": rs384_reader.assertion(),
            **form,
        },
    )

    refuse(response, error, 400)


def test_the_token_endpoint_takes_a_form_post_only(client):
    assert client.get("/fhir/auth/token").status_code == 405
    as_json = client.post("/fhir/auth/token", {"grant_type": "client_credentials"}, content_type="application/json")
    assert as_json.json()["error"] == "invalid_request"


def test_a_static_token_client_cannot_use_the_token_endpoint(client, clinic, rs384_reader):
    static = ApiClient(name="EHR", clinic=clinic, scope="read")
    issue_api_client(client=static, by=None)
    impostor = BackendClient("x", rs384_reader.private_key, "key-1", "RS384")
    assertion = impostor.assertion(iss=str(static.pk), sub=str(static.pk))

    refuse(impostor.request_token(client, "system/*.rs", assertion), "invalid_client", 401)


def test_expired_tokens_and_used_assertions_are_forgotten_and_a_second_run_changes_nothing(client, rs384_reader):
    rs384_reader.token(client, "system/*.rs")
    rs384_reader.token(client, "system/*.rs")
    AccessToken.objects.filter(pk=AccessToken.objects.first().pk).update(expires_at=timezone.now())
    UsedAssertion.objects.filter(pk=UsedAssertion.objects.first().pk).update(expires_at=timezone.now())

    assert forget_expired() == (1, 1)
    assert forget_expired() == (0, 0)
    assert AccessToken.objects.count() == UsedAssertion.objects.count() == 1


# --- Scopes and key sets, pure ------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "permissions"),
    [
        ("system/Observation.rs", {("Observation", "r"), ("Observation", "s")}),
        ("system/Observation.read", {("Observation", "r"), ("Observation", "s")}),
        ("system/QuestionnaireResponse.write", {("QuestionnaireResponse", "c")}),  # v1 write: create, all we do
        ("system/*.s", {("Patient", "s"), ("Observation", "s"), ("QuestionnaireResponse", "s")}),
        ("system/*.*", registered_grant("write").permissions),
    ],
)
def test_scopes_expand_to_what_the_server_does(scopes, permissions):
    assert parse_scopes(scopes).permissions == permissions


@pytest.mark.parametrize(
    "scopes",
    ["patient/Observation.rs", "system/Observation.sr", "system/Medication.rs", "system/Patient.cud", "launch"],
)
def test_scopes_a_backend_service_cannot_have_are_refused(scopes):
    with pytest.raises(ScopeError):
        parse_scopes(scopes)


def test_a_read_client_may_not_be_granted_a_create():
    assert parse_scopes("system/*.rs") <= registered_grant("read")
    assert not parse_scopes("system/QuestionnaireResponse.c") <= registered_grant("read")


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (lambda: {**public_jwk(rsa_key(), "k"), "d": "secret"}, "private key part"),
        (lambda: {**public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024), "k")}, "2048 bits"),
        (lambda: public_jwk(ec.generate_private_key(ec.SECP256R1()), "k"), "P-384"),
        (lambda: {key: v for key, v in public_jwk(rsa_key(), "k").items() if key != "kid"}, "needs a kid"),
        (lambda: {**public_jwk(rsa_key(), "k"), "alg": "RS256"}, "alg must be RS384"),
        (lambda: {"kty": "oct", "kid": "k"}, "kty must be"),
    ],
)
def test_a_key_set_that_cannot_be_trusted_is_refused_with_the_reason(key, problem):
    with pytest.raises(ValidationError) as refused:
        validate_public_jwks({"keys": [key()]})

    assert problem in " ".join(refused.value.messages)


# --- Registration: the admin and the command ----------------------------------------------


@pytest.fixture
def clinic_admin(clinic):
    user = UserFactory(username="north-admin", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[clinic])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="fhirapi"))
    return user


def test_the_admin_registers_a_key_set_and_shows_the_client_id_not_a_token(client, clinic, clinic_admin, patient):
    key = ec_key()
    client.force_login(clinic_admin)

    response = client.post(
        reverse("admin:fhirapi_apiclient_add"),
        {
            "name": "Data platform",
            "clinic": clinic.pk,
            "scope": "read",
            "jwks": json.dumps({"keys": [public_jwk(key, "k1")]}),
        },
    )

    registered = ApiClient.objects.get()
    assert response.status_code == 200
    assert response.context["token"] is None
    assert registered.client_id in response.content.decode() and registered.token_hash is None
    client.logout()
    backend = BackendClient(registered.client_id, key, "k1", "ES384")
    assert Api(client, backend.token(client, "system/*.rs")).get(f"/fhir/Patient/{patient.pk}").status_code == 200


def test_the_admin_refuses_a_private_key_and_keeps_what_was_typed(client, clinic, clinic_admin):
    client.force_login(clinic_admin)
    leaked = {"keys": [{**public_jwk(rsa_key(), "k1"), "d": "private"}]}

    response = client.post(
        reverse("admin:fhirapi_apiclient_add"),
        {"name": "Data platform", "clinic": clinic.pk, "scope": "read", "jwks": json.dumps(leaked)},
    )

    assert response.status_code == 200 and not ApiClient.objects.exists()
    assert "private key part" in response.content.decode()
    assert response.context["adminform"].form["name"].value() == "Data platform"


def test_the_command_registers_a_key_set_and_prints_the_client_id(clinic, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk(rsa_key(), "k1")]}))
    out, err = StringIO(), StringIO()

    call_command(
        "issue_api_token",
        "Data platform",
        "--clinic",
        "north",
        "--scope",
        "read",
        "--jwks",
        str(path),
        stdout=out,
        stderr=err,
    )

    registered = ApiClient.objects.get()
    assert out.getvalue().strip() == registered.client_id
    assert registered.token_hash is None and registered.jwks["keys"][0]["kid"] == "k1"
