"""What the self-report tests share: a patient who agreed to texts, and Twilio's signature."""

import datetime
import re
from urllib.parse import urlparse

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from patients.models import Episode
from selfreport import consent
from selfreport.models import MessagingSettings
from tests.factories import EpisodeFactory

BIRTH_DATE = datetime.date(1980, 5, 17)
MOBILE = "+12065550123"
AUTH_TOKEN = "test-twilio-auth-token"


def texting_episode(clinic, care_manager) -> Episode:
    """An active patient who agreed to texts at MOBILE, in a clinic without quiet hours (so the
    tests do not depend on the hour they run at; quiet hours are tested on their own)."""
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__birth_date=BIRTH_DATE,
        patient__first_name="Rosa",
        patient__last_name="Delgado",
        patient__phone="(206) 555-0123",
        status=Episode.Status.ACTIVE,
        enrolled_on=timezone.localdate() - datetime.timedelta(days=40),
    )
    MessagingSettings.objects.create(
        clinic=clinic, quiet_hours_start=datetime.time(0, 0), quiet_hours_end=datetime.time(0, 0)
    )
    consent.record_text_consent(patient=episode.patient, phone_number="(206) 555-0123", by=care_manager)
    return episode


def link_path(text: str) -> str:
    """The path of the questionnaire link in a message."""
    url = re.search(r"https?://\S+/r/[\w-]+/", text).group(0)
    return urlparse(url).path


def answers(prefix: str, values: list[int]) -> dict:
    return {f"{prefix}-item_{n}": str(v) for n, v in enumerate(values, start=1)}


def answer_the_link(client, path: str, phq9: list[int]):
    """As the patient does: the birth date, then the questions."""
    confirmed = client.post(path, {"birth_date": BIRTH_DATE.isoformat()})
    assert confirmed.status_code == 302, confirmed.content.decode()[:500]
    return client.post(confirmed["Location"], answers("phq9", phq9))


def post_from_twilio(client, view_name: str, params: dict, token: str = AUTH_TOKEN, **extra):
    """A webhook request as Twilio sends it: form-encoded and signed with the account's token."""
    url = reverse(view_name)
    signature = RequestValidator(token).compute_signature(settings.CAREREG_BASE_URL.rstrip("/") + url, params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature, **extra)
