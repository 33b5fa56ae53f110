"""The patient pages: enrollment, demographics, status and re-enrollment, through the test client."""

import datetime
import html
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django.utils import timezone

from accounts.models import Role
from patients import services as patient_services
from patients.models import Episode, Patient
from registry import services as registry_services
from registry.billing_views import MonthConverter
from registry.models import Contact, Flag, Measurement
from tests.factories import UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def enroll(clinic, by, *, mrn="MRN-5001", enrolled_on=None, **fields) -> Patient:
    fields = {
        "first_name": "Maria",
        "last_name": "Lopez",
        "birth_date": datetime.date(1975, 3, 2),
        "sex": "female",
        **fields,
    }
    fields.setdefault("care_manager", by if by.role == Role.CARE_MANAGER else None)
    return patient_services.enroll_patient(
        clinic=clinic, enrolled_on=enrolled_on or days_ago(60), by=by, mrn=mrn, **fields
    )


def enroll_post(clinic, cm, **overrides) -> dict:
    data = {
        "clinic": clinic.pk,
        "enrolled_on": days_ago(3).isoformat(),
        "mrn": "MRN-1001",
        "first_name": "Ana",
        "last_name": "Reyes",
        "birth_date": "1972-11-30",
        "sex": "female",
        "preferred_language": "Spanish",
        "phone": "555-0100",
        "email": "",
        "address_line": "",
        "city": "",
        "state": "",
        "postal_code": "",
        "care_manager": cm.pk,
        "pcp": "",
        "psychiatric_consultant": "",
    }
    data.update(overrides)
    return data


def edit_post(patient: Patient, **overrides) -> dict:
    data = {
        "mrn": patient.mrn,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "birth_date": patient.birth_date.isoformat(),
        "sex": patient.sex,
        "preferred_language": patient.preferred_language,
        "phone": patient.phone,
        "email": patient.email,
        "address_line": patient.address_line,
        "city": patient.city,
        "state": patient.state,
        "postal_code": patient.postal_code,
        "care_manager": patient.care_manager_id or "",
        "pcp": patient.pcp_id or "",
        "psychiatric_consultant": patient.psychiatric_consultant_id or "",
        "version": patient.version,
    }
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def pcp(clinic):
    return UserFactory(username="pcp", role=Role.MEDICAL_PROVIDER, clinics=[clinic])


@pytest.fixture
def patient(clinic, care_manager):
    return enroll(clinic, care_manager)


# --- Login -------------------------------------------------------------------------------


def _app_url_patterns() -> dict[str, URLPattern]:
    """Every URL of the project's own apps (not the admin's, not login's), found in the URL configuration."""
    patterns = {}
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.app_name not in (None, "admin"):
            patterns.update({f"{entry.app_name}:{p.name}": p for p in entry.url_patterns})
    return patterns


def _dummy_kwargs(pattern: URLPattern) -> dict:
    """Any ids will do: login is checked before anything is looked up."""
    return {name: _dummy_value(converter) for name, converter in pattern.pattern.converters.items()}


def _dummy_value(converter):
    if isinstance(converter, IntConverter):
        return 1
    if isinstance(converter, MonthConverter):
        return datetime.date(2026, 11, 1)
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    return "PHQ9"


# Pages that are not behind the login on purpose, each with its own key: the FHIR API takes a
# bearer token (401 without one, fhirapi/tests), and the patient's self-report pages the
# single-use token in their path (an unknown one is a 404, selfreport/tests).
WITHOUT_LOGIN = {"fhirapi": (200, 401), "selfreport-public": (404,), "sms-webhooks": (403,)}
# The SMART token endpoint answers OAuth errors (400); any other URL under /fhir/ is a 404.
FHIR_OWN_ANSWERS = {"fhirapi:token": (400,), "fhirapi:unknown": (404,)}
FHIR_PUBLIC = {"fhirapi:metadata", "fhirapi:smart_configuration"}  # no patient data, no token
PATIENT_SELF_REPORT_PAGES = {"selfreport:start", "selfreport:language", "selfreport:questions", "selfreport:done"}
# Twilio's webhooks carry its signature instead of a session: unsigned, a 403 (selfreport/tests).
SMS_WEBHOOKS = {"selfreport:sms_inbound", "selfreport:sms_status"}


def _own_key(name: str) -> tuple[int, ...] | None:
    if name.startswith("fhirapi:"):
        return WITHOUT_LOGIN["fhirapi"] + FHIR_OWN_ANSWERS.get(name, ())
    if name in PATIENT_SELF_REPORT_PAGES:
        return WITHOUT_LOGIN["selfreport-public"]
    if name in SMS_WEBHOOKS:
        return WITHOUT_LOGIN["sms-webhooks"]
    return None


