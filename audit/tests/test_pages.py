"""Every named URL of the project is classified for the access log: a new page cannot be forgotten."""

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from audit.pages import PAGES, page_of
from audit.paths import patient_path


def _names(resolver: URLResolver, namespace: str = "") -> set[str]:
    found = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django admin pages are found by their model (test below)
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found |= _names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            found.add(f"{namespace}{entry.name}")
    return found


URL_NAMES = sorted(_names(get_resolver()))


def test_the_url_list_is_generated_from_the_urlconf():
    assert len(URL_NAMES) > 80
    assert {"patients:detail", "registry:dashboard", "interchange:export_csv", "fhirapi:patient"} <= set(URL_NAMES)


@pytest.mark.parametrize("name", URL_NAMES)
def test_every_page_is_classified_for_the_access_log(name):
    assert name in PAGES, f"{name}: say in audit/pages.py what it shows (or NOT_LOGGED with why)"


@pytest.mark.parametrize("name", sorted(n for n, page in PAGES.items() if page is not None and page.model))
def test_every_page_id_leads_to_a_patient(name):
    page = PAGES[name]

    assert patient_path(apps.get_model(page.model)) is not None, f"{name}: {page.model} has no path to a patient"


def test_no_stale_entries():
    assert set(PAGES) <= set(URL_NAMES)


def test_patient_paths_follow_the_models_foreign_keys():
    assert patient_path(apps.get_model("patients.Patient")) == ""
    assert patient_path(apps.get_model("registry.Contact")) == "episode__patient"
    assert patient_path(apps.get_model("care.MedicationReport")) == "contact__episode__patient"
    assert patient_path(apps.get_model("consults.Agenda")) is None


def test_a_dashboard_post_is_a_search_and_clinical_admin_pages_are_admin_views():
    assert page_of("registry:dashboard", "POST").kind == "search"
    assert page_of("registry:dashboard", "GET").kind == "list"
    assert page_of("admin:registry_contact_change", "GET").model == "registry.Contact"
    assert page_of("admin:accounts_clinic_changelist", "GET") is None
