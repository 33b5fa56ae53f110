"""A patient answers a questionnaire from an e-mailed link, without an account
(docs/user-guide.md#patient-self-report)."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from patients.models import Episode
from registry.models import Flag, Measurement
from selfreport import services
from selfreport.models import MAX_BIRTH_DATE_ATTEMPTS, Invitation, Schedule
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db
BIRTH_DATE = datetime.date(1980, 5, 17)


@pytest.fixture
def episode(clinic, care_manager):
    return EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__birth_date=BIRTH_DATE,
        patient__email="pat@example.org",
        patient__first_name="Rosa",
        patient__last_name="Delgado",
        status=Episode.Status.ACTIVE,
        enrolled_on=timezone.localdate() - datetime.timedelta(days=40),
    )


@pytest.fixture
def link(episode, care_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.send_invitation(
            episode=episode, instruments=["PHQ9", "GAD7"], language="en", email="pat@example.org", by=care_manager
        )
    return invitation, token


def answers(prefix: str, values: list[int]) -> dict:
    return {f"{prefix}-item_{n}": str(v) for n, v in enumerate(values, start=1)}


def confirm(client, token, birth_date=BIRTH_DATE):
    return client.post(reverse("selfreport:start", args=[token]), {"birth_date": birth_date.isoformat()})


def test_email_holds_the_link_and_no_clinical_data(link, episode):
    _, token = link

    message = mail.outbox[0]
    assert message.to == ["pat@example.org"]
    assert reverse("selfreport:start", args=[token]) in message.body
    for secret in ("Rosa", "Delgado", "PHQ", "GAD", "depress", "anxi", episode.patient.mrn):
        assert secret.lower() not in (message.subject + message.body).lower()


def test_only_a_hash_of_the_token_is_stored(link):
    invitation, token = link

    assert token not in str(Invitation.objects.values().get(pk=invitation.pk))
    assert services.find_invitation(token) == invitation


def test_patient_answers_without_logging_in_and_the_scores_land_as_self_report(client, link, episode, care_manager):
    invitation, token = link

    assert confirm(client, token)["Location"] == reverse("selfreport:questions", args=[token])
    response = client.post(
        reverse("selfreport:questions", args=[token]),
        {**answers("phq9", [2, 2, 2, 1, 1, 1, 1, 1, 0]), **answers("gad7", [1, 1, 1, 1, 1, 1, 1])},
    )

    assert response["Location"] == reverse("selfreport:done", args=[token])
    phq9 = Measurement.objects.get(instrument="PHQ9")
    assert (phq9.total, phq9.band, phq9.source) == (11, "moderate", "self_report")
    assert Measurement.objects.get(instrument="GAD7").total == 7
    episode.refresh_from_db()
    assert episode.phq9_latest == 11
    invitation.refresh_from_db()
    assert invitation.used_at is not None
    assert not Flag.objects.filter(kind="safety").exists()


def test_item9_raises_the_safety_flag_at_once_and_shows_crisis_resources(client, link, episode):
    _, token = link
    confirm(client, token)

    client.post(
        reverse("selfreport:questions", args=[token]),
        {**answers("phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1]), **answers("gad7", [0] * 7)},
    )
    done = client.get(reverse("selfreport:done", args=[token])).content.decode()

    assert Flag.objects.get(kind="safety", resolved_at__isnull=True).episode == episode
    assert "data-crisis" in done and "988" in done


def test_link_works_once(client, link):
    _, token = link
    confirm(client, token)
    data = {**answers("phq9", [0] * 9), **answers("gad7", [0] * 7)}
    client.post(reverse("selfreport:questions", args=[token]), data)

    again = client.post(reverse("selfreport:questions", args=[token]), data)

    assert again.status_code == 410
    assert Measurement.objects.count() == 2


def test_expired_link_is_refused(client, link):
    invitation, token = link
    now = timezone.now()
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=now - datetime.timedelta(days=8), expires_at=now - datetime.timedelta(seconds=1)
    )

    response = client.get(reverse("selfreport:start", args=[token]))

    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_unknown_token_is_not_found(client, db):
    assert client.get(reverse("selfreport:start", args=["not-a-token"])).status_code == 404


def test_questions_need_the_birth_date_first(client, link):
    _, token = link

    response = client.get(reverse("selfreport:questions", args=[token]))

    assert response["Location"] == reverse("selfreport:start", args=[token])


def test_wrong_birth_dates_lock_the_link(client, link):
    invitation, token = link
    wrong = BIRTH_DATE + datetime.timedelta(days=1)

    for _ in range(MAX_BIRTH_DATE_ATTEMPTS - 1):
        assert "does not match" in confirm(client, token, wrong).content.decode()
    last = confirm(client, token, wrong)
    after = confirm(client, token)  # even the right date, now

    assert last.status_code == after.status_code == 410
    assert "locked" in after.content.decode()
    invitation.refresh_from_db()
    assert invitation.locked_at is not None


def test_every_question_must_be_answered_and_nothing_is_saved_otherwise(client, link):
    _, token = link
    confirm(client, token)
    data = {**answers("phq9", [1] * 9), **answers("gad7", [1] * 7)}
    del data["phq9-item_4"]

    response = client.post(reverse("selfreport:questions", args=[token]), data)

    assert "Please answer question 4." in response.content.decode()
    assert not Measurement.objects.exists()


def test_questionnaire_in_spanish(client, episode, care_manager):
    _, token = services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="es", email="pat@example.org", by=care_manager
    )
    confirm(client, token)

    page = client.get(reverse("selfreport:questions", args=[token])).content.decode()

    assert 'lang="es"' in page
    assert "Poco interés o placer en hacer cosas" in page and "Casi todos los días" in page


def test_patient_can_switch_to_spanish(client, link):
    _, token = link
    confirm(client, token)

    client.post(reverse("selfreport:language", args=[token]), {"language": "es"})

    assert "Durante las últimas 2 semanas" in client.get(reverse("selfreport:questions", args=[token])).content.decode()


# --- The care manager's side ------------------------------------------------------------------


def test_care_manager_sends_a_link_from_the_patient_page(cm_client, episode, django_capture_on_commit_callbacks):
    page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    assert reverse("selfreport:send", args=[episode.patient.pk]) in page

    with django_capture_on_commit_callbacks(execute=True):
        response = cm_client.post(
            reverse("selfreport:send", args=[episode.patient.pk]),
            {
                "instruments": ["PHQ9"],
                "language": "en",
                "channel": "email",
                "email": "pat@example.org",
                "every_days": "14",
            },
        )

    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.instruments, invitation.episode) == (["PHQ9"], episode)
    assert Schedule.objects.get(episode=episode).every_days == 14
    assert len(mail.outbox) == 1
    assert re.search(r"/r/[\w-]{40,}/", mail.outbox[0].body)


def test_another_clinics_patient_is_not_found(client, other_clinic, episode):
    from tests.factories import UserFactory

    client.force_login(UserFactory(clinics=[other_clinic]))

    response = client.post(
        reverse("selfreport:send", args=[episode.patient.pk]),
        {"instruments": ["PHQ9"], "language": "en", "email": "x@example.org"},
    )

    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_scheduled_links_go_out_once_per_due_date(episode, care_manager):
    services.set_schedule(episode=episode, every_days=14, instruments=["PHQ9"], language="en", by=care_manager)
    today = timezone.localdate()

    first = services.send_due(today)
    second = services.send_due(today)

    assert (first, second) == (1, 0)
    assert Schedule.objects.get().next_due_on == today + datetime.timedelta(days=14)
    assert Invitation.objects.get().origin == "scheduled"


def test_schedule_waits_while_a_link_is_pending_and_skips_relapse_prevention(episode, care_manager, link):
    services.set_schedule(episode=episode, every_days=14, instruments=["PHQ9"], language="en", by=care_manager)
    today = timezone.localdate()

    assert services.send_due(today) == 0  # the link sent by hand is still pending
    Invitation.objects.update(used_at=timezone.now())
    Episode.objects.filter(pk=episode.pk).update(status="relapse_prevention")
    assert services.send_due(today) == 0
    Episode.objects.filter(pk=episode.pk).update(status="active")
    assert services.send_due(today) == 1


def test_an_epds_sent_by_link_shows_its_own_answers_and_item_10_calls_for_crisis_help(client, episode, care_manager):
    _, token = services.send_invitation(
        episode=episode, instruments=["EPDS"], language="en", email="pat@example.org", by=care_manager
    )
    confirm(client, token)
    page = client.get(reverse("selfreport:questions", args=[token])).content.decode()

    client.post(reverse("selfreport:questions", args=[token]), answers("epds", [0] * 9 + [1]))
    done = client.get(reverse("selfreport:done", args=[token])).content.decode()

    assert "The thought of harming myself has occurred to me" in page and "Hardly ever" in page
    stored = Measurement.objects.get()
    assert (stored.instrument, stored.total, stored.item_10, stored.source) == ("EPDS", 1, 1, "self_report")
    assert Flag.objects.get(kind="safety", resolved_at__isnull=True).measurement == stored
    assert "data-crisis" in done and "988" in done


def test_a_phq9_without_item_9_shows_no_crisis_box(client, link):
    _, token = link
    confirm(client, token)

    client.post(
        reverse("selfreport:questions", args=[token]), {**answers("phq9", [3] * 8 + [0]), **answers("gad7", [0] * 7)}
    )
    done = client.get(reverse("selfreport:done", args=[token])).content.decode()

    assert "data-crisis" not in done
