"""The patient's consent to texts, recorded by staff and withdrawn by staff or by the patient
replying STOP, through Twilio's signed webhook (docs/sms.md#consent, #stop-and-help)."""

import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from selfreport import consent, messaging, services
from selfreport.models import Invitation, TextConsent, TextOptOut
from selfreport.tests.helpers import AUTH_TOKEN, MOBILE, post_from_twilio, texting_episode
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(clinic, care_manager):
    return texting_episode(clinic, care_manager)


@pytest.fixture(autouse=True)
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN


def reply(client, body: str, number: str = MOBILE, **extra):
    return post_from_twilio(
        client, "selfreport:sms_inbound", {"From": number, "To": "+12065550000", "Body": body}, **extra
    )


# --- Recorded by staff --------------------------------------------------------------------


def test_care_manager_records_consent_with_the_number_in_e164(cm_client, clinic, care_manager):
    episode = EpisodeFactory(patient__clinic=clinic, patient__phone="206.555.0142")
    url = reverse("selfreport:text_consent", args=[episode.patient.pk])
    offered = cm_client.get(url).content.decode()

    response = cm_client.post(url, {"phone_number": "(206) 555-0142", "agreed": "on"})

    assert 'value="(206) 555-0142"' in offered  # the patient's phone, offered when it can take texts
    assert response.status_code == 302
    recorded = TextConsent.objects.get(patient=episode.patient)
    assert (recorded.phone_number, recorded.status, recorded.source) == ("+12065550142", "given", "staff")
    assert recorded.changed_by == care_manager
    assert recorded.history.get().history_user == care_manager
    episode.patient.refresh_from_db()
    assert episode.patient.phone == "206.555.0142"  # the demographics are the patients app's


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("555-12", "not a valid phone number"),
        ("call me", "Enter a phone number"),
        ("+1 800 555 1234", "cannot receive texts"),
    ],
)
def test_a_bad_number_is_shown_again_with_its_error_and_nothing_is_saved(cm_client, clinic, typed, error):
    episode = EpisodeFactory(patient__clinic=clinic)

    response = cm_client.post(
        reverse("selfreport:text_consent", args=[episode.patient.pk]), {"phone_number": typed, "agreed": "on"}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert error in page
    assert f'value="{typed}"' in page
    assert "checked" in page.split('name="agreed"')[1].split(">")[0]
    assert not TextConsent.objects.exists()


def test_consent_must_be_ticked(cm_client, clinic):
    episode = EpisodeFactory(patient__clinic=clinic)

    response = cm_client.post(
        reverse("selfreport:text_consent", args=[episode.patient.pk]), {"phone_number": "2065550142"}
    )

    assert response.status_code == 400
    assert "Tick this only when the patient has agreed" in response.content.decode()
    assert not TextConsent.objects.exists()


def test_a_read_only_role_sees_consent_and_its_history_but_cannot_change_it(client, clinic, episode):
    pcp = UserFactory(username="pcp", role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])
    client.force_login(pcp)
    url = reverse("selfreport:text_consent", args=[episode.patient.pk])

    page = client.get(url).content.decode()
    refused = client.post(url, {"phone_number": "2065550199", "agreed": "on"})
    withdraw = client.post(reverse("selfreport:text_withdraw", args=[episode.patient.pk]))

    assert "data-consent-history" in page and 'name="phone_number"' not in page
    assert (refused.status_code, withdraw.status_code) == (403, 403)
    assert TextConsent.objects.get().phone_number == MOBILE


def test_withdrawal_by_staff_stops_queued_texts_at_once_and_is_kept_in_the_history(
    cm_client, episode, care_manager, sms_outbox
):
    invitation, _ = services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager
    )  # queued: its task runs after the commit

    response = cm_client.post(reverse("selfreport:text_withdraw", args=[episode.patient.pk]))
    messaging.deliver(delivery_id=invitation.deliveries.get().pk)

    assert response.status_code == 302
    link = invitation.deliveries.get()
    assert (link.status, link.detail, sms_outbox) == ("not_sent", "consent withdrawn", [])
    page = cm_client.get(reverse("selfreport:text_consent", args=[episode.patient.pk])).content.decode()
    assert page.count("<tr><td>") == 2
    assert "Withdrawn" in page and "Recorded by staff" in page


# --- STOP, START, HELP through the webhook ------------------------------------------------


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Stop.", "STOPALL", "stop all", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
)
def test_stop_words(word):
    assert consent.keyword_of(word) == consent.STOP


@pytest.mark.parametrize(
    ("word", "keyword"), [("START", "start"), ("unstop", "start"), ("HELP", "help"), ("info", "help")]
)
def test_start_and_help_words(word, keyword):
    assert consent.keyword_of(word) == keyword


@pytest.mark.parametrize("body", ["please stop texting me", "", "I feel bad", "STOP!!! now"])
def test_a_sentence_is_no_keyword(body):
    assert consent.keyword_of(body) is None


def test_stop_withdraws_consent_and_the_next_scheduled_send_sends_nothing(
    client, cm_client, episode, care_manager, sms_outbox
):
    services.set_schedule(
        episode=episode, every_days=14, instruments=["PHQ9"], language="en", channel="sms", by=care_manager
    )
    today = timezone.localdate()
    assert services.due_schedules(today).count() == 1  # it would send, but for the STOP

    response = reply(client, "Stop")
    sent = services.send_due(today)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert "<Message>" not in response.content.decode()  # Twilio confirms STOP itself
    assert (sent, sms_outbox, Invitation.objects.count()) == (0, [], 0)
    stopped = TextConsent.objects.get()
    assert (stopped.status, stopped.source, stopped.changed_by) == ("withdrawn", "patient_stop", None)
    assert stopped.history.first().history_user is None
    page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    assert 'data-text-consent="withdrawn"' in page
    assert "Patient replied STOP on" in page
    assert "data-schedule-paused" in page


