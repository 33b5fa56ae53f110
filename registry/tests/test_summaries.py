"""The one-episode summary UPDATE, compiled once (registry/summaries.py)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.models import Episode
from registry import summaries
from registry.models import Contact
from tests.factories import EpisodeFactory, record_contact, record_score

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def episodes(clinic, care_manager):
    return [
        EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=days_ago(60))
        for _ in range(2)
    ]


def executed_update(refresh) -> str:
    with CaptureQueriesContext(connection) as queries:
        refresh()
    return next(q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE"))


def test_the_compiled_statement_is_the_one_the_orm_builds_for_that_episode(episodes):
    first, second = episodes
    summaries.refresh_summary(first)  # compiles it, for the first episode

    compiled = executed_update(lambda: summaries.refresh_summary(second))
    built = executed_update(lambda: summaries.refresh_summaries(Episode.objects.filter(pk=second.pk)))

    assert compiled == built


def test_refresh_summary_updates_only_its_episode_and_reads_the_new_values_back(episodes, care_manager):
    first, second = episodes
    summaries.refresh_summary(second)
    for episode in episodes:  # written behind the summaries' back
        Contact.objects.create(
            episode=episode, contact_date=days_ago(3), kind="follow_up", mode="phone", recorded_by=care_manager
        )

    summaries.refresh_summary(first)

    assert first.last_contact_on == days_ago(3)
    assert Episode.objects.get(pk=first.pk).completed_contacts == 1
    assert Episode.objects.get(pk=second.pk).last_contact_on is None


def test_saves_after_the_first_do_not_build_the_statement_again(episodes, care_manager, monkeypatch):
    first, second = episodes
    record_contact(first, days_ago(5), care_manager)

    def built_again():
        raise AssertionError("the summary UPDATE was built again")

    monkeypatch.setattr(summaries, "summary_expressions", built_again)
    record_score(second, "PHQ9", 12, days_ago(2), care_manager)

    second.refresh_from_db()
    assert (second.phq9_latest, second.phq9_latest_on) == (12, days_ago(2))
