import pytest

from selfreport.sms.backends import locmem


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Texts go to a list, as e-mails go to mail.outbox: the provider's edge, in memory."""
    settings.SMS_BACKEND = "selfreport.sms.backends.locmem.SmsBackend"
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()
