"""The figures' aggregate, once compiled, is sent as written and still counts what is there now."""

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.models import Episode
from registry import dashboard_figures as figures_module
from registry.dashboard_figures import dashboard_figures
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db


def not_again(*args, **kwargs):
    raise AssertionError("the aggregate was built again")


def test_the_kept_aggregate_counts_as_the_orm_does_and_sees_new_episodes(clinic, care_manager, monkeypatch):
    monkeypatch.setattr(figures_module, "_FIGURES_STATEMENTS", figures_module.KeptStatements())
    for _ in range(2):
        EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager)
    today, caseload = timezone.localdate(), Episode.objects.visible_to(care_manager).open()
    through_orm = dashboard_figures(caseload, today)

    monkeypatch.setattr(QuerySet, "aggregate", not_again)
    as_sent = dashboard_figures(caseload, today)
    EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager)
    with CaptureQueriesContext(connection) as queries:
        after_a_new_episode = dashboard_figures(caseload, today)

    assert as_sent == through_orm and through_orm[0]["active"] == 2
    assert after_a_new_episode[0]["active"] == 3 and len(queries) == 1