def test_every_app_of_the_project_is_covered_by_the_login_check():
    namespaces = {name.split(":")[0] for name in _app_url_patterns()}

    assert {"patients", "registry", "consults"} <= namespaces


@pytest.mark.parametrize(("name", "pattern"), list(_app_url_patterns().items()))
def test_anonymous_request_for_any_page_redirects_to_login(client, care_manager, patient, name, pattern):
    url = reverse(name, kwargs=_dummy_kwargs(pattern))
    before = (Contact.objects.count(), Measurement.objects.count(), Flag.objects.count())

    for method in (client.get, client.post):
        response = method(url)

        if _own_key(name):
            assert response.status_code in (*_own_key(name), 405), f"{method.__name__.upper()} {url}"
            assert response.status_code != 200 or name in FHIR_PUBLIC
        else:
            assert response.status_code == 302, f"{method.__name__.upper()} {url}"
            assert response["Location"] == f"/login/?next={url}"
    assert (Contact.objects.count(), Measurement.objects.count(), Flag.objects.count()) == before


# --- Enrollment ------------------------------------------------------------------------


def test_enroll_page_shows_the_form(cm_client):
    response = cm_client.get(reverse("patients:enroll"))

    assert response.status_code == 200
    assert b"Enroll patient" in response.content
    assert 'name="mrn"' in response.content.decode()


def test_valid_enrollment_creates_patient_and_episode_and_opens_the_patient(cm_client, clinic, care_manager):
    response = cm_client.post(reverse("patients:enroll"), enroll_post(clinic, care_manager))

    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert (patient.clinic, patient.mrn, patient.last_name, patient.care_manager) == (
        clinic,
        "MRN-1001",
        "Reyes",
        care_manager,
    )
    episode = patient.episodes.get()
    assert episode.status == Episode.Status.ENROLLED
    assert episode.enrolled_on == days_ago(3)
    assert patient.history.get().history_user == care_manager


@pytest.mark.parametrize("field", ["mrn", "first_name", "last_name", "birth_date", "sex", "enrolled_on"])
def test_enrollment_with_a_required_field_missing_shows_the_error_and_saves_nothing(
    cm_client, clinic, care_manager, field
):
    response = cm_client.post(reverse("patients:enroll"), enroll_post(clinic, care_manager, **{field: ""}))

    assert response.status_code == 400
    assert response.context["form"].errors[field] == ["This field is required."]
    assert "This field is required." in response.content.decode()
    assert not Patient.objects.exists()
    assert not Episode.objects.exists()


def test_enrollment_with_a_birth_date_in_the_future_is_refused(cm_client, clinic, care_manager):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = cm_client.post(
        reverse("patients:enroll"), enroll_post(clinic, care_manager, birth_date=tomorrow.isoformat())
    )

    assert response.status_code == 400
    assert "The date of birth cannot be in the future." in response.content.decode()
    assert not Patient.objects.exists()
    assert not Episode.objects.exists()


def test_enrollment_with_a_future_consent_date_is_refused(cm_client, clinic, care_manager):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = cm_client.post(
        reverse("patients:enroll"), enroll_post(clinic, care_manager, enrolled_on=tomorrow.isoformat())
    )

    assert response.status_code == 400
    assert "The enrollment date cannot be in the future." in response.content.decode()
    assert not Patient.objects.exists()


def test_enrollment_with_an_mrn_already_in_the_clinic_is_refused(cm_client, clinic, care_manager):
    existing = enroll(clinic, care_manager, mrn="MRN-1001")

    response = cm_client.post(reverse("patients:enroll"), enroll_post(clinic, care_manager, mrn="MRN-1001"))

    assert response.status_code == 400
    assert "MRN MRN-1001 is already registered at North Clinic" in response.content.decode()
    assert list(Patient.objects.all()) == [existing]
    assert Episode.objects.count() == 1


def test_enroll_form_shows_every_error_on_the_first_submit(cm_client, clinic, care_manager):
    enroll(clinic, care_manager, mrn="MRN-1001")
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    response = cm_client.post(
        reverse("patients:enroll"),
        enroll_post(clinic, care_manager, mrn="MRN-1001", birth_date=tomorrow, enrolled_on=tomorrow, first_name=""),
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"mrn", "birth_date", "enrolled_on", "first_name"}
    page = response.content.decode()
    for message in [
        "MRN MRN-1001 is already registered at North Clinic",
        "The date of birth cannot be in the future.",
        "The enrollment date cannot be in the future.",
        "This field is required.",
    ]:
        assert message in page
    assert Patient.objects.count() == 1


