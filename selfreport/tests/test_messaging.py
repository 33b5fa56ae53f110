"""Links and reminders by text: the message, quiet hours, retries, delivery reports, and the
patient answering from a text (docs/sms.md)."""

import datetime
import re
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from registry.models import Measurement
from selfreport import messaging, services
from selfreport.models import Delivery, Invitation, MessagingSettings, Schedule
from selfreport.sms import PermanentSmsError, TransientSmsError
from selfreport.sms.backends.base import BaseSmsBackend
from selfreport.tests.helpers import (
    AUTH_TOKEN,
    MOBILE,
    answer_the_link,
    link_path,
    post_from_twilio,
    texting_episode,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(clinic, care_manager):
    return texting_episode(clinic, care_manager)


@pytest.fixture
def file_backend(settings, tmp_path):
    settings.SMS_BACKEND = "selfreport.sms.backends.filebased.SmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "texts")
    return tmp_path / "texts"


def text_link(episode, care_manager, capture, **options) -> Invitation:
    with capture(execute=True):
        invitation, token = services.send_invitation(
            episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager, **options
        )
    assert token is None  # a text's token is made when it is sent, by the worker
    return invitation


def test_texted_link_is_answered_end_to_end_with_the_file_backend(
    client, episode, care_manager, file_backend, django_capture_on_commit_callbacks
):
    invitation = text_link(episode, care_manager, django_capture_on_commit_callbacks)

    (sent,) = file_backend.iterdir()
    text = sent.read_text()
    response = answer_the_link(client, link_path(text), [2, 2, 2, 1, 1, 1, 1, 1, 0])

    assert text.startswith(f"To: {MOBILE}\n")
    assert response["Location"].endswith("/done/")
    phq9 = Measurement.objects.get(episode=episode)
    assert (phq9.total, phq9.source) == (11, "self_report")
    link = invitation.deliveries.get()
    assert (link.status, link.to, link.provider_message_id) == ("sent", MOBILE, f"file-{sent.stem}")
    assert link_path(text).split("/")[2] not in str(Delivery.objects.values().get())  # only the hash is kept


def test_text_holds_the_clinic_link_expiry_and_stop_and_no_clinical_data(
    episode, care_manager, sms_outbox, django_capture_on_commit_callbacks
):
    invitation = text_link(episode, care_manager, django_capture_on_commit_callbacks)

    (message,) = sms_outbox
    expires = timezone.localtime(invitation.expires_at, zoneinfo.ZoneInfo(episode.patient.clinic.timezone)).date()
    assert message.to == MOBILE
    assert episode.patient.clinic.name in message.body
    assert expires.isoformat() in message.body
    assert "Reply STOP to stop" in message.body
    assert link_path(message.body).startswith("/r/")
    for secret in ("Rosa", "Delgado", episode.patient.mrn, "PHQ", "GAD", "depress", "anxi", "score"):
        assert secret.lower() not in message.body.lower()


def test_text_in_spanish(episode, care_manager, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitation(episode=episode, instruments=["PHQ9"], language="es", channel="sms", by=care_manager)

    assert "Responda STOP" in sms_outbox[0].body


def test_a_text_needs_the_patients_consent(episode, care_manager, sms_outbox):
    from selfreport import consent

    consent.withdraw_text_consent(patient=episode.patient, by=care_manager)

    with pytest.raises(Exception) as refused:
        services.send_invitation(episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager)

    assert "not agreed to texts" in str(refused.value)
    assert not Invitation.objects.exists()


def test_care_manager_texts_a_link_from_the_patient_page(
    cm_client, episode, sms_outbox, django_capture_on_commit_callbacks
):
    page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    assert 'data-text-consent="given"' in page and "(206) 555-0123" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = cm_client.post(
            reverse("selfreport:send", args=[episode.patient.pk]),
            {"instruments": ["PHQ9"], "language": "en", "channel": "sms", "email": "", "every_days": "28"},
        )

    assert response.status_code == 302
    assert Invitation.objects.get().channel == "sms"
    assert Schedule.objects.get().channel == "sms"
    assert len(sms_outbox) == 1 and not mail.outbox
    page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    assert 'data-delivery="link" data-delivery-status="sent"' in page
    assert "by text message every 28 days" in page


def test_texting_without_consent_shows_the_form_again_with_the_error_beside_the_channel(
    cm_client, clinic, care_manager
):
    from tests.factories import EpisodeFactory

    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager)
    data = {"instruments": ["GAD7"], "language": "es", "channel": "sms", "email": "typed@example.org"}

    response = cm_client.post(reverse("selfreport:send", args=[episode.patient.pk]), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert "has not agreed to texts" in page
    assert 'value="typed@example.org"' in page
    assert re.search(r'value="GAD7"[^>]*checked', page) and not re.search(r'value="PHQ9"[^>]*checked', page)
    assert re.search(r'value="es"[^>]*selected', page)
    assert not Invitation.objects.exists()


def test_an_email_link_needs_an_address_and_nothing_is_sent_without_one(cm_client, episode):
    response = cm_client.post(
        reverse("selfreport:send", args=[episode.patient.pk]),
        {"instruments": ["PHQ9"], "language": "en", "channel": "email", "email": ""},
    )

    assert response.status_code == 400
    assert "has no e-mail address" in response.content.decode()
    assert not Invitation.objects.exists()


# --- Quiet hours --------------------------------------------------------------------------


def quiet_now(clinic) -> MessagingSettings:
    """Quiet hours from an hour ago to an hour from now, in the clinic's time."""
    local = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(clinic.timezone)).replace(second=0, microsecond=0)
    hours = MessagingSettings.for_clinic(clinic)
    hours.quiet_hours_start = (local - datetime.timedelta(hours=1)).time()
    hours.quiet_hours_end = (local + datetime.timedelta(hours=1)).time()
    hours.save()
    return hours


def test_text_due_in_quiet_hours_is_held_until_they_end_then_sent(
    cm_client, clinic, episode, care_manager, sms_outbox, django_capture_on_commit_callbacks
):
    hours = quiet_now(clinic)

    invitation = text_link(episode, care_manager, django_capture_on_commit_callbacks)
    link = invitation.deliveries.get()
    page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    messaging.deliver(delivery_id=link.pk, now=link.send_after - datetime.timedelta(minutes=1))
    before_the_end = len(sms_outbox)
    messaging.deliver(delivery_id=link.pk, now=link.send_after)

    assert before_the_end == 0
    assert timezone.localtime(link.send_after, zoneinfo.ZoneInfo(clinic.timezone)).time() == hours.quiet_hours_end
    assert link.send_after > timezone.now()
    assert "(quiet hours)" in page
    assert len(sms_outbox) == 1
    link.refresh_from_db()
    assert link.status == "sent"


def test_a_queued_text_that_meets_quiet_hours_at_sending_waits_again(clinic, episode, care_manager, sms_outbox):
    invitation, _ = services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager
    )  # queued, not yet sent (its task runs after commit)
    quiet_now(clinic)

    messaging.deliver(delivery_id=invitation.deliveries.get().pk)

    link = invitation.deliveries.get()
    assert (link.status, sms_outbox) == ("queued", [])
    assert link.send_after > timezone.now()


