"""Enrollment, episodes of care and their lifecycle
(docs/clinical-definitions.md#episodes-and-status), and who sees whom."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Role
from patients import services
from patients.models import Episode, Patient
from registry.models import Contact
from tests.factories import ClinicFactory, EpisodeFactory, PatientFactory, UserFactory, record_contact, record_score

DAY = datetime.timedelta(days=1)


@pytest.fixture
def today():
    return timezone.localdate()


def patient_fields(**overrides) -> dict:
    return {
        "mrn": "A1001",
        "first_name": "Rosa",
        "last_name": "Diaz",
        "birth_date": datetime.date(1975, 3, 2),
        "sex": "female",
        **overrides,
    }


def enroll(clinic, by, enrolled_on, **overrides) -> Patient:
    return services.enroll_patient(clinic=clinic, enrolled_on=enrolled_on, by=by, **patient_fields(**overrides))


def discharge(episode, by, on, reason="moved") -> Episode:
    return services.change_status(
        episode=episode, status=Episode.Status.DISCHARGED, on=on, by=by, discharge_reason=reason
    )


# --- enrollment ---------------------------------------------------------------------------


def test_enroll_patient_creates_the_patient_and_an_open_episode(clinic, care_manager, today):
    patient = enroll(clinic, care_manager, today - 3 * DAY, care_manager=care_manager)

    patient.refresh_from_db()
    assert (patient.clinic, patient.mrn, patient.care_manager) == (clinic, "A1001", care_manager)
    (episode,) = patient.episodes.all()
    assert episode.is_open
    assert episode.status == Episode.Status.ENROLLED
    assert episode.enrolled_on == today - 3 * DAY
    assert episode.status_changed_on == today - 3 * DAY
    assert patient.current_episode() == episode
    assert patient.history.first().history_user == care_manager
    assert episode.history.first().history_user == care_manager


def test_enrollment_in_the_future_is_refused(clinic, care_manager, today):
    with pytest.raises(ValidationError) as error:
        enroll(clinic, care_manager, today + DAY)

    assert "enrolled_on" in error.value.message_dict
    assert not Patient.objects.exists()


def test_duplicate_mrn_in_the_same_clinic_is_refused_on_the_mrn(clinic, care_manager, today):
    enroll(clinic, care_manager, today)

    with pytest.raises(ValidationError) as error:
        enroll(clinic, care_manager, today, first_name="Other")

    assert "A1001" in error.value.message_dict["mrn"][0]
    assert Patient.objects.count() == 1
    assert Episode.objects.count() == 1


def test_same_mrn_in_another_clinic_is_accepted(clinic, other_clinic, care_manager, today):
    enroll(clinic, care_manager, today)

    patient = enroll(other_clinic, care_manager, today)

    assert patient.clinic == other_clinic
    assert Patient.objects.filter(mrn="A1001").count() == 2


def test_changing_mrn_to_one_taken_in_the_clinic_is_refused_on_the_mrn(clinic, care_manager, today):
    enroll(clinic, care_manager, today)
    patient = enroll(clinic, care_manager, today, mrn="B2002")

    with pytest.raises(ValidationError) as error:
        services.update_patient(patient=patient, by=care_manager, mrn="A1001")

    assert "mrn" in error.value.message_dict
    patient.refresh_from_db()
    assert patient.mrn == "B2002"


# --- care team ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "role"),
    [
        ("care_manager", Role.CARE_MANAGER),
        ("psychiatric_consultant", Role.PSYCHIATRIC_CONSULTANT),
        ("pcp", Role.MEDICAL_PROVIDER),
    ],
)
def test_care_team_member_in_the_clinic_with_the_right_role_is_accepted(clinic, care_manager, today, field, role):
    member = UserFactory(role=role, fte=None, clinics=[clinic])

    patient = enroll(clinic, care_manager, today, **{field: member})

    assert getattr(patient, field) == member


@pytest.mark.parametrize(
    ("field", "role"),
    [
        ("care_manager", Role.CARE_MANAGER),
        ("psychiatric_consultant", Role.PSYCHIATRIC_CONSULTANT),
        ("pcp", Role.MEDICAL_PROVIDER),
    ],
)
def test_care_team_member_from_another_clinic_is_refused(clinic, other_clinic, care_manager, today, field, role):
    outsider = UserFactory(role=role, fte=None, clinics=[other_clinic])

    with pytest.raises(ValidationError) as error:
        enroll(clinic, care_manager, today, **{field: outsider})

    assert "does not work at North Clinic" in error.value.message_dict[field][0]
    assert not Patient.objects.exists()
    assert not Episode.objects.exists()


@pytest.mark.parametrize(
    ("field", "wrong_role"),
    [
        ("care_manager", Role.MEDICAL_PROVIDER),
        ("psychiatric_consultant", Role.CARE_MANAGER),
        ("pcp", Role.PSYCHIATRIC_CONSULTANT),
        ("pcp", Role.CLINIC_ADMIN),
    ],
)
def test_care_team_member_in_the_wrong_role_is_refused(clinic, care_manager, today, field, wrong_role):
    member = UserFactory(role=wrong_role, fte=None, clinics=[clinic])

    with pytest.raises(ValidationError) as error:
        enroll(clinic, care_manager, today, **{field: member})

    assert "is not a" in error.value.message_dict[field][0]
    assert not Patient.objects.exists()


def test_care_team_change_to_another_clinics_member_is_refused(clinic, other_clinic, care_manager, today):
    patient = enroll(clinic, care_manager, today, care_manager=care_manager)
    outsider = UserFactory(clinics=[other_clinic])

    with pytest.raises(ValidationError):
        services.update_patient(patient=patient, by=care_manager, care_manager=outsider)

    patient.refresh_from_db()
    assert patient.care_manager == care_manager


# --- status lifecycle ---------------------------------------------------------------------


@pytest.fixture
def episode(clinic, today):
    return EpisodeFactory(patient__clinic=clinic, enrolled_on=today - 100 * DAY)


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (Episode.Status.ENROLLED, Episode.Status.ACTIVE),
        (Episode.Status.ACTIVE, Episode.Status.RELAPSE_PREVENTION),
        (Episode.Status.RELAPSE_PREVENTION, Episode.Status.ACTIVE),
    ],
)
def test_status_moves_along_the_lifecycle(clinic, care_manager, today, start, to):
    episode = EpisodeFactory(patient__clinic=clinic, status=start)

    services.change_status(episode=episode, status=to, on=today - DAY, by=care_manager)

    episode.refresh_from_db()
    assert (episode.status, episode.status_changed_on) == (to, today - DAY)
    assert episode.history.first().history_user == care_manager


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (Episode.Status.ENROLLED, Episode.Status.RELAPSE_PREVENTION),
        (Episode.Status.ACTIVE, Episode.Status.ENROLLED),
        (Episode.Status.ACTIVE, Episode.Status.ACTIVE),
    ],
)
def test_status_cannot_skip_or_go_back_in_the_lifecycle(clinic, care_manager, today, start, to):
    episode = EpisodeFactory(patient__clinic=clinic, status=start)

    with pytest.raises(ValidationError) as error:
        services.change_status(episode=episode, status=to, on=today, by=care_manager)

    assert "status" in error.value.message_dict
    episode.refresh_from_db()
    assert episode.status == start


@pytest.mark.parametrize("to", [Episode.Status.ACTIVE, Episode.Status.ENROLLED, Episode.Status.DISCHARGED])
def test_discharged_episode_cannot_change_status(episode, care_manager, today, to):
    discharge(episode, care_manager, today - 5 * DAY)

    with pytest.raises(ValidationError) as error:
        services.change_status(episode=episode, status=to, on=today, by=care_manager, discharge_reason="")

    assert "status" in error.value.message_dict
    episode.refresh_from_db()
    assert episode.status == Episode.Status.DISCHARGED
    assert episode.discharged_on == today - 5 * DAY


def test_discharge_needs_a_reason(episode, care_manager, today):
    with pytest.raises(ValidationError) as error:
        services.change_status(episode=episode, status=Episode.Status.DISCHARGED, on=today, by=care_manager)

    assert "discharge_reason" in error.value.message_dict
    episode.refresh_from_db()
    assert episode.is_open


def test_discharge_sets_the_date_reason_and_note(episode, care_manager, today):
    services.change_status(
        episode=episode,
        status=Episode.Status.DISCHARGED,
        on=today - 2 * DAY,
        by=care_manager,
        discharge_reason=Episode.DischargeReason.REFERRED,
        discharge_note="Referred to the county CMHC.",
    )

    episode.refresh_from_db()
    assert episode.status == Episode.Status.DISCHARGED
    assert (episode.discharged_on, episode.status_changed_on) == (today - 2 * DAY, today - 2 * DAY)
    assert episode.discharge_reason == "referred"
    assert episode.discharge_note == "Referred to the county CMHC."
    assert episode.patient.current_episode() is None


def test_discharge_reason_without_a_discharge_is_refused(clinic, care_manager, today):
    episode = EpisodeFactory(patient__clinic=clinic, status=Episode.Status.ENROLLED)

    with pytest.raises(ValidationError) as error:
        services.change_status(
            episode=episode, status=Episode.Status.ACTIVE, on=today, by=care_manager, discharge_reason="moved"
        )

    assert "discharge_reason" in error.value.message_dict
    episode.refresh_from_db()
    assert (episode.status, episode.discharge_reason) == (Episode.Status.ENROLLED, "")


@pytest.mark.parametrize(("offset", "says"), [(-101, "before the enrollment"), (1, "future")])
def test_status_change_dated_outside_the_episode_is_refused(episode, care_manager, today, offset, says):
    with pytest.raises(ValidationError) as error:
        discharge(episode, care_manager, today + offset * DAY)

    assert says in error.value.message_dict["on"][0]
    episode.refresh_from_db()
    assert episode.is_open


# --- episodes -----------------------------------------------------------------------------


def test_new_episode_is_refused_while_one_is_open(episode, care_manager, today):
    with pytest.raises(ValidationError, match="already has an open episode"):
        services.start_episode(patient=episode.patient, enrolled_on=today, by=care_manager)

    assert episode.patient.episodes.count() == 1


def test_new_episode_cannot_begin_before_the_last_discharge(episode, care_manager, today):
    discharge(episode, care_manager, today - 10 * DAY)

    with pytest.raises(ValidationError) as error:
        services.start_episode(patient=episode.patient, enrolled_on=today - 11 * DAY, by=care_manager)

    assert "enrolled_on" in error.value.message_dict
    assert episode.patient.episodes.count() == 1


def test_re_enrollment_after_discharge_starts_a_fresh_episode_with_its_own_baseline(episode, care_manager, today):
    record_contact(
        episode, today - 95 * DAY, care_manager, kind=Contact.Kind.INITIAL_ASSESSMENT, next_contact_on=today - 81 * DAY
    )
    record_score(episode, "PHQ9", 22, today - 95 * DAY, care_manager)
    record_score(episode, "PHQ9", 6, today - 50 * DAY, care_manager)
    discharge(episode, care_manager, today - 40 * DAY, reason="declined")

    new = services.start_episode(patient=episode.patient, enrolled_on=today - 20 * DAY, by=care_manager)
    record_score(new, "PHQ9", 15, today - 18 * DAY, care_manager)
    record_score(new, "PHQ9", 12, today - 4 * DAY, care_manager)

    new.refresh_from_db()
    assert new.is_open
    assert episode.patient.current_episode() == new
    assert (new.phq9_baseline, new.phq9_latest) == (15, 12)
    assert new.initial_assessment_on is None
    assert new.completed_contacts == 0
    assert new.last_contact_on is None
    episode.refresh_from_db()
    assert (episode.phq9_baseline, episode.phq9_latest) == (22, 6)
    assert episode.completed_contacts == 1


def test_re_enrollment_on_the_discharge_day_is_accepted(episode, care_manager, today):
    discharge(episode, care_manager, today - 10 * DAY)

    new = services.start_episode(patient=episode.patient, enrolled_on=today - 10 * DAY, by=care_manager)

    assert new.status == Episode.Status.ENROLLED
    assert episode.patient.episodes.count() == 2


# --- who sees whom ------------------------------------------------------------------------


def test_staff_see_only_their_own_clinics_patients(clinic, other_clinic, care_manager):
    mine = PatientFactory(clinic=clinic)
    PatientFactory(clinic=other_clinic)

    visible = Patient.objects.visible_to(care_manager)

    assert list(visible) == [mine]


def test_staff_in_two_clinics_see_both(clinic, other_clinic):
    third = ClinicFactory(code="west")
    both = UserFactory(clinics=[clinic, other_clinic])
    north, south = PatientFactory(clinic=clinic), PatientFactory(clinic=other_clinic)
    PatientFactory(clinic=third)

    visible = Patient.objects.visible_to(both)

    assert set(visible) == {north, south}


def test_superuser_sees_every_clinics_patients(clinic, other_clinic):
    admin = UserFactory(is_superuser=True, role="", fte=None)
    patients = {PatientFactory(clinic=clinic), PatientFactory(clinic=other_clinic)}

    assert set(Patient.objects.visible_to(admin)) == patients


def test_staff_without_a_clinic_and_anonymous_users_see_no_one(clinic):
    PatientFactory(clinic=clinic)
    nowhere = UserFactory()

    assert not Patient.objects.visible_to(nowhere).exists()
    assert not Patient.objects.visible_to(AnonymousUser()).exists()


def test_episodes_are_visible_by_their_patients_clinic(clinic, other_clinic, care_manager):
    mine = EpisodeFactory(patient__clinic=clinic)
    EpisodeFactory(patient__clinic=other_clinic)

    assert list(Episode.objects.visible_to(care_manager)) == [mine]


# --- A status recorded from an import (docs/data-formats.md#files-carereg-reads-the-registry-import)


def test_an_imported_status_may_skip_steps_the_app_walks_one_at_a_time(episode, care_manager, today):
    services.record_imported_status(
        episode=episode, status=Episode.Status.RELAPSE_PREVENTION, on=today - 10 * DAY, by=care_manager
    )

    episode.refresh_from_db()
    assert (episode.status, episode.status_changed_on) == (Episode.Status.RELAPSE_PREVENTION, today - 10 * DAY)
    assert episode.history.first().history_user == care_manager


def test_an_imported_discharge_with_goals_met_needs_no_relapse_plan(episode, care_manager, today):
    with pytest.raises(ValidationError):  # in the app, the plan comes first
        services.change_status(
            episode=episode, status="discharged", on=today, by=care_manager, discharge_reason="goals_met"
        )

    services.record_imported_status(
        episode=episode, status="discharged", on=today - DAY, by=care_manager, discharge_reason="goals_met"
    )

    episode.refresh_from_db()
    assert (episode.status, episode.discharged_on, episode.discharge_reason, episode.status_changed_on) == (
        "discharged",
        today - DAY,
        "goals_met",
        today - DAY,
    )


def test_an_imported_discharge_is_not_before_the_episodes_own_contacts(episode, care_manager, today):
    record_contact(episode, today - 3 * DAY, care_manager)

    with pytest.raises(ValidationError) as error:
        services.record_imported_status(
            episode=episode, status="discharged", on=today - 5 * DAY, by=care_manager, discharge_reason="moved"
        )

    assert error.value.message_dict == {
        "discharged_on": [f"{today - 5 * DAY:%Y-%m-%d} is before the episode's contact on {today - 3 * DAY:%Y-%m-%d}"]
    }
    episode.refresh_from_db()
    assert episode.is_open


@pytest.mark.parametrize("to", [Episode.Status.ACTIVE, Episode.Status.DISCHARGED])
def test_an_import_never_changes_a_discharge(episode, care_manager, today, to):
    discharge(episode, care_manager, today - 5 * DAY)

    with pytest.raises(ValidationError) as error:
        services.record_imported_status(
            episode=episode,
            status=to,
            on=today - DAY,
            by=care_manager,
            discharge_reason="other" if to == Episode.Status.DISCHARGED else "",
        )

    assert "an import does not change a discharge" in error.value.message_dict["status"][0]
    episode.refresh_from_db()
    assert (episode.status, episode.discharged_on) == (Episode.Status.DISCHARGED, today - 5 * DAY)


def test_an_import_does_not_take_an_episode_back_to_enrolled(episode, care_manager, today):
    services.change_status(episode=episode, status=Episode.Status.ACTIVE, on=today - DAY, by=care_manager)

    with pytest.raises(ValidationError) as error:
        services.record_imported_status(episode=episode, status=Episode.Status.ENROLLED, on=today, by=care_manager)

    assert error.value.message_dict == {"status": ["enrolled, but the episode is already active"]}
