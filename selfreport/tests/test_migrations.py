"""Links e-mailed before texts existed keep working: migration 0003 moves each link's token hash
from the invitation to the message that carried it."""

import datetime
import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from selfreport.models import Invitation
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("selfreport", "0001_initial")]
AFTER = [("selfreport", "0004_remove_invitation_token_hash")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_a_link_emailed_before_the_migration_still_opens_its_questionnaire(clinic):
    episode = EpisodeFactory(patient__clinic=clinic)
    sender = UserFactory(username="cm-before", clinics=[clinic])
    old = migrate(BEFORE)
    now = timezone.now()
    try:
        old.get_model("selfreport", "Invitation").objects.create(
            episode_id=episode.pk,
            instruments=["PHQ9"],
            language="en",
            email="p@example.org",
            token_hash=hashlib.sha256(b"old-token").hexdigest(),
            origin="by_hand",
            sent_by_id=sender.pk,
            sent_at=now,
            expires_at=now + datetime.timedelta(days=7),
        )
    finally:
        migrate(AFTER)

    invitation = Invitation.objects.with_token("old-token").get()
    link = invitation.deliveries.get()
    assert (invitation.channel, link.kind, link.channel, link.status) == ("email", "link", "email", "sent")
    assert (link.to, link.sent_at) == ("p@example.org", invitation.sent_at)
