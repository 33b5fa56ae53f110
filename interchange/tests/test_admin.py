"""The import and export audit rows in the Django admin: read-only, and scoped to the staff member's clinics."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import Role
from interchange.models import ExportRun, ImportRun
from tests.factories import ClinicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(clinic):
    south = ClinicFactory(code="south", name="South Clinic")
    north_import = ImportRun.objects.create(by_username="dana", how="upload", succeeded=True, rows_read=3)
    north_import.clinics.set([clinic])
    south_import = ImportRun.objects.create(by_username="sam", how="command", succeeded=False, error_count=2)
    south_import.clinics.set([south])
    north_export = ExportRun.objects.create(by_username="dana", how="download", patient_count=4)
    north_export.clinics.set([clinic])
    south_export = ExportRun.objects.create(by_username="sam", how="command", patient_count=9)
    south_export.clinics.set([south])
    return {ImportRun: (north_import, south_import), ExportRun: (north_export, south_export)}


def changelist(model) -> str:
    return reverse(f"admin:interchange_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", [ImportRun, ExportRun], ids=lambda m: m.__name__)
def test_a_clinic_admin_sees_the_runs_of_their_clinics_only(client, clinic, runs, model):
    staff = UserFactory(username="north-admin", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[clinic])
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="interchange"))
    client.force_login(staff)

    response = client.get(changelist(model))

    assert response.status_code == 200
    assert [run.pk for run in response.context["cl"].result_list] == [runs[model][0].pk]
    assert client.get(reverse(f"admin:interchange_{model._meta.model_name}_add")).status_code == 403


@pytest.mark.parametrize("model", [ImportRun, ExportRun], ids=lambda m: m.__name__)
def test_a_superuser_sees_every_run_and_cannot_change_one(client, runs, model):
    root = UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True)
    client.force_login(root)
    north, south = runs[model]

    response = client.get(changelist(model))
    deleted = client.post(
        reverse(f"admin:interchange_{model._meta.model_name}_delete", args=[north.pk]), {"post": "yes"}
    )

    assert {run.pk for run in response.context["cl"].result_list} == {north.pk, south.pk}
    assert "north" in response.content.decode()
    assert deleted.status_code == 403
    assert model.objects.filter(pk=north.pk).exists()