def test_enroll_form_starts_with_the_enrolling_care_manager_as_the_patients(cm_client, care_manager):
    form = cm_client.get(reverse("patients:enroll")).context["form"]

    assert form["care_manager"].value() == care_manager.pk
    assert f'<option value="{care_manager.pk}" selected>' in str(form["care_manager"])


def test_enroll_form_chooses_no_care_manager_for_a_clinic_admin(client, clinic, care_manager):
    client.force_login(UserFactory(username="admin1", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic]))

    form = client.get(reverse("patients:enroll")).context["form"]

    assert form["care_manager"].value() is None


def test_an_over_long_name_is_refused_with_a_message_and_kept_as_typed(cm_client, clinic, care_manager):
    long_name = "A" * 500

    response = cm_client.post(reverse("patients:enroll"), enroll_post(clinic, care_manager, last_name=long_name))

    assert response.status_code == 400
    assert response.context["form"].errors["last_name"] == [
        "Ensure this value has at most 100 characters (it has 500)."
    ]
    assert f'value="{long_name}"' in response.content.decode()
    assert not Patient.objects.exists()


def test_no_form_field_tells_the_browser_to_cut_text_short(cm_client):
    """A browser silently cuts pasted text at an input's maxlength: the server refuses instead."""
    page = cm_client.get(reverse("patients:enroll")).content.decode()

    assert 'name="last_name"' in page
    assert "maxlength" not in page


def test_the_same_mrn_may_be_enrolled_in_another_clinic(client, clinic, other_clinic, care_manager):
    enroll(clinic, care_manager, mrn="MRN-1001")
    south_cm = UserFactory(username="south-cm", clinics=[other_clinic])
    client.force_login(south_cm)

    response = client.post(reverse("patients:enroll"), enroll_post(other_clinic, south_cm, mrn="MRN-1001"))

    assert response.status_code == 302
    assert Patient.objects.filter(mrn="MRN-1001").count() == 2


def test_enrollment_with_a_care_manager_of_another_clinic_is_refused(cm_client, clinic, other_clinic, care_manager):
    south_cm = UserFactory(username="south-cm", clinics=[other_clinic])

    response = cm_client.post(reverse("patients:enroll"), enroll_post(clinic, care_manager, care_manager=south_cm.pk))

    assert response.status_code == 400
    assert "care_manager" in response.context["form"].errors
    assert "Select a valid choice" in response.content.decode()
    assert not Patient.objects.exists()
    assert not Episode.objects.exists()


def test_a_two_clinic_admin_cannot_give_a_patient_a_care_manager_from_the_other_clinic(client, clinic, other_clinic):
    admin = UserFactory(username="admin2", role=Role.CLINIC_ADMIN, clinics=[clinic, other_clinic])
    south_cm = UserFactory(username="south-cm", first_name="Sam", last_name="South", clinics=[other_clinic])
    client.force_login(admin)

    response = client.post(reverse("patients:enroll"), enroll_post(clinic, south_cm))

    assert response.status_code == 400
    assert "Sam South does not work at North Clinic." in response.content.decode()
    assert not Patient.objects.exists()
    assert not Episode.objects.exists()


# --- Editing -----------------------------------------------------------------------------


def test_edit_page_shows_the_patient(cm_client, patient):
    response = cm_client.get(reverse("patients:edit", args=[patient.pk]))

    assert response.status_code == 200
    assert 'value="MRN-5001"' in response.content.decode()


def test_edit_saves_the_change_and_keeps_the_previous_version_with_its_author(cm_client, patient, care_manager):
    response = cm_client.post(reverse("patients:edit", args=[patient.pk]), edit_post(patient, phone="555-0199"))

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    patient.refresh_from_db()
    assert patient.phone == "555-0199"
    latest, original = patient.history.order_by("-history_date", "-history_id")[:2]
    assert latest.phone == "555-0199"
    assert latest.history_type == "~"
    assert latest.history_user == care_manager
    assert original.phone == ""


def test_edit_with_a_future_birth_date_changes_nothing(cm_client, patient):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = cm_client.post(
        reverse("patients:edit", args=[patient.pk]), edit_post(patient, birth_date=tomorrow.isoformat())
    )

    assert response.status_code == 200
    assert "The date of birth cannot be in the future." in response.content.decode()
    patient.refresh_from_db()
    assert patient.birth_date == datetime.date(1975, 3, 2)
    assert patient.history.count() == 1


