"""The safety flow after an item-9 answer (docs/user-guide.md#safety-follow-through): the contact
leads straight to the safety assessment (with the C-SSRS screener when the clinic uses it), a
close follow-up sets the next contact date, and "consultant notified" notifies; a contact
can not be dated in the future on the clinic's clock."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from carereg.dates import clinic_today
from consults.models import Agenda, Notification
from registry import services
from registry.forms import ContactForm
from registry.models import Flag, Measurement, RegistrySettings
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
NOTIFIED = "consultant_notified"


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - days * DAY


@pytest.fixture
def consultant(clinic):
    return UserFactory(
        username="psych", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic], email="chen@clinic.example"
    )


@pytest.fixture
def episode(clinic, care_manager, consultant):
    return EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        patient__first_name="Rosa",
        patient__last_name="Quintero",
        patient__mrn="A1001",
        enrolled_on=days_ago(60),
    )


def contact_with_phq9(item9: int) -> dict:
    answers = [2, 2, 2, 2, 2, 1, 1, 1, item9]
    return {
        "contact_date": timezone.localdate().isoformat(),
        "kind": "follow_up",
        "with_whom": "patient",
        "mode": "phone",
        "reached": "on",
        "minutes": "20",
        "next_contact_on": (timezone.localdate() + 14 * DAY).isoformat(),
        **{f"phq9-item_{n}": str(a) for n, a in enumerate(answers, start=1)},
    }


def safety_flag(episode) -> Flag:
    return Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY, resolved_at__isnull=True)


def assessment_post(*actions, **overrides) -> dict:
    return {
        "assessed_at": timezone.localtime().replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M"),
        "risk_level": "moderate",
        "actions": list(actions) or ["safety_plan"],
        "note": "Passive thoughts, no plan; safety plan made.",
        **overrides,
    }


# --- the contact leads to the assessment ---------------------------------------------------


def test_an_item_9_answer_of_2_leads_straight_to_the_safety_assessment(cm_client, episode):
    response = cm_client.post(reverse("registry:record_contact", args=[episode.patient_id]), contact_with_phq9(2))

    assert response.status_code == 302
    assert response["Location"] == reverse("registry:resolve_flag", args=[safety_flag(episode).pk])
    page = cm_client.get(response["Location"])
    assert "Record the safety assessment now." in page.content.decode()


def test_a_contact_without_a_safety_answer_returns_to_the_patient(cm_client, episode):
    response = cm_client.post(reverse("registry:record_contact", args=[episode.patient_id]), contact_with_phq9(0))

    assert response["Location"] == reverse("patients:detail", args=[episode.patient_id])


def test_the_assessment_offers_the_cssrs_screener_when_the_clinic_uses_it(cm_client, clinic, episode, care_manager):
    record_score(episode, "PHQ9", 14, days_ago(0), care_manager, item9=2)
    url = reverse("registry:resolve_flag", args=[safety_flag(episode).pk])
    offered = cm_client.get(url)
    RegistrySettings.objects.create(clinic=clinic, enabled_instruments=["GAD7"])
    not_offered = cm_client.get(url)

    assert 'data-score-form="CSSRS"' in offered.content.decode()
    assert 'data-score-form="CSSRS"' not in not_offered.content.decode()


def test_the_screener_answered_is_saved_with_the_assessment(cm_client, episode, care_manager):
    record_score(episode, "PHQ9", 14, days_ago(0), care_manager, item9=2)
    flag = safety_flag(episode)
    screener = {f"cssrs-item_{n}": "0" for n in range(1, 7)} | {"cssrs-item_1": "1"}

    response = cm_client.post(reverse("registry:resolve_flag", args=[flag.pk]), assessment_post() | screener)

    assert response.status_code == 302
    cssrs = Measurement.objects.get(episode=episode, instrument="CSSRS")
    assert cssrs.item_1 == 1 and cssrs.taken_on == timezone.localdate()
    flag.refresh_from_db()
    assert not flag.is_open


# --- close follow-up -----------------------------------------------------------------------


def test_close_follow_up_in_3_days_sets_the_next_contact_date(cm_client, episode, care_manager):
    cm_client.post(reverse("registry:record_contact", args=[episode.patient_id]), contact_with_phq9(2))
    episode.refresh_from_db()
    assert episode.next_contact_on == timezone.localdate() + 14 * DAY

    response = cm_client.post(
        reverse("registry:resolve_flag", args=[safety_flag(episode).pk]),
        assessment_post("safety_plan", "follow_up_scheduled", follow_up_in_days="3"),
    )

    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.next_contact_on == timezone.localdate() + 3 * DAY
    assert episode.safety_assessments.get().follow_up_on == timezone.localdate() + 3 * DAY


def test_a_contact_on_a_later_day_takes_over_the_next_contact_date(episode, care_manager):
    record_score(episode, "PHQ9", 14, days_ago(5), care_manager, item9=2)
    services.resolve_safety_flag(
        flag=safety_flag(episode),
        by=care_manager,
        risk_level="low",
        actions=["follow_up_scheduled"],
        note="Seen.",
        assessed_at=timezone.now() - 5 * DAY,
        follow_up_on=days_ago(2),
    )
    episode.refresh_from_db()
    assert episode.next_contact_on == days_ago(2)

    record_contact(episode, days_ago(1), care_manager, next_contact_on=days_ago(1) + 14 * DAY)

    episode.refresh_from_db()
    assert episode.next_contact_on == days_ago(1) + 14 * DAY


def test_follow_up_ticked_without_days_is_refused_beside_the_field(cm_client, episode, care_manager):
    record_score(episode, "PHQ9", 14, days_ago(0), care_manager, item9=2)
    flag = safety_flag(episode)

    response = cm_client.post(reverse("registry:resolve_flag", args=[flag.pk]), assessment_post("follow_up_scheduled"))

    assert response.status_code == 200
    assert response.context["form"].errors["follow_up_in_days"] == ["Say in how many days the close follow-up is."]
    flag.refresh_from_db()
    assert flag.is_open


# --- the consultant notified ---------------------------------------------------------------


def test_consultant_notified_notifies_in_the_app_by_e_mail_on_the_list_and_agenda(
    cm_client, client, clinic, episode, care_manager, consultant, mailoutbox, django_capture_on_commit_callbacks
):
    other = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        patient__last_name="Aaronson",
        enrolled_on=days_ago(30),
    )
    services.raise_flag(episode=other, kind=Flag.Kind.NEW_PATIENT, reason="Not yet discussed.")  # first by name
    record_score(episode, "PHQ9", 14, days_ago(0), care_manager, item9=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = cm_client.post(
            reverse("registry:resolve_flag", args=[safety_flag(episode).pk]), assessment_post("safety_plan", NOTIFIED)
        )

    assert response.status_code == 302
    notice = Notification.objects.get()
    assert (notice.recipient, notice.episode, notice.read_at) == (consultant, episode, None)
    (mail,) = mailoutbox
    assert mail.to == ["chen@clinic.example"] and "North Clinic" in mail.body and "/notifications/" in mail.body
    for phi in ("Quintero", "Rosa", "A1001", "14", "moderate"):
        assert phi not in mail.body + mail.subject
    agenda = Agenda.objects.get()
    item = agenda.items.get(episode=episode)
    assert item.reasons == [Flag.Kind.SAFETY] and agenda.meets_on >= clinic_today(clinic)

    client.force_login(consultant)
    home = client.get(reverse("consults:agendas"))
    awaiting = [e.pk for e in home.context["awaiting"]]
    assert awaiting[0] == episode.pk and other.pk in awaiting
    assert 'Notices <span class="badge text-bg-danger">1' in home.content.decode()


def test_the_safety_review_clears_with_a_signed_review_after_the_assessment(client, episode, care_manager, consultant):
    from consults.services import record_case_review
    from consults.views import _consultant_home

    record_score(episode, "PHQ9", 14, days_ago(0), care_manager, item9=2)
    services.resolve_safety_flag(
        flag=safety_flag(episode),
        by=care_manager,
        risk_level="low",
        actions=[NOTIFIED],
        note="Told.",
        assessed_at=timezone.now(),
    )
    waiting = [e.pk for e in _consultant_home(consultant, timezone.localdate())["awaiting"]]

    record_case_review(
        episode=episode, reviewed_on=timezone.localdate(), consultant=consultant, summary="Ok.", by=consultant
    )

    after = [e.pk for e in _consultant_home(consultant, timezone.localdate())["awaiting"]]
    assert episode.pk in waiting and episode.pk not in after


def test_no_consultant_to_notify_is_an_error_beside_the_actions(cm_client, episode, care_manager, mailoutbox):
    episode.patient.psychiatric_consultant = None
    episode.patient.save()
    record_score(episode, "PHQ9", 14, days_ago(0), care_manager, item9=2)
    flag = safety_flag(episode)

    response = cm_client.post(reverse("registry:resolve_flag", args=[flag.pk]), assessment_post(NOTIFIED))

    assert response.status_code == 200
    assert "no psychiatric consultant to notify" in response.context["form"].errors["actions"][0]
    flag.refresh_from_db()
    assert flag.is_open and not Notification.objects.exists() and not mailoutbox


def test_notices_are_each_users_own(client, clinic, consultant):
    mine = Notification.objects.create(
        recipient=consultant, clinic=clinic, text="Safety review needed.", link="/caseload/", created_at=timezone.now()
    )
    colleague = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])
    client.force_login(colleague)

    listed = client.get(reverse("consults:notifications"))
    refused = client.post(reverse("consults:notification_read", args=[mine.pk]))

    assert "Safety review needed." not in listed.content.decode() and refused.status_code == 404
    client.force_login(consultant)
    assert "Safety review needed." in client.get(reverse("consults:notifications")).content.decode()
    opened = client.post(reverse("consults:notification_read", args=[mine.pk]), {"open": "1"})
    assert opened["Location"] == "/caseload/"
    mine.refresh_from_db()
    assert mine.read_at is not None


# --- no contact in the future, on the clinic's clock ---------------------------------------


def contact_form(clinic, day: str, time: str) -> ContactForm:
    data = {"contact_date": day, "contact_time": time, "kind": "follow_up", "with_whom": "patient", "mode": "phone"}
    return ContactForm(data | {"reached": "on", "minutes": "10"}, clinic=clinic)


def test_a_contact_later_today_than_now_on_the_clinics_clock_is_refused(monkeypatch):
    new_york = ClinicFactory(code="ny", timezone="America/New_York")
    now = datetime.datetime(2026, 3, 10, 8, 50, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    monkeypatch.setattr(timezone, "now", lambda: now.astimezone(datetime.UTC))

    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):  # the server's zone does not count
        later = contact_form(new_york, "2026-03-10", "10:30")
        earlier = contact_form(new_york, "2026-03-10", "08:30")
        tomorrow = contact_form(new_york, "2026-03-11", "08:00")

    assert later.errors["contact_time"] == ["The contact time cannot be in the future (it is 08:50 now)."]
    assert earlier.is_valid(), earlier.errors
    assert tomorrow.errors["contact_date"] == ["The contact date cannot be in the future."]