def test_emails_are_not_held_by_quiet_hours(clinic, episode, care_manager, django_capture_on_commit_callbacks):
    quiet_now(clinic)

    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitation(
            episode=episode, instruments=["PHQ9"], language="en", email="p@example.org", by=care_manager
        )

    assert len(mail.outbox) == 1


def test_the_periodic_job_sends_texts_whose_wait_is_over(
    episode, care_manager, sms_outbox, django_capture_on_commit_callbacks
):
    invitation, _ = services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager
    )  # its task was to run after a commit that never came (the broker was down, say)
    Delivery.objects.update(send_after=timezone.now() - datetime.timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        first = messaging.send_due(timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        second = messaging.send_due(timezone.now())

    assert (first, second) == (1, 0)
    assert len(sms_outbox) == 1
    assert invitation.deliveries.get().status == "sent"


# --- Retries and failures -----------------------------------------------------------------


class FlakyBackend(BaseSmsBackend):
    """The provider's edge: fails as told, then takes messages."""

    failures: list = []
    sent: list = []

    def send_messages(self, messages):
        if FlakyBackend.failures:
            raise FlakyBackend.failures.pop(0)
        FlakyBackend.sent.extend(messages)
        return len(messages)


@pytest.fixture
def flaky(settings):
    settings.SMS_BACKEND = "selfreport.tests.test_messaging.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.sent = [], []
    return FlakyBackend


def queued_text(episode, care_manager) -> Delivery:
    invitation, _ = services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager
    )
    return invitation.deliveries.get()


def test_transient_provider_error_is_tried_again_later_and_then_sent(episode, care_manager, flaky):
    flaky.failures = [TransientSmsError("twilio-503")]
    link = queued_text(episode, care_manager)

    wait = messaging.deliver(delivery_id=link.pk)
    link.refresh_from_db()
    waiting = (link.status, link.attempts, link.detail, link.token_hash)
    messaging.deliver(delivery_id=link.pk, now=link.send_after)

    assert wait == messaging.FIRST_RETRY_SECONDS
    assert waiting == ("queued", 1, "twilio-503", None)
    link.refresh_from_db()
    assert (link.status, link.attempts, len(flaky.sent)) == ("sent", 2, 1)


def test_the_task_retries_a_transient_error_without_failing(episode, care_manager, flaky):
    flaky.failures = [TransientSmsError("twilio-503")]
    link = queued_text(episode, care_manager)

    messaging.send_text_message.delay(link.pk)  # in-process: no retry, the text waits for the next run

    link.refresh_from_db()
    assert (link.status, link.attempts) == ("queued", 1)
    assert link.send_after > timezone.now()


def test_a_text_fails_after_the_last_attempt(episode, care_manager, flaky):
    flaky.failures = [TransientSmsError("twilio-500")] * messaging.MAX_ATTEMPTS
    link = queued_text(episode, care_manager)

    for _ in range(messaging.MAX_ATTEMPTS):
        link.refresh_from_db()
        messaging.deliver(delivery_id=link.pk, now=link.send_after)

    link.refresh_from_db()
    assert (link.status, link.attempts, link.detail) == ("failed", messaging.MAX_ATTEMPTS, "twilio-500")
    assert messaging.send_due(timezone.now() + datetime.timedelta(days=1)) == 0


def test_a_refused_text_fails_at_once(cm_client, episode, care_manager, flaky):
    flaky.failures = [PermanentSmsError("twilio-21211")]
    link = queued_text(episode, care_manager)

    messaging.deliver(delivery_id=link.pk)

    link.refresh_from_db()
    assert (link.status, link.detail) == ("failed", "twilio-21211")
    page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    assert 'data-delivery-status="failed"' in page and "twilio-21211" in page


def test_a_text_whose_link_was_answered_or_cancelled_meanwhile_is_not_sent(episode, care_manager, sms_outbox):
    link = queued_text(episode, care_manager)
    services.cancel_invitation(invitation=link.invitation, by=care_manager)

    messaging.deliver(delivery_id=link.pk)

    link.refresh_from_db()
    assert (link.status, link.detail, sms_outbox) == ("not_sent", "link cancelled", [])


def test_no_text_and_no_reminder_once_the_patient_is_discharged(episode, care_manager, sms_outbox):
    from patients.services import change_status

    link = queued_text(episode, care_manager)
    change_status(
        episode=episode, status="discharged", on=timezone.localdate(), by=care_manager, discharge_reason="moved"
    )

    messaging.deliver(delivery_id=link.pk)
    expiring_in(link.invitation, hours=1)
    Delivery.objects.filter(pk=link.pk).update(status="sent", sent_at=timezone.now(), to=MOBILE)

    assert (Delivery.objects.get(pk=link.pk).detail, sms_outbox) == ("patient discharged", [])
    assert messaging.create_due_reminders(timezone.now()) == 0


def test_a_text_goes_to_the_consents_number_as_it_is_when_sent(episode, care_manager, sms_outbox):
    from selfreport import consent

    link = queued_text(episode, care_manager)
    consent.record_text_consent(patient=episode.patient, phone_number="206 555 0199", by=care_manager)

    messaging.deliver(delivery_id=link.pk)

    assert sms_outbox[0].to == "+12065550199"


# --- Delivery reports (Twilio's status callback) ------------------------------------------


@pytest.fixture
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN


def sent_text(episode, care_manager) -> Delivery:
    link = queued_text(episode, care_manager)
    messaging.deliver(delivery_id=link.pk)
    link.refresh_from_db()
    return link


def test_delivery_report_marks_the_text_delivered(client, episode, care_manager, sms_outbox, twilio_token):
    link = sent_text(episode, care_manager)

    response = post_from_twilio(
        client, "selfreport:sms_status", {"MessageSid": link.provider_message_id, "MessageStatus": "delivered"}
    )
    late = post_from_twilio(
        client, "selfreport:sms_status", {"MessageSid": link.provider_message_id, "MessageStatus": "sent"}
    )

    assert (response.status_code, late.status_code) == (204, 204)
    link.refresh_from_db()
    assert link.status == "delivered"  # a late "sent" does not undo it


def test_undelivered_report_marks_the_text_failed_with_its_code(
    client, episode, care_manager, sms_outbox, twilio_token
):
    link = sent_text(episode, care_manager)

    post_from_twilio(
        client,
        "selfreport:sms_status",
        {"MessageSid": link.provider_message_id, "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )

    link.refresh_from_db()
    assert (link.status, link.detail) == ("failed", "undelivered 30003")


def test_unsigned_delivery_report_is_refused(client, episode, care_manager, sms_outbox, twilio_token):
    link = sent_text(episode, care_manager)

    response = client.post(
        reverse("selfreport:sms_status"), {"MessageSid": link.provider_message_id, "MessageStatus": "failed"}
    )

    assert response.status_code == 403
    link.refresh_from_db()
    assert link.status == "sent"


# --- Reminders ----------------------------------------------------------------------------


def expiring_in(invitation: Invitation, hours: int) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + datetime.timedelta(hours=hours))


def test_one_reminder_by_text_before_the_link_expires_and_its_link_opens_the_same_questionnaire(
    client, episode, care_manager, sms_outbox, django_capture_on_commit_callbacks
):
    invitation = text_link(episode, care_manager, django_capture_on_commit_callbacks)
    not_yet = messaging.create_due_reminders(timezone.now())  # 7 days left; reminders at 2
    expiring_in(invitation, hours=47)

    made = messaging.create_due_reminders(timezone.now())
    again = messaging.create_due_reminders(timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        messaging.send_due(timezone.now())
        messaging.send_due(timezone.now())

    assert (not_yet, made, again) == (0, 1, 0)
    first, reminder = sms_outbox
    assert "your questionnaire is waiting" in reminder.body and "Reply STOP" in reminder.body
    assert link_path(reminder.body) != link_path(first.body)
    assert answer_the_link(client, link_path(reminder.body), [0] * 9)["Location"].endswith("/done/")
    assert Measurement.objects.get(episode=episode).total == 0
    assert invitation.deliveries.get(kind="reminder").status == "sent"


def test_reminder_by_email_for_an_emailed_link(episode, care_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = services.send_invitation(
            episode=episode, instruments=["PHQ9"], language="en", email="p@example.org", by=care_manager
        )
    expiring_in(invitation, hours=24)

    messaging.create_due_reminders(timezone.now())
    messaging.send_due(timezone.now())

    assert [m.subject for m in mail.outbox] == ["A questionnaire from your care team", "Your questionnaire is waiting"]
    assert mail.outbox[1].to == ["p@example.org"]


def test_no_reminder_for_an_answered_link_or_when_the_clinic_chose_none(
    clinic, episode, care_manager, sms_outbox, django_capture_on_commit_callbacks
):
    answered = text_link(episode, care_manager, django_capture_on_commit_callbacks)
    Invitation.objects.filter(pk=answered.pk).update(used_at=timezone.now())
    expiring_in(answered, hours=1)
    other = text_link(episode, care_manager, django_capture_on_commit_callbacks)
    expiring_in(other, hours=1)
    MessagingSettings.objects.filter(clinic=clinic).update(reminder_days_before_expiry=0)

    assert messaging.create_due_reminders(timezone.now()) == 0
    MessagingSettings.objects.filter(clinic=clinic).update(reminder_days_before_expiry=1)
    assert messaging.create_due_reminders(timezone.now()) == 1  # the pending one only


def test_no_reminder_for_a_link_never_sent(episode, care_manager, flaky):
    flaky.failures = [PermanentSmsError("twilio-21211")]
    link = queued_text(episode, care_manager)
    messaging.deliver(delivery_id=link.pk)
    expiring_in(link.invitation, hours=1)

    assert messaging.create_due_reminders(timezone.now()) == 0


def test_the_due_messages_task_makes_reminders_and_sends_them(
    episode, care_manager, sms_outbox, django_capture_on_commit_callbacks
):
    from selfreport.tasks import send_due_messages

    invitation = text_link(episode, care_manager, django_capture_on_commit_callbacks)
    expiring_in(invitation, hours=3)

    with django_capture_on_commit_callbacks(execute=True):
        send_due_messages.delay()
    with django_capture_on_commit_callbacks(execute=True):
        send_due_messages.delay()

    assert len(sms_outbox) == 2
    assert invitation.deliveries.count() == 2


# --- The patient page ---------------------------------------------------------------------


def count_page_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_panels_queries_do_not_grow_with_the_links(cm_client, episode, care_manager, sms_outbox):
    url = reverse("patients:detail", args=[episode.patient.pk])
    services.send_invitation(episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager)
    cm_client.get(url)
    one = count_page_queries(cm_client, url)
    for _ in range(6):
        invitation, _ = services.send_invitation(
            episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager
        )
        messaging.deliver(delivery_id=invitation.deliveries.get().pk)
    expiring_in(invitation, hours=1)
    messaging.create_due_reminders(timezone.now())
    messaging.send_due(timezone.now())

    many = count_page_queries(cm_client, url)
    page = cm_client.get(url).content.decode()

    assert one == many
    assert page.count("data-invitation-state=") == 5
    assert 'data-delivery="reminder"' in page
