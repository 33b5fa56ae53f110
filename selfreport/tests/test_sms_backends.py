"""The SMS backends chosen by SMS_BACKEND, as Django's e-mail backends are (docs/sms.md#settings).

Twilio's is tested with its own client library pointed at a fake HTTP transport: the request
it would make is checked, and no request leaves the machine.
"""

import io
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from twilio.http import HttpClient
from twilio.http.response import Response

from selfreport import sms
from selfreport.sms.backends import console, filebased, locmem, twilio

SID = "AC" + "0" * 32


def test_the_backend_is_chosen_in_settings(settings):
    settings.SMS_BACKEND = "selfreport.sms.backends.console.SmsBackend"

    assert isinstance(sms.get_connection(stream=io.StringIO()), console.SmsBackend)
    assert isinstance(sms.get_connection("selfreport.sms.backends.locmem.SmsBackend"), locmem.SmsBackend)


def test_console_backend_writes_each_text():
    out = io.StringIO()

    sent = console.SmsBackend(stream=out).send_messages([sms.TextMessage("+12065550123", "Hello")])

    assert sent == 1
    assert out.getvalue().startswith("To: +12065550123\nDate: ")
    assert "\n\nHello\n" in out.getvalue()


def test_file_backend_writes_one_file_per_text(tmp_path, settings):
    settings.SMS_FILE_PATH = str(tmp_path / "texts")
    messages = [sms.TextMessage("+12065550123", "One"), sms.TextMessage("+12065550124", "Two")]

    filebased.SmsBackend().send_messages(messages)

    files = sorted((tmp_path / "texts").iterdir())
    assert [f.read_text().split("\n\n", 1)[1] for f in files] == ["One\n", "Two\n"]
    assert messages[0].provider_id == f"file-{files[0].stem}"


def test_file_backend_needs_its_directory(settings):
    settings.SMS_FILE_PATH = ""

    with pytest.raises(ImproperlyConfigured, match="SMS_FILE_PATH"):
        filebased.SmsBackend()


class FakeTwilioHttp(HttpClient):
    """Twilio's HTTP transport, answering as its API does, and keeping what was asked."""

    def __init__(self, status: int = 201, body: dict | None = None, error: Exception | None = None):
        super().__init__(logger=None, is_async=False)
        self.status, self.error, self.requests = status, error, []
        self.body = body or {"sid": "SM" + "1" * 32, "status": "queued"}

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, **kwargs):
        self.requests.append({"method": method, "url": url, "data": data, "auth": auth})
        if self.error:
            raise self.error
        return Response(self.status, json.dumps(self.body))


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = "secret-token"
    settings.TWILIO_FROM_NUMBER = "+12065550000"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.CAREREG_BASE_URL = "https://carereg.example.org"
    return settings


def test_twilio_backend_sends_through_twilios_messages_api(twilio_settings):
    http = FakeTwilioHttp()
    message = sms.TextMessage("+12065550123", "North Clinic: your care team asks...")

    twilio.SmsBackend(http_client=http).send_messages([message])

    (request,) = http.requests
    assert request["method"] == "POST"
    assert request["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["auth"] == (SID, "secret-token")
    assert request["data"]["To"] == "+12065550123"
    assert request["data"]["From"] == "+12065550000"
    assert request["data"]["Body"] == message.body
    assert request["data"]["StatusCallback"] == "https://carereg.example.org/sms/twilio/status/"
    assert message.provider_id == "SM" + "1" * 32


def test_twilio_backend_can_send_from_a_messaging_service(twilio_settings):
    twilio_settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "2" * 32
    http = FakeTwilioHttp()

    twilio.SmsBackend(http_client=http).send_messages([sms.TextMessage("+12065550123", "Hi")])

    assert http.requests[0]["data"]["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in http.requests[0]["data"]


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (500, {"code": 20500, "message": "Internal error", "status": 500}, sms.TransientSmsError, "twilio-20500"),
        (503, {}, sms.TransientSmsError, "twilio-503"),
        (429, {"code": 20429, "message": "Too many requests", "status": 429}, sms.TransientSmsError, "twilio-20429"),
        (
            400,
            {"code": 21211, "message": "The 'To' number +12065550123 is not valid", "status": 400},
            sms.PermanentSmsError,
            "twilio-21211",
        ),
        (
            400,
            {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
            sms.PermanentSmsError,
            "twilio-21610",
        ),
    ],
)
def test_twilio_errors_are_transient_or_permanent_and_keep_only_their_code(twilio_settings, status, body, error, code):
    http = FakeTwilioHttp(status=status, body=body)

    with pytest.raises(error) as raised:
        twilio.SmsBackend(http_client=http).send_messages([sms.TextMessage("+12065550123", "Hi")])

    assert raised.value.code == code
    assert "+12065550123" not in str(raised.value)


def test_twilio_unreachable_is_transient(twilio_settings):
    import requests

    http = FakeTwilioHttp(error=requests.ConnectionError("Connection refused"))

    with pytest.raises(sms.TransientSmsError, match="ConnectionError"):
        twilio.SmsBackend(http_client=http).send_messages([sms.TextMessage("+12065550123", "Hi")])


def test_twilio_backend_refuses_to_start_without_its_settings(twilio_settings):
    twilio_settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(ImproperlyConfigured, match="TWILIO_AUTH_TOKEN"):
        twilio.SmsBackend(http_client=FakeTwilioHttp())
