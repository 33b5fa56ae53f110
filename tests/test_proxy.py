"""Behind the reverse proxy: the scheme and the client's address come from the proxy, and only
from it. A client that writes X-Forwarded-For or X-Forwarded-Proto itself changes nothing."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from accounts.tests.helpers import password_step
from audit.models import AccessEvent
from tests.factories import EpisodeFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.1"  # one of TRUSTED_PROXIES by default: nginx on the same host
CLIENT = "203.0.113.7"  # a browser somewhere


@pytest.fixture
def behind_proxy(settings):
    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True


@pytest.fixture
def maria(clinic):
    return UserFactory(username="maria", clinics=[clinic])


def test_https_as_told_by_the_proxy_is_served(client, behind_proxy):
    response = client.get(reverse("login"), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200


def test_https_claimed_by_a_client_itself_is_not_believed(client, behind_proxy):
    response = client.get(reverse("login"), REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_a_client_writing_its_own_forwarded_for_is_still_locked_out_by_its_real_address(client, behind_proxy, maria):
    # Straight to the app (not through the proxy): each try claims another address.
    for n in range(5):
        password_step(client, "maria", "wrong", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}", secure=True)

    locked = password_step(client, "maria", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="198.51.100.99", secure=True)

    assert locked.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT}


def test_through_the_proxy_entries_the_client_wrote_before_the_proxys_are_ignored(client, behind_proxy, maria):
    # A proxy that appends: "what the client sent, the address the proxy saw".
    for n in range(5):
        password_step(
            client,
            "maria",
            "wrong",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, {CLIENT}",
        )

    locked = password_step(
        client, "maria", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=f"10.0.0.9, {CLIENT}"
    )

    assert locked.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT}


def test_the_access_log_and_the_lockout_take_the_same_address(cm_client, behind_proxy, care_manager):
    patient = PatientFactory(clinic=care_manager.clinics.first(), care_manager=care_manager)
    EpisodeFactory(patient=patient)
    page = reverse("patients:detail", args=[patient.pk])

    cm_client.get(page, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=CLIENT)
    cm_client.get(page, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="198.51.100.1", secure=True)  # forged

    assert list(AccessEvent.objects.order_by("pk").values_list("remote_addr", flat=True)) == [CLIENT, CLIENT]


def test_without_behind_proxy_forwarded_headers_are_ignored_even_from_loopback(client, settings, maria):
    settings.BEHIND_PROXY = False
    for n in range(5):
        password_step(client, "maria", "wrong", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}


def test_a_form_posted_over_https_through_the_proxy_passes_the_csrf_origin_check(behind_proxy, settings, maria):
    settings.ALLOWED_HOSTS = ["carereg.example.org"]
    browser = Client(enforce_csrf_checks=True, HTTP_HOST="carereg.example.org")
    through_proxy = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_PROTO": "https"}
    browser.get(reverse("login"), **through_proxy)
    form = {"username": "maria", "password": "wrong", "csrfmiddlewaretoken": browser.cookies["csrftoken"].value}

    same_origin = browser.post(reverse("login"), form, HTTP_ORIGIN="https://carereg.example.org", **through_proxy)
    elsewhere = browser.post(reverse("login"), form, HTTP_ORIGIN="https://elsewhere.example", **through_proxy)

    assert same_origin.status_code == 200  # the form again: a wrong password, not a CSRF refusal
    assert elsewhere.status_code == 403
