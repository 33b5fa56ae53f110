"""Break the glass: a reason, a few hours on one patient's page, logged, and the clinic admins told."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, EmergencyAccess, Outcome
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db
EMERGENCY = reverse("audit:emergency")
REASON = "Patient arrived at our ED with suicidal ideation; need the safety plan."


def break_the_glass(client, patient, reason=REASON):
    data = {"clinic_code": patient.clinic.code, "mrn": patient.mrn, "reason": reason}
    with_callbacks = client.post(EMERGENCY, data)
    return with_callbacks


def page_text(response) -> str:
    """The page without its CSRF tokens, which differ on every answer."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


@pytest.fixture
def south_client(client, outsider):
    client.force_login(outsider)
    return client


def test_without_a_grant_another_clinics_patient_is_not_found_and_emergency_access_is_offered(
    south_client, patient, episode
):
    response = south_client.get(reverse("patients:detail", args=[patient.pk]))

    assert response.status_code == 404
    assert EMERGENCY in response.content.decode()
    assert patient.last_name not in response.content.decode()


def test_with_a_grant_the_patient_page_opens_is_logged_and_the_admins_are_told(
    south_client, outsider, patient, episode, clinic_admin, other_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        granted = break_the_glass(south_client, patient)
    page = south_client.get(reverse("patients:detail", args=[patient.pk]))

    assert granted.status_code == 302 and granted["Location"] == reverse("patients:detail", args=[patient.pk])
    assert page.status_code == 200
    grant = EmergencyAccess.objects.get()
    assert (grant.user, grant.patient, grant.reason) == (outsider, patient, REASON)
    assert grant.expires_at - grant.granted_at == datetime.timedelta(hours=4)
    assert grant.history.count() == 1
    read = AccessEvent.objects.get(url_name="patients:detail")
    assert (read.outcome, read.patient_id, read.user) == (Outcome.EMERGENCY, patient.pk, outsider)
    (message,) = mail.outbox
    assert message.to == ["admin@north.example"]  # the patient's clinic, not the reader's
    assert f"registry id {patient.pk}" in message.body
    assert reverse("audit:emergency_list") in message.body
    for secret in (patient.mrn, patient.last_name, patient.first_name, REASON):
        assert secret not in message.body + message.subject


def test_the_grant_ends_after_its_hours(south_client, patient, episode):
    break_the_glass(south_client, patient)
    earlier = timezone.now() - datetime.timedelta(hours=5)
    EmergencyAccess.objects.update(granted_at=earlier, expires_at=earlier + datetime.timedelta(hours=4))

    assert south_client.get(reverse("patients:detail", args=[patient.pk])).status_code == 404


def test_the_grant_opens_that_patients_page_only_and_read_only(south_client, patient, episode, clinic):
    neighbour = EpisodeFactory(patient=PatientFactory(clinic=clinic)).patient
    break_the_glass(south_client, patient)

    assert south_client.get(reverse("patients:detail", args=[neighbour.pk])).status_code == 404
    assert south_client.get(reverse("patients:edit", args=[patient.pk])).status_code == 404
    assert south_client.post(reverse("registry:record_contact", args=[patient.pk])).status_code == 404


def test_lists_never_show_a_patient_opened_in_an_emergency(south_client, patient, episode):
    break_the_glass(south_client, patient)

    response = south_client.get(reverse("registry:dashboard"), {"team": "all"})

    assert patient.last_name not in response.content.decode()


def test_a_reason_is_required_and_must_say_something(south_client, patient, episode):
    response = break_the_glass(south_client, patient, reason="need it")

    assert "at least 20 characters" in str(response.context["form"].errors["reason"])
    assert not EmergencyAccess.objects.exists()


def test_the_record_just_refused_is_offered_without_typing_its_mrn(south_client, patient, episode):
    south_client.get(reverse("patients:detail", args=[patient.pk]))

    form = south_client.get(EMERGENCY).context["form"]
    response = south_client.post(EMERGENCY, {"refused": "on", "reason": REASON})

    assert f"registry id {patient.pk}" in form.fields["refused"].label
    assert response.status_code == 302
    assert EmergencyAccess.objects.get().patient == patient


def test_an_unknown_mrn_is_named(south_client, clinic):
    response = south_client.post(EMERGENCY, {"clinic_code": clinic.code, "mrn": "NOPE", "reason": REASON})

    assert response.context["form"].errors["mrn"] == ["No patient with this MRN in that clinic."]


def test_ones_own_clinics_patient_needs_no_emergency(cm_client, patient, episode):
    response = break_the_glass(cm_client, patient)

    assert "in your clinics" in str(response.context["form"].errors)
    assert not EmergencyAccess.objects.exists()


def test_the_patients_clinic_admins_see_the_grant_and_its_reason(
    client, south_client, patient, episode, clinic_admin, other_admin
):
    break_the_glass(south_client, patient)

    client.force_login(clinic_admin)
    north_list = client.get(reverse("audit:emergency_list"))
    client.force_login(other_admin)
    south_list = client.get(reverse("audit:emergency_list"))

    assert [g.patient for g in north_list.context["page"].object_list] == [patient]
    assert REASON in north_list.content.decode()
    assert list(south_list.context["page"].object_list) == []


def test_without_a_valid_reason_the_answer_is_the_same_whether_the_mrn_exists_or_not(
    south_client, patient, episode, clinic
):
    real = south_client.post(EMERGENCY, {"clinic_code": clinic.code, "mrn": patient.mrn, "reason": "need it"})
    fake = south_client.post(EMERGENCY, {"clinic_code": clinic.code, "mrn": "NOPE-999", "reason": "need it"})

    assert (real.status_code, fake.status_code) == (400, 400)
    assert real.context["form"].errors == fake.context["form"].errors  # before: "No patient..." for the fake only
    assert set(real.context["form"].errors) == {"reason"}
    assert page_text(real).replace(patient.mrn, "NOPE-999") == page_text(fake)
    assert not EmergencyAccess.objects.exists()


def test_every_attempt_is_logged_granted_or_not(south_client, outsider, patient, episode, clinic):
    south_client.post(EMERGENCY, {"clinic_code": clinic.code, "mrn": patient.mrn, "reason": "need it"})
    south_client.post(EMERGENCY, {"clinic_code": clinic.code, "mrn": "NOPE-999", "reason": REASON})
    break_the_glass(south_client, patient)

    attempts = AccessEvent.objects.filter(url_name="audit:emergency").order_by("pk")
    assert list(attempts.values_list("user", "outcome", "status_code", "patient_id", "clinic_id")) == [
        (outsider.pk, Outcome.DENIED, 400, patient.pk, clinic.pk),  # a short reason: refused, still logged
        (outsider.pk, Outcome.DENIED, 400, None, clinic.pk),  # no such MRN: the clinic's admins see the try
        (outsider.pk, Outcome.EMERGENCY, 302, patient.pk, clinic.pk),
    ]
