"""Clinic admins' reports: who accessed a patient, what a user accessed; scoped and paged."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Kind, Outcome
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
PATIENT_REPORT = reverse("audit:patient_access")
USER_REPORT = reverse("audit:user_access")


def log(user, patient, n=1, *, kind=Kind.RECORD, outcome=Outcome.ALLOWED, at=None):
    for _ in range(n):
        AccessEvent.objects.create(
            user=user,
            username=user.username,
            method="GET",
            url_name="patients:detail",
            kind=kind,
            outcome=outcome,
            status_code=200,
            patient_id=patient.pk if patient else None,
            clinic_id=patient.clinic_id if patient else None,
            at=at or timezone.now(),
        )


def period(days_back=7) -> dict:
    today = timezone.localdate()
    return {"start": (today - datetime.timedelta(days=days_back)).isoformat(), "end": today.isoformat()}


def choose_patient(client, patient) -> object:
    return client.post(PATIENT_REPORT, {"clinic": patient.clinic_id, "mrn": patient.mrn, **period()}, follow=True)


def test_who_accessed_this_patient_lists_each_read_in_the_period(client, clinic_admin, care_manager, patient, outsider):
    log(care_manager, patient, 2)
    log(outsider, patient, outcome=Outcome.DENIED)
    log(care_manager, patient, at=timezone.now() - datetime.timedelta(days=40))  # before the period
    client.force_login(clinic_admin)

    response = choose_patient(client, patient)

    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert [(e.username, e.outcome) for e in rows] == [("south-cm", "denied"), ("cm", "allowed"), ("cm", "allowed")]
    assert patient.mrn not in response.redirect_chain[0][0]  # the MRN travelled in the POST body only


def test_an_unknown_mrn_or_another_clinics_patient_is_not_found(client, clinic_admin, other_patient, clinic):
    client.force_login(clinic_admin)

    response = client.post(PATIENT_REPORT, {"clinic": clinic.pk, "mrn": other_patient.mrn, **period()})
    other = client.post(PATIENT_REPORT, {"clinic": other_patient.clinic_id, "mrn": other_patient.mrn, **period()})

    assert response.context["form"].errors["mrn"] == ["No patient with this MRN in that clinic."]
    assert "clinic" in other.context["form"].errors  # not a clinic of theirs to choose
    assert "page" not in response.context


def test_the_period_must_be_in_order(client, clinic_admin, patient):
    client.force_login(clinic_admin)
    today = timezone.localdate()

    response = client.post(
        PATIENT_REPORT,
        {"clinic": patient.clinic_id, "mrn": patient.mrn, "start": today, "end": today - datetime.timedelta(days=1)},
    )

    assert response.context["form"].errors["end"] == ["The end of the period must not be before its start."]


def test_who_accessed_costs_the_same_queries_for_few_or_many_events(client, clinic_admin, care_manager, patient):
    client.force_login(clinic_admin)
    choose_patient(client, patient)
    log(care_manager, patient, 2)
    with CaptureQueriesContext(connection) as few:
        client.get(PATIENT_REPORT)
    log(care_manager, patient, 60)
    for n in range(5):
        log(UserFactory(username=f"reader{n}", clinics=[patient.clinic]), patient)

    with CaptureQueriesContext(connection) as many:
        response = client.get(PATIENT_REPORT, {"page": 2})

    assert len(response.context["page"].object_list) == 67 - 50
    assert len(few) == len(many)


def test_what_did_this_user_access_shows_only_the_admins_clinics(client, clinic_admin, patient, other_patient, clinic):
    both = UserFactory(username="both", clinics=[clinic, other_patient.clinic])
    log(both, patient)
    log(both, other_patient)
    log(both, None, kind=Kind.LIST)
    client.force_login(clinic_admin)

    response = client.get(USER_REPORT, {"user": both.pk, **period()})

    rows = list(response.context["page"].object_list)
    assert {(e.patient_id, e.kind) for e in rows} == {(patient.pk, "record"), (None, "list")}
    assert other_patient.last_name not in response.content.decode()
    assert patient.last_name in response.content.decode()


def test_what_did_this_user_access_offers_only_staff_of_the_admins_clinics(client, clinic_admin, outsider):
    client.force_login(clinic_admin)

    response = client.get(USER_REPORT, {"user": outsider.pk, **period()})

    assert "user" in response.context["form"].errors
    assert outsider not in response.context["form"].fields["user"].queryset


def test_what_did_this_user_access_costs_the_same_queries_for_few_or_many(client, clinic_admin, care_manager, clinic):
    client.force_login(clinic_admin)
    patients = [PatientFactory(clinic=clinic) for _ in range(6)]
    log(care_manager, patients[0])
    client.get(USER_REPORT)  # the session's first request does its one-off work
    with CaptureQueriesContext(connection) as few:
        client.get(USER_REPORT, {"user": care_manager.pk, **period()})
    for patient in patients:
        log(care_manager, patient, 10)

    with CaptureQueriesContext(connection) as many:
        response = client.get(USER_REPORT, {"user": care_manager.pk, **period()})

    assert len(response.context["page"].object_list) == 50
    assert len(few) == len(many)


@pytest.mark.parametrize("url", [PATIENT_REPORT, USER_REPORT, reverse("audit:emergency_list")])
def test_only_clinic_admins_see_the_reports(cm_client, url):
    assert cm_client.get(url).status_code == 403


def test_superuser_sees_every_clinics_events(client, patient, other_patient, care_manager, outsider):
    root = UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True)
    log(outsider, other_patient)
    client.force_login(root)

    response = client.get(USER_REPORT, {"user": outsider.pk, **period()})

    assert [e.patient_id for e in response.context["page"].object_list] == [other_patient.pk]
