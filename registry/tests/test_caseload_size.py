"""Caseload size against the AIMS range for the clinic's population and the care manager's FTE
(docs/clinical-definitions.md#caseload-size)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from patients.models import Episode, Patient
from registry.caseload_size import caseload_size_of, scaled_range, status_of
from registry.figures_cache import figures_changed
from registry.models import CaseloadPopulation, RegistrySettings
from tests.factories import ClinicFactory, EpisodeFactory, PatientFactory, UserFactory

REPORT = reverse("registry:caseload_size")


@pytest.mark.parametrize(
    "population, fte, expected",
    [
        (CaseloadPopulation.MEDICAID_BH, Decimal("1.00"), (60, 80)),
        (CaseloadPopulation.MEDICAID_BH, None, (60, 80)),
        (CaseloadPopulation.MEDICAID_BH, Decimal("0.50"), (30, 40)),
        (CaseloadPopulation.MEDICAID_BH, Decimal("0.80"), (48, 64)),
        (CaseloadPopulation.COMMERCIAL_BH, Decimal("1.00"), (90, 120)),
        (CaseloadPopulation.COMMERCIAL_BH, Decimal("0.50"), (45, 60)),
        (CaseloadPopulation.COMMERCIAL_BH_MEDICAL, Decimal("0.50"), (40, 50)),
        (CaseloadPopulation.MEDICAID_BH_MEDICAL, Decimal("0.50"), (25, 38)),  # 37.5 rounds half up
    ],
)
def test_range_is_the_aims_range_scaled_by_fte(population, fte, expected):
    assert scaled_range(population, fte) == expected


@pytest.mark.parametrize("count, status", [(29, "below"), (30, "within"), (40, "within"), (41, "above")])
def test_status_at_the_edges_of_the_range(count, status):
    assert status_of(count, 30, 40) == status


def add_patients(clinic, cm, count: int, status=Episode.Status.ACTIVE) -> None:
    patients = Patient.objects.bulk_create(PatientFactory.build_batch(count, clinic=clinic, care_manager=cm))
    Episode.objects.bulk_create(EpisodeFactory.build(patient=p, status=status) for p in patients)


@pytest.fixture
def half_time(clinic):
    return UserFactory(username="tom", last_name="Brown", fte=Decimal("0.50"), clinics=[clinic])


def test_open_episodes_count_and_discharged_do_not(clinic, half_time):
    add_patients(clinic, half_time, 3, Episode.Status.ENROLLED)
    add_patients(clinic, half_time, 2, Episode.Status.RELAPSE_PREVENTION)
    add_patients(clinic, half_time, 30, Episode.Status.ACTIVE)
    discharged = PatientFactory(clinic=clinic, care_manager=half_time)
    EpisodeFactory(
        patient=discharged,
        enrolled_on="2025-01-01",
        status="discharged",
        discharged_on="2026-01-01",
        discharge_reason="moved",
    )

    size = caseload_size_of(half_time)

    assert (size.count, size.low, size.high, size.status) == (35, 30, 40, "within")


def test_the_clinics_population_setting_chooses_the_range(clinic, half_time):
    RegistrySettings.objects.create(clinic=clinic, caseload_population=CaseloadPopulation.COMMERCIAL_BH)
    add_patients(clinic, half_time, 44)

    size = caseload_size_of(half_time)

    assert (size.count, size.low, size.high, size.status) == (44, 45, 60, "below")


def test_other_roles_have_no_caseload_size(clinic):
    assert caseload_size_of(UserFactory(role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])) is None


def test_care_managers_dashboard_shows_their_caseload_size(client, clinic):
    james = UserFactory(username="james", fte=Decimal("0.80"), clinics=[clinic])
    add_patients(clinic, james, 72)
    client.force_login(james)

    response = client.get(reverse("registry:dashboard"))

    page = " ".join(response.content.decode().split())
    assert "72 patients; range for 0.8 FTE: 48\N{EN DASH}64;" in page
    assert 'data-caseload-size="above"' in page


@pytest.fixture
def admin(clinic):
    return UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])


def test_admin_report_lists_every_care_manager_of_their_clinics(client, clinic, admin, half_time):
    full = UserFactory(username="maria", last_name="Adams", fte=Decimal("1.00"), clinics=[clinic])
    add_patients(clinic, full, 85)
    add_patients(clinic, half_time, 20)
    south = ClinicFactory(code="south")
    add_patients(south, UserFactory(username="sam", last_name="South", clinics=[south]), 5)
    client.force_login(admin)

    response = client.get(REPORT)

    shown = [(s.care_manager.username, s.count, s.low, s.high, s.status) for s in response.context["sizes"]]
    assert shown == [("maria", 85, 60, 80, "above"), ("tom", 20, 30, 40, "below")]
    assert "South" not in response.content.decode()
    assert "above range" in response.content.decode()


def test_care_managers_may_not_open_the_admin_report(cm_client):
    assert cm_client.get(REPORT).status_code == 403


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_report_and_dashboard_box_queries_do_not_grow(client, clinic, admin, half_time):
    add_patients(clinic, half_time, 2)
    client.force_login(admin)
    client.get(REPORT)
    few = count_queries(client, REPORT)
    client.force_login(half_time)
    client.get(reverse("registry:dashboard"))
    figures_changed()  # both counts with the box counted anew: the most a request costs
    few_box = count_queries(client, reverse("registry:dashboard"))
    for n in range(5):
        add_patients(clinic, UserFactory(username=f"cm{n}", clinics=[clinic]), 10)
    add_patients(clinic, half_time, 30)

    many_box = count_queries(client, reverse("registry:dashboard"))
    client.force_login(admin)
    client.get(REPORT)
    many = count_queries(client, REPORT)

    assert few == many
    assert few_box == many_box
    assert len(client.get(REPORT).context["sizes"]) == 6
