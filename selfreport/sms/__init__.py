"""Sending text messages through a backend chosen in settings, as Django sends e-mail.

SMS_BACKEND names the backend's class by its dotted path (docs/sms.md#settings):
console and file for development, locmem for tests, Twilio for production. Every backend
takes a list of TextMessage and sets each one's provider_id; a failure is a TransientSmsError
(worth trying again later) or a PermanentSmsError (it will never go).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass
class TextMessage:
    to: str  # E.164
    body: str
    provider_id: str = ""  # the provider's id for it, once sent (for its status callbacks)


class SmsError(Exception):
    """A message the provider did not take; code is its error code, never the message or number."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class TransientSmsError(SmsError):
    """The provider is down, slow or throttling: the same message may go later."""


class PermanentSmsError(SmsError):
    """The provider refused the message itself (a bad or opted-out number): it never will go."""


def get_connection(backend: str | None = None, **kwargs):
    return import_string(backend or settings.SMS_BACKEND)(**kwargs)


def send_text(to: str, body: str) -> TextMessage:
    message = TextMessage(to=to, body=body)
    get_connection().send_messages([message])
    return message
