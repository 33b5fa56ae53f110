"""The staff accounts admin: API clients' service accounts are not people's accounts to edit."""

import pytest
from django.urls import reverse

from accounts.models import Role
from fhirapi.clients import issue_api_client
from fhirapi.models import ApiClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(clinic):
    return UserFactory(
        username="root", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, is_superuser=True, clinics=[clinic]
    )


@pytest.fixture
def service_user(clinic):
    client = ApiClient(name="Epic interface", clinic=clinic, scope=ApiClient.Scope.WRITE)
    issue_api_client(client=client, by=None)
    return client.service_user


def test_an_api_clients_service_account_is_not_listed_and_cannot_be_given_a_password(
    client, superuser, service_user, care_manager
):
    client.force_login(superuser)
    password_url = reverse("admin:auth_user_password_change", args=[service_user.pk])

    client.post(reverse("admin:accounts_user_changelist"), {"q": "api-", "_search": "Search"})
    listed = client.get(reverse("admin:accounts_user_changelist"))
    client.post(reverse("admin:accounts_user_changelist"), {"_clear_search": "Clear"})
    everyone = client.get(reverse("admin:accounts_user_changelist"))
    page = client.get(reverse("admin:accounts_user_change", args=[service_user.pk]))
    password_page = client.get(password_url)
    posted = client.post(password_url, {"password1": "a-new-pass-phrase-99", "password2": "a-new-pass-phrase-99"})

    assert service_user.username.startswith("api-north-")
    assert list(listed.context["cl"].result_list) == []
    assert {u.username for u in everyone.context["cl"].result_list} == {"root", "cm"}
    assert page.status_code == 302  # the admin's "does not exist" redirect to its index
    assert password_page.status_code == posted.status_code == 404
    service_user.refresh_from_db()
    assert not service_user.has_usable_password()


def test_the_api_client_page_names_its_service_account_without_a_link_to_a_page_that_is_left_out(
    client, superuser, service_user
):
    client.force_login(superuser)
    api_client = ApiClient.objects.get(service_user=service_user)

    page = client.get(reverse("admin:fhirapi_apiclient_change", args=[api_client.pk])).content.decode()

    assert service_user.username in page
    assert reverse("admin:accounts_user_change", args=[service_user.pk]) not in page