def test_edit_to_an_mrn_taken_in_the_clinic_changes_nothing(cm_client, clinic, care_manager, patient):
    enroll(clinic, care_manager, mrn="MRN-7777")

    response = cm_client.post(reverse("patients:edit", args=[patient.pk]), edit_post(patient, mrn="MRN-7777"))

    assert response.status_code == 200
    assert "MRN MRN-7777 is already registered at North Clinic" in response.content.decode()
    patient.refresh_from_db()
    assert patient.mrn == "MRN-5001"


# --- Status ------------------------------------------------------------------------------


def test_status_change_along_the_lifecycle_is_saved_with_its_author(cm_client, patient, care_manager):
    episode = patient.episodes.get()

    response = cm_client.post(
        reverse("patients:change_status", args=[patient.pk]),
        {"status": "active", "on": days_ago(1).isoformat()},
        follow=True,
    )

    episode.refresh_from_db()
    assert episode.status == Episode.Status.ACTIVE
    assert episode.status_changed_on == days_ago(1)
    assert episode.history.order_by("-history_date", "-history_id").first().history_user == care_manager
    assert "Status changed to active treatment." in messages_of(response)


def test_status_change_the_lifecycle_does_not_allow_is_refused_with_a_message(cm_client, patient):
    episode = patient.episodes.get()

    response = cm_client.post(
        reverse("patients:change_status", args=[patient.pk]),
        {"status": "relapse_prevention", "on": days_ago(1).isoformat()},
    )

    assert response.status_code == 400  # the patient page again, the form open with its error
    assert "not one of the available choices" in html.unescape(response.content.decode())
    episode.refresh_from_db()
    assert episode.status == Episode.Status.ENROLLED
    assert episode.history.count() == 1


def test_discharge_without_a_reason_is_refused_with_a_message(cm_client, patient):
    episode = patient.episodes.get()

    response = cm_client.post(
        reverse("patients:change_status", args=[patient.pk]),
        {"status": "discharged", "on": days_ago(1).isoformat(), "discharge_reason": "", "discharge_note": "Typed."},
    )

    assert response.status_code == 400
    assert response.context["status_form"].errors == {"discharge_reason": ["Give the reason for discharge."]}
    assert "Give the reason for discharge." in response.content.decode()
    assert "Typed.</textarea>" in response.content.decode()
    episode.refresh_from_db()
    assert episode.status == Episode.Status.ENROLLED
    assert episode.discharged_on is None


def test_discharge_with_a_reason_closes_the_episode(cm_client, patient):
    episode = patient.episodes.get()

    cm_client.post(
        reverse("patients:change_status", args=[patient.pk]),
        {"status": "discharged", "on": days_ago(1).isoformat(), "discharge_reason": "moved", "discharge_note": "Away"},
    )

    episode.refresh_from_db()
    assert (episode.status, episode.discharged_on, episode.discharge_reason) == ("discharged", days_ago(1), "moved")


def test_status_date_before_enrollment_is_refused(cm_client, patient):
    response = cm_client.post(
        reverse("patients:change_status", args=[patient.pk]),
        {"status": "active", "on": days_ago(100).isoformat()},
    )

    assert response.status_code == 400
    assert "The date is before the enrollment date." in response.content.decode()
    assert patient.episodes.get().status == Episode.Status.ENROLLED


# --- Enrolling again ---------------------------------------------------------------------


def test_enrolling_again_after_discharge_starts_a_new_open_episode(cm_client, patient, care_manager):
    first = patient.episodes.get()
    patient_services.change_status(
        episode=first, status="discharged", on=days_ago(20), by=care_manager, discharge_reason="declined"
    )

    response = cm_client.post(
        reverse("patients:reenroll", args=[patient.pk]), {"enrolled_on": days_ago(2).isoformat()}, follow=True
    )

    assert "A new episode of care has begun." in messages_of(response)
    second = patient.episodes.exclude(pk=first.pk).get()
    assert (second.status, second.enrolled_on) == (Episode.Status.ENROLLED, days_ago(2))
    first.refresh_from_db()
    assert first.status == Episode.Status.DISCHARGED
    assert response.context["episode"] == second
    assert [e.pk for e in response.context["episodes"]] == [second.pk, first.pk]


def test_enrolling_again_before_the_last_discharge_is_refused(cm_client, patient, care_manager):
    first = patient.episodes.get()
    patient_services.change_status(
        episode=first, status="discharged", on=days_ago(20), by=care_manager, discharge_reason="declined"
    )

    response = cm_client.post(
        reverse("patients:reenroll", args=[patient.pk]), {"enrolled_on": days_ago(30).isoformat()}
    )

    assert response.status_code == 400
    assert "on or after the last discharge" in response.content.decode()
    assert f'value="{days_ago(30).isoformat()}"' in response.content.decode()
    assert patient.episodes.count() == 1


