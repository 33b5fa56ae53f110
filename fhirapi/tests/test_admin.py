"""The API clients page: a revoked token stays revoked, whoever opens the client's history."""

import pytest
from django.urls import reverse

from fhirapi.clients import issue_api_client, revoke_api_client
from fhirapi.models import ApiClient
from tests.admin_forms import posted_values
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_not_even_a_superuser_brings_back_a_revoked_token_from_the_history(client, clinic):
    root = UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True)
    api_client = ApiClient(name="Old interface", clinic=clinic, scope=ApiClient.Scope.WRITE)
    issue_api_client(client=api_client, by=root)
    revoke_api_client(client=api_client, by=root)
    before_revoking = api_client.history.earliest("history_date")
    url = reverse("admin:fhirapi_apiclient_simple_history", args=[api_client.pk, before_revoking.history_id])
    client.force_login(root)
    shown = client.get(url)

    posted = client.post(url, posted_values(shown.context["adminform"].form))

    assert shown.context["revert_disabled"]
    assert posted.status_code == 403
    api_client.refresh_from_db()
    assert api_client.is_revoked
