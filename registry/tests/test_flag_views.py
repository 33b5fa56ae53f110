"""The pages of a flag's life: resolve, request a review, seen; re-engagement; registry settings."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consults.agenda import build_agendas
from patients import services as patient_services
from patients.models import Episode
from registry import services
from registry.flags import refresh_flags
from registry.models import Flag, RegistrySettings
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
DAY = datetime.timedelta(days=1)


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - days * DAY


def form_errors(response) -> list[str]:
    form = response.context["form"]
    return [str(e) for errors in form.errors.values() for e in errors]


@pytest.fixture
def episode(clinic, care_manager):
    return EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=days_ago(60))


@pytest.fixture
def patient(episode):
    return episode.patient


@pytest.fixture
def pcp(clinic):
    return UserFactory(username="pcp", role=Role.MEDICAL_PROVIDER, clinics=[clinic])


@pytest.fixture
def consultant(clinic):
    return UserFactory(username="psych", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])


@pytest.fixture
def admin(clinic):
    return UserFactory(username="admin", role=Role.CLINIC_ADMIN, clinics=[clinic])


@pytest.fixture
def overdue_flag(episode):
    return services.raise_flag(episode=episode, kind=Kind.FOLLOWUP_OVERDUE, reason="No contact in 3 weeks.")


def resolve_url(flag) -> str:
    return reverse("registry:resolve_flag", args=[flag.pk])


# --- resolving a flag ----------------------------------------------------------------------


def test_resolve_page_shows_the_flag_and_says_a_rule_may_raise_it_again(cm_client, overdue_flag):
    response = cm_client.get(resolve_url(overdue_flag))

    html = response.content.decode()
    assert response.status_code == 200
    assert "No contact in 3 weeks." in html
    assert "raised again" in html


def test_resolving_a_flag_with_a_note_closes_it_with_who_and_why(cm_client, overdue_flag, patient, care_manager):
    response = cm_client.post(resolve_url(overdue_flag), {"note": " Reached her on the phone today. "})

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    overdue_flag.refresh_from_db()
    assert overdue_flag.resolved_at is not None
    assert overdue_flag.resolved_by == care_manager
    assert overdue_flag.resolution_note == "Reached her on the phone today."
    latest = overdue_flag.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user) == ("~", care_manager)


@pytest.mark.parametrize("note", ["", "   "])
def test_resolving_a_flag_needs_a_note(cm_client, overdue_flag, note):
    response = cm_client.post(resolve_url(overdue_flag), {"note": note})

    assert response.status_code == 200
    assert form_errors(response) == ["This field is required."]
    overdue_flag.refresh_from_db()
    assert overdue_flag.is_open


def test_pcp_may_not_resolve_a_flag(client, pcp, overdue_flag):
    client.force_login(pcp)

    page = client.get(resolve_url(overdue_flag))
    post = client.post(resolve_url(overdue_flag), {"note": "Fine."})

    assert (page.status_code, post.status_code) == (403, 403)
    overdue_flag.refresh_from_db()
    assert overdue_flag.is_open


def test_a_resolved_flag_has_no_resolve_page(cm_client, overdue_flag, care_manager):
    services.resolve_flag(flag=overdue_flag, by=care_manager, note="Done.")

    response = cm_client.post(resolve_url(overdue_flag), {"note": "Again."})

    assert response.status_code == 404


# --- requesting a case review --------------------------------------------------------------


def request_url(patient) -> str:
    return reverse("registry:request_review", args=[patient.pk])


def test_requesting_a_review_raises_needs_discussion_and_puts_the_patient_on_the_next_agenda(
    cm_client, patient, episode, care_manager
):
    response = cm_client.post(request_url(patient), {"reason": "Worse since the job loss."})

    assert response.status_code == 302
    flag = Flag.objects.get(episode=episode, kind=Kind.NEEDS_DISCUSSION, resolved_at__isnull=True)
    assert (flag.raised_by, flag.reason) == (care_manager, "Worse since the job loss.")
    (agenda,) = build_agendas(patient.clinic, timezone.localdate())
    item = agenda.items.get()
    assert (item.episode, item.reasons) == (episode, [Kind.NEEDS_DISCUSSION])
    assert agenda.care_manager == care_manager


def test_requesting_a_review_needs_a_reason(cm_client, patient):
    response = cm_client.post(request_url(patient), {"reason": ""})

    assert response.status_code == 200
    assert form_errors(response) == ["This field is required."]
    assert not Flag.objects.exists()


def test_pcp_may_not_request_a_review(client, pcp, patient):
    client.force_login(pcp)

    response = client.post(request_url(patient), {"reason": "Please."})

    assert response.status_code == 403
    assert not Flag.objects.exists()


# --- seen ----------------------------------------------------------------------------------


def mark_seen(client, patient, flags):
    return client.post(reverse("registry:mark_flags_seen", args=[patient.pk]), {"flag": [f.pk for f in flags]})


def test_the_care_manager_marks_the_open_flags_the_page_showed_seen(cm_client, patient, episode, care_manager):
    open_flag = services.raise_flag(episode=episode, kind=Kind.NEW_PATIENT, reason="New.")
    closed = services.raise_flag(episode=episode, kind=Kind.FOLLOWUP_OVERDUE, reason="Late.")
    services.resolve_flag(flag=closed, by=care_manager, note="Called.")
    page = cm_client.get(reverse("patients:detail", args=[patient.pk]))
    assert f'name="flag" value="{open_flag.pk}"' in page.content.decode()

    response = mark_seen(cm_client, patient, [open_flag, closed])

    assert response.status_code == 302
    open_flag.refresh_from_db()
    closed.refresh_from_db()
    assert open_flag.seen_by == care_manager
    assert open_flag.seen_at is not None
    assert (closed.seen_by, closed.seen_at) == (None, None)
    latest = open_flag.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user, latest.seen_by_id) == ("~", care_manager, care_manager.pk)


def test_reading_the_patient_page_writes_nothing(cm_client, patient, episode):
    flag = services.raise_flag(episode=episode, kind=Kind.NEW_PATIENT, reason="New.")

    response = cm_client.get(reverse("patients:detail", args=[patient.pk]))

    flag.refresh_from_db()
    assert (flag.seen_by, flag.seen_at, flag.history.count()) == (None, None, 1)
    assert ">new</span>" in response.content.decode()


def test_marking_seen_again_adds_no_history(cm_client, patient, episode):
    flag = services.raise_flag(episode=episode, kind=Kind.NEW_PATIENT, reason="New.")
    mark_seen(cm_client, patient, [flag])
    seen = flag.history.count()

    mark_seen(cm_client, patient, [flag])

    assert flag.history.count() == seen == 2


def test_a_flag_raised_after_the_page_was_drawn_stays_new(cm_client, patient, episode):
    shown = services.raise_flag(episode=episode, kind=Kind.NEW_PATIENT, reason="New.")
    later = services.raise_flag(episode=episode, kind=Kind.FOLLOWUP_OVERDUE, reason="Late.")

    mark_seen(cm_client, patient, [shown])

    later.refresh_from_db()
    assert later.seen_at is None


@pytest.mark.parametrize("role", [Role.PSYCHIATRIC_CONSULTANT, Role.CARE_MANAGER, Role.CLINIC_ADMIN])
def test_someone_other_than_the_patients_care_manager_does_not_mark_flags_seen(client, clinic, patient, episode, role):
    flag = services.raise_flag(episode=episode, kind=Kind.NEW_PATIENT, reason="New.")
    client.force_login(UserFactory(role=role, clinics=[clinic]))

    response = client.get(reverse("patients:detail", args=[patient.pk]))
    refused = mark_seen(client, patient, [flag])

    assert response.status_code == 200
    assert refused.status_code == 403
    flag.refresh_from_db()
    assert (flag.seen_by, flag.seen_at) == (None, None)
    assert flag.history.count() == 1
    assert "data-open-flag" in response.content.decode()
    assert 'name="flag"' not in response.content.decode()  # no button to mark them seen


# --- re-engagement -------------------------------------------------------------------------


def discharge(episode, reason: str, days: int, by) -> Episode:
    return patient_services.change_status(
        episode=episode, status=Episode.Status.DISCHARGED, on=days_ago(days), by=by, discharge_reason=reason
    )


def lost_to_contact(clinic, care_manager, **patient_fields) -> Episode:
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        enrolled_on=days_ago(300),
        **{f"patient__{name}": value for name, value in patient_fields.items()},
    )
    return discharge(episode, "no_contact", 200, care_manager)


def listed(response) -> list[int]:
    return [episode.pk for episode in response.context["page"].object_list]


@pytest.fixture
def reengagement_cases(clinic, other_clinic, care_manager):
    """Patients of the clinic in every situation the list has to tell apart."""
    other_cm = UserFactory(clinics=[clinic])
    lost = lost_to_contact(clinic, care_manager, mrn="LOST-1", first_name="Lorna")
    others_lost = lost_to_contact(clinic, other_cm)
    moved = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=days_ago(300))
    discharge(moved, "moved", 200, care_manager)
    back = lost_to_contact(clinic, care_manager)
    patient_services.start_episode(patient=back.patient, enrolled_on=days_ago(100), by=care_manager)
    back_then_moved = lost_to_contact(clinic, care_manager)
    second = patient_services.start_episode(patient=back_then_moved.patient, enrolled_on=days_ago(150), by=care_manager)
    discharge(second, "moved", 100, care_manager)
    lost_twice = lost_to_contact(clinic, care_manager)
    again = patient_services.start_episode(patient=lost_twice.patient, enrolled_on=days_ago(150), by=care_manager)
    lost_again = discharge(again, "no_contact", 20, care_manager)
    lost_to_contact(other_clinic, UserFactory(clinics=[other_clinic]))
    return {"lost": lost, "others_lost": others_lost, "lost_again": lost_again}


def test_reengagement_lists_the_clinics_patients_discharged_for_no_contact_and_not_enrolled_again(
    client, admin, reengagement_cases
):
    client.force_login(admin)

    response = client.get(reverse("registry:reengagement"))

    assert response.status_code == 200
    cases = reengagement_cases
    assert sorted(listed(response)) == sorted([cases["lost"].pk, cases["others_lost"].pk, cases["lost_again"].pk])
    assert "LOST-1" in response.content.decode()


def test_reengagement_shows_a_care_manager_only_their_own_patients(cm_client, reengagement_cases):
    response = cm_client.get(reverse("registry:reengagement"))

    cases = reengagement_cases
    assert sorted(listed(response)) == sorted([cases["lost"].pk, cases["lost_again"].pk])


def test_reengagement_lists_no_rule_flags_for_the_discharged(cm_client, reengagement_cases):
    refresh_flags()

    assert not Flag.objects.filter(episode__status=Episode.Status.DISCHARGED, resolved_at__isnull=True).exists()


# --- registry settings ---------------------------------------------------------------------


SETTINGS_URL = reverse("registry:settings")


def settings_post(**overrides) -> dict:
    data = {
        "active_cadence_days": "14",
        "relapse_prevention_cadence_days": "30",
        "first_followup_days": "28",
        "not_improving_after_days": "56",
        "case_review_recency_days": "28",
        "measurement_overdue_days": "30",
        "recommendation_open_days": "14",
        "baseline_lookback_days": "30",
        "agenda_weekday": "2",
        "agenda_hour": "8",
        "referral_overdue_days": "30",
        "no_contact_discharge_days": "182",
        "pcl5_positive_at": "33",
        "self_report_link_days": "7",
        "caseload_population": "medicaid_bh",
    }
    data.update(overrides)
    return data


def test_settings_page_shows_the_defaults(client, admin):
    client.force_login(admin)

    response = client.get(SETTINGS_URL)

    assert response.status_code == 200
    assert response.context["form"]["not_improving_after_days"].value() == 70


def test_clinic_admin_changes_the_thresholds_with_history(client, clinic, admin):
    client.force_login(admin)

    response = client.post(SETTINGS_URL, settings_post())

    assert response.status_code == 302
    assert response["Location"] == f"{SETTINGS_URL}?clinic={clinic.pk}"
    saved = RegistrySettings.objects.get(clinic=clinic)
    assert (saved.not_improving_after_days, saved.agenda_weekday, saved.agenda_hour) == (56, 2, 8)
    assert saved.history.get().history_user == admin


def test_changed_thresholds_apply_at_the_refresh_queued_after_the_save(
    client, clinic, admin, care_manager, django_capture_on_commit_callbacks
):
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=days_ago(100))
    record_contact(episode, days_ago(60), care_manager, kind="initial_assessment")
    record_score(episode, "PHQ9", 20, days_ago(60), care_manager)
    record_contact(episode, days_ago(3), care_manager)
    record_score(episode, "PHQ9", 18, days_ago(3), care_manager)
    refresh_flags()
    assert not Flag.objects.filter(episode=episode, kind=Kind.NOT_IMPROVING).exists()
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(SETTINGS_URL, settings_post(not_improving_after_days="56"))

    assert Flag.objects.filter(episode=episode, kind=Kind.NOT_IMPROVING, resolved_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("value", "says"),
    [("0", "greater than or equal to 1"), ("1000", "less than or equal to 730"), ("", "required")],
)
def test_a_threshold_out_of_range_is_refused(client, clinic, admin, value, says):
    client.force_login(admin)

    response = client.post(SETTINGS_URL, settings_post(not_improving_after_days=value))

    assert response.status_code == 200
    (error,) = response.context["form"].errors["not_improving_after_days"]
    assert says in error
    assert not RegistrySettings.objects.filter(clinic=clinic).exists()


def test_an_hour_past_23_is_refused(client, clinic, admin):
    client.force_login(admin)

    response = client.post(SETTINGS_URL, settings_post(agenda_hour="24"))

    assert response.status_code == 200
    assert "agenda_hour" in response.context["form"].errors
    assert not RegistrySettings.objects.exists()


@pytest.mark.parametrize("role", [Role.CARE_MANAGER, Role.PSYCHIATRIC_CONSULTANT, Role.MEDICAL_PROVIDER])
def test_only_clinic_admins_may_change_settings(client, clinic, role):
    client.force_login(UserFactory(role=role, clinics=[clinic]))

    page = client.get(SETTINGS_URL)
    post = client.post(SETTINGS_URL, settings_post())

    assert (page.status_code, post.status_code) == (403, 403)
    assert not RegistrySettings.objects.exists()


def test_an_admin_of_two_clinics_changes_the_one_chosen(client, clinic, other_clinic):
    admin = UserFactory(role=Role.CLINIC_ADMIN, clinics=[clinic, other_clinic])
    client.force_login(admin)

    client.post(f"{SETTINGS_URL}?clinic={other_clinic.pk}", settings_post(not_improving_after_days="63"))

    assert RegistrySettings.objects.get().clinic == other_clinic
    assert RegistrySettings.objects.get().not_improving_after_days == 63


def test_an_admin_cannot_change_another_clinics_settings(client, admin, clinic):
    elsewhere = ClinicFactory(code="elsewhere")
    client.force_login(admin)

    client.post(f"{SETTINGS_URL}?clinic={elsewhere.pk}", settings_post())

    assert not RegistrySettings.objects.filter(clinic=elsewhere).exists()
    assert RegistrySettings.objects.get().clinic == clinic


def queries_of_reengagement_page(client, clinic, size: int) -> int:
    cm = UserFactory(clinics=[clinic])
    for _ in range(size):
        lost_to_contact(clinic, cm)
    client.force_login(cm)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("registry:reengagement"))
    assert len(listed(response)) == size
    return len(queries)


def test_reengagement_page_costs_the_same_queries_for_2_or_20_patients(client, clinic):
    assert queries_of_reengagement_page(client, clinic, 2) == queries_of_reengagement_page(client, clinic, 20)


def test_the_care_manager_sees_which_flags_are_new_until_marking_them_seen(cm_client, patient, episode):
    flag = services.raise_flag(episode=episode, kind=Kind.NEW_PATIENT, reason="New.")

    first = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    mark_seen(cm_client, patient, [flag])
    second = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()

    assert ">new</span>" in first
    assert ">new</span>" not in second


def test_asking_again_before_the_review_keeps_both_questions(cm_client, patient, episode):
    cm_client.post(request_url(patient), {"reason": "Sleep worse on sertraline?"})
    cm_client.post(request_url(patient), {"reason": "Consider adding therapy?"})

    (flag,) = Flag.objects.filter(episode=episode, kind=Kind.NEEDS_DISCUSSION)
    assert "Sleep worse on sertraline?" in flag.reason
    assert "Consider adding therapy?" in flag.reason