def test_enrolling_again_while_an_episode_is_open_is_refused(cm_client, patient):
    response = cm_client.post(reverse("patients:reenroll", args=[patient.pk]), {"enrolled_on": days_ago(1).isoformat()})

    assert response.status_code == 400
    assert "This patient already has an open episode of care." in response.content.decode()
    assert patient.episodes.count() == 1


def test_an_earlier_episode_is_shown_at_its_own_address(cm_client, patient, care_manager):
    first = patient.episodes.get()
    patient_services.change_status(
        episode=first, status="discharged", on=days_ago(20), by=care_manager, discharge_reason="declined"
    )
    patient_services.start_episode(patient=patient, enrolled_on=days_ago(5), by=care_manager)

    response = cm_client.get(reverse("patients:episode", args=[patient.pk, first.pk]))

    assert response.status_code == 200
    assert response.context["episode"] == first
    assert 'data-episode-status="discharged"' in response.content.decode()


# --- Patient page and roles --------------------------------------------------------------


def test_patient_page_shows_demographics_episode_and_scores(cm_client, patient, care_manager):
    episode = patient.episodes.get()
    record_contact(episode, days_ago(30), care_manager, kind="initial_assessment", minutes=40)
    record_score(episode, "PHQ9", 18, days_ago(30), care_manager)
    record_score(episode, "PHQ9", 9, days_ago(2), care_manager)

    response = cm_client.get(reverse("patients:detail", args=[patient.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Lopez, Maria" in html
    assert "MRN MRN-5001" in html
    assert 'data-episode-status="active"' in html
    assert '18 → <strong data-latest="PHQ9">9</strong> (50%)' in html


def test_pcp_can_read_the_patient_page_without_write_controls(client, pcp, patient):
    client.force_login(pcp)

    response = client.get(reverse("patients:detail", args=[patient.pk]))

    assert response.status_code == 200
    assert response.context["can_write"] is False
    assert response.context["contact_form"] is None
    assert reverse("patients:edit", args=[patient.pk]) not in response.content.decode()


@pytest.mark.parametrize(
    "name, method",
    [
        ("patients:enroll", "get"),
        ("patients:enroll", "post"),
        ("patients:edit", "get"),
        ("patients:edit", "post"),
        ("patients:change_status", "post"),
        ("patients:reenroll", "post"),
        ("registry:record_contact", "get"),
        ("registry:record_contact", "post"),
        ("registry:record_measurement", "get"),
        ("registry:record_measurement", "post"),
    ],
)
def test_pcp_is_forbidden_to_enroll_edit_or_record(client, clinic, pcp, patient, name, method):
    client.force_login(pcp)
    kwargs = {
        "patients:enroll": {},
        "registry:record_contact": {"patient_pk": patient.pk},
        "registry:record_measurement": {"patient_pk": patient.pk, "instrument": "PHQ9"},
    }.get(name, {"pk": patient.pk})
    data = {**enroll_post(clinic, pcp, care_manager=""), "status": "active", "on": days_ago(1).isoformat()}

    response = getattr(client, method)(reverse(name, kwargs=kwargs), data)

    assert response.status_code == 403
    assert Patient.objects.count() == 1
    assert patient.episodes.get().status == Episode.Status.ENROLLED
    assert not Contact.objects.exists()
    assert not Measurement.objects.exists()


def test_pcp_is_forbidden_to_mark_a_contact_entered_in_error(client, pcp, patient, care_manager):
    contact = record_contact(patient.episodes.get(), days_ago(3), care_manager)
    client.force_login(pcp)

    response = client.post(reverse("registry:contact_entered_in_error", args=[contact.pk]), {"reason": "x"})

    assert response.status_code == 403
    contact.refresh_from_db()
    assert not contact.is_entered_in_error


def test_discharged_patient_page_offers_enrolling_again_not_recording(cm_client, patient, care_manager):
    registry_services.record_contact(
        episode=patient.episodes.get(),
        by=care_manager,
        contact_date=days_ago(40),
        kind="initial_assessment",
        mode="phone",
    )
    patient_services.change_status(
        episode=patient.episodes.get(), status="discharged", on=days_ago(1), by=care_manager, discharge_reason="moved"
    )

    response = cm_client.get(reverse("patients:detail", args=[patient.pk]))

    assert response.context["reenroll_form"] is not None
    assert response.context["contact_form"] is None
    assert response.context["status_form"] is None
