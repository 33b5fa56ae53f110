"""No page with patient data is kept in a browser's or proxy's cache: every answer of the app
says `Cache-Control: no-store`; the static files (CSS, scripts) stay cacheable.

The URL list is generated from the URLconf (the admin's pages included), so a page added
later is checked without anyone remembering to.
"""

import pytest
from django.test import Client
from django.urls import reverse

from selfreport import services as self_report_services
from tests.factories import EpisodeFactory, PatientFactory, UserFactory
from tests.url_patterns import named_patterns, sample_url

pytestmark = pytest.mark.django_db

PATTERNS = sorted(named_patterns(), key=lambda item: item[0])


def no_store(response) -> bool:
    return "no-store" in [part.strip() for part in response.get("Cache-Control", "").split(",")]


@pytest.fixture
def signed_in(client, clinic):
    client.force_login(UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def patient(clinic):
    return EpisodeFactory(patient=PatientFactory(clinic=clinic)).patient


def test_the_url_list_is_generated_with_the_admins_pages():
    names = {name for name, _ in PATTERNS}
    assert {"patients:detail", "interchange:export_csv", "admin:accounts_user_change", "admin:index"} <= names
    assert len(names) > 150


def test_every_page_a_signed_in_user_asks_for_says_no_store(signed_in, patient):
    answers = {name: signed_in.get(sample_url(name, pattern, number=patient.pk)) for name, pattern in PATTERNS}

    cached = {name: (r.status_code, r.get("Cache-Control")) for name, r in answers.items() if not no_store(r)}
    assert cached == {}
    assert {answer.status_code for answer in answers.values()} >= {200, 302, 404}  # pages, redirects, refusals


def test_a_download_keeps_its_own_no_store(signed_in):
    response = signed_in.get(reverse("interchange:export_csv"))

    assert response["Cache-Control"] == "no-store"


def test_the_pages_seen_without_an_account_say_no_store_too(client, care_manager, patient):
    _, token = self_report_services.send_invitation(
        episode=patient.episodes.get(), instruments=["PHQ9"], language="en", email="p@example.org", by=care_manager
    )

    for url in (reverse("login"), reverse("selfreport:start", args=[token]), reverse("fhirapi:metadata")):
        assert no_store(client.get(url)), url


def test_static_files_stay_cacheable(settings):
    settings.WHITENOISE_USE_FINDERS = True  # serve from the source folders, as `make run` does

    response = Client().get("/static/css/carereg.css")

    assert response.status_code == 200
    assert not no_store(response)
    assert "max-age=" in response["Cache-Control"]
