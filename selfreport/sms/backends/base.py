"""What every SMS backend does, as django.core.mail.backends.base.BaseEmailBackend does for e-mail."""

from django.utils import timezone


class BaseSmsBackend:
    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages: list) -> int:
        """Send each message, set its provider_id, and return how many went."""
        raise NotImplementedError


def as_text(message) -> str:
    """The development backends' format: headers, a blank line, the body (docs/sms.md#file-backend)."""
    return f"To: {message.to}\nDate: {timezone.now().isoformat()}\n\n{message.body}\n"
