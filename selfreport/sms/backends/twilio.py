"""Texts through Twilio's Programmable Messaging, with its official client library, and the
check of the signature Twilio puts on its webhooks (docs/sms.md#twilio).

Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, and TWILIO_MESSAGING_SERVICE_SID or
TWILIO_FROM_NUMBER. Each message asks Twilio to report its delivery to our status callback.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from selfreport.sms import PermanentSmsError, TransientSmsError
from selfreport.sms.backends.base import BaseSmsBackend

TIMEOUT_SECONDS = 10  # a worker holds the message's row while it waits: never for long


def public_url(view_name: str) -> str:
    """The address Twilio calls (and signs): ours as the world sees it, not as the proxy passes it on."""
    return settings.CAREREG_BASE_URL.rstrip("/") + reverse(view_name)


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, http_client=None, **kwargs):
        super().__init__(**kwargs)
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        if not (sid and token and (settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER)):
            raise ImproperlyConfigured(
                "The Twilio SMS backend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER."
            )
        self.client = Client(sid, token, http_client=http_client or TwilioHttpClient(timeout=TIMEOUT_SECONDS))

    def send_messages(self, messages: list) -> int:
        for message in messages:
            message.provider_id = self._send(message)
        return len(messages)

    def _send(self, message) -> str:
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            sender = {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        else:
            sender = {"from_": settings.TWILIO_FROM_NUMBER}
        try:
            created = self.client.messages.create(
                to=message.to, body=message.body, status_callback=public_url("selfreport:sms_status"), **sender
            )
        except TwilioException as error:
            # The error's text may quote the number: only its code is kept.
            status, code = getattr(error, "status", None), getattr(error, "code", None)
            if status is None or status == 429 or status >= 500:
                raise TransientSmsError(f"twilio-{code or status or 'error'}") from None
            raise PermanentSmsError(f"twilio-{code or status}") from None
        except OSError as error:  # requests' connection errors and timeouts are OSErrors
            raise TransientSmsError(type(error).__name__) from None
        return created.sid


def request_is_from_twilio(request) -> bool:
    """Whether the webhook request carries Twilio's signature of our URL and its parameters.

    Without TWILIO_AUTH_TOKEN nothing can be checked, so nothing is accepted.
    """
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = public_url(request.resolver_match.view_name)
    return RequestValidator(token).validate(url, request.POST, signature)