def test_stop_stops_texts_held_for_quiet_hours(client, episode, care_manager, sms_outbox):
    invitation, _ = services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager
    )

    reply(client, "STOP")
    messaging.deliver(delivery_id=invitation.deliveries.get().pk)

    assert invitation.deliveries.get().status == "not_sent"
    assert invitation.deliveries.get().detail == "patient replied STOP"
    assert sms_outbox == []


def test_stop_from_a_shared_phone_stops_texts_to_everyone_with_that_number(client, clinic, episode, care_manager):
    sibling = EpisodeFactory(patient__clinic=clinic)
    consent.record_text_consent(patient=sibling.patient, phone_number=MOBILE, by=care_manager)

    reply(client, "STOP")

    assert set(TextConsent.objects.values_list("status", flat=True)) == {"withdrawn"}


def test_after_stop_staff_cannot_record_consent_to_that_number_until_start(client, cm_client, episode, care_manager):
    reply(client, "STOP")
    url = reverse("selfreport:text_consent", args=[episode.patient.pk])

    refused = cm_client.post(url, {"phone_number": "(206) 555-0123", "agreed": "on"})
    reply(client, "START")

    assert refused.status_code == 400
    assert "replied STOP on" in refused.content.decode()
    restarted = TextConsent.objects.get()
    assert (restarted.status, restarted.source) == ("given", "patient_start")
    assert TextOptOut.objects.get().opted_out is False


def test_start_does_not_undo_a_withdrawal_by_staff(client, episode, care_manager):
    consent.withdraw_text_consent(patient=episode.patient, by=care_manager)

    reply(client, "STOP")
    reply(client, "UNSTOP")

    assert TextConsent.objects.get().source == "staff"
    assert TextConsent.objects.get().status == "withdrawn"


def test_help_answers_with_the_clinic_stop_and_the_crisis_line(client, episode):
    response = reply(client, "help")

    answer = response.content.decode()
    assert "<Message>" in answer
    assert episode.patient.clinic.name in answer and "STOP" in answer and "988" in answer
    assert TextConsent.objects.get().status == "given"


def test_any_other_reply_is_answered_that_replies_are_not_read_with_the_crisis_line(client, episode):
    response = reply(client, "I have been feeling really low")

    answer = response.content.decode()
    assert "not read" in answer and "988" in answer and "911" in answer


def test_help_from_an_unknown_number_names_no_clinic(client, episode):
    answer = reply(client, "HELP", number="+12065550188").content.decode()

    assert episode.patient.clinic.name not in answer and "988" in answer


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IGEgc2lnbmF0dXJl", "signed-with-another-token"],
    ids=["none", "empty", "wrong", "other"],
)
def test_inbound_without_twilios_signature_is_refused_and_changes_nothing(client, episode, signature):
    from selfreport.tests.helpers import post_from_twilio as signed

    params = {"From": MOBILE, "Body": "STOP"}
    if signature == "signed-with-another-token":
        response = signed(client, "selfreport:sms_inbound", params, token="another-token")
    else:
        headers = {} if signature is None else {"HTTP_X_TWILIO_SIGNATURE": signature}
        response = client.post(reverse("selfreport:sms_inbound"), params, **headers)

    assert response.status_code == 403
    assert TextConsent.objects.get().status == "given"


def test_a_signed_request_with_changed_parameters_is_refused(client, episode):
    from twilio.request_validator import RequestValidator

    url = reverse("selfreport:sms_inbound")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"http://127.0.0.1:8000{url}", {"Body": "HELP"})

    response = client.post(url, {"From": MOBILE, "Body": "STOP"}, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403


def test_without_the_auth_token_configured_every_request_is_refused(client, settings, episode):
    response = reply(client, "STOP")  # signed with the test token
    settings.TWILIO_AUTH_TOKEN = ""
    refused = post_from_twilio(client, "selfreport:sms_inbound", {"From": MOBILE, "Body": "START"}, token="")

    assert response.status_code == 200
    assert refused.status_code == 403
    assert TextConsent.objects.get().status == "withdrawn"


def test_the_webhook_needs_no_csrf_token_but_the_staff_pages_do(client, episode):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    assert reply(strict, "HELP").status_code == 200
    strict.force_login(episode.patient.care_manager)
    page = strict.post(reverse("selfreport:text_withdraw", args=[episode.patient.pk]))
    assert page.status_code == 403
    assert TextConsent.objects.get().status == "given"


def test_the_webhook_logs_no_number_message_or_link(client, episode, care_manager, caplog, sms_outbox):
    services.send_invitation(episode=episode, instruments=["PHQ9"], language="en", channel="sms", by=care_manager)

    with caplog.at_level(logging.DEBUG):
        reply(client, "I feel awful today")
        reply(client, "STOP")
        client.post(reverse("selfreport:sms_inbound"), {"From": MOBILE, "Body": "unsigned secret"})

    logged = caplog.text
    assert "Inbound text: opt-out" in logged
    for secret in (MOBILE, "2065550123", "awful", "unsigned secret", "/r/"):
        assert secret not in logged


def test_a_reply_can_be_played_from_the_command_line_in_development(episode):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("sms_reply", "(206) 555-0123", "STOP", stdout=out)
    call_command("sms_reply", "+12065550123", "HELP", stdout=out)

    assert TextConsent.objects.get().source == "patient_stop"
    assert "No answer from us" in out.getvalue() and "988" in out.getvalue()
