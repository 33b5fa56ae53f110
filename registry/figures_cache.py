"""The dashboard's figure cards and caseload size box, kept in Django's cache between requests
(docs/user-guide.md#the-caseload, docs/benchmarks.md#dashboard).

Counting them is an aggregate over every open episode of the caseload, the same answer on every
request until something is saved. A cached set of figures is keyed by the caseload's own query
(so by who asks and which team), the day, and a generation that every write that can change a
figure replaces: summaries refreshed (contacts, scores, reviews), an episode, a patient, a
clinic's settings or a user's clinics saved. Writes outside the app (a bulk load that refreshes
no summaries) show within FIGURES_KEPT_FOR, the longest a set of figures is kept.
"""

import datetime
import hashlib
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from accounts.models import User
from patients.models import Episode, Patient
from registry.models import RegistrySettings

FIGURES_KEPT_FOR = datetime.timedelta(minutes=5)
GENERATION = "dashboard-figures:generation"


def figures_changed() -> None:
    """Forget every cached figure, at once: a request inside the writing transaction must not read
    old ones. A request that counts while the write is not yet committed keeps its count under
    the new generation, so figures counted in that moment can be up to FIGURES_KEPT_FOR old (not
    bumped again on commit: an extra on-commit callback on every save of a contact or a review
    is not worth the few milliseconds it would cover)."""
    cache.set(GENERATION, uuid.uuid4().hex, timeout=None)


def cached_figures(
    caseload: QuerySet, today: datetime.date, count: Callable[[tuple[str, tuple]], Any]
) -> tuple[Any, datetime.datetime]:
    """(count(the caseload's SQL and parameters), when it was counted) for this caseload on this
    day, from the cache when the figures are still current."""
    sql, params = caseload.query.sql_with_params()
    return kept(("figures", today, sql, params), partial(count, (sql, tuple(params))))


def kept(key: tuple, count: Callable[[], Any]) -> tuple[Any, datetime.datetime]:
    """(count(), when it was counted), counted once per generation for this key (which says
    everything the answer depends on besides the data the generation follows)."""
    generation = cache.get(GENERATION, "")
    digest = hashlib.sha256(repr((generation, *key)).encode()).hexdigest()
    found = cache.get(f"dashboard-figures:{digest}")
    if found is None:
        found = (count(), timezone.now())
        cache.set(f"dashboard-figures:{digest}", found, timeout=FIGURES_KEPT_FOR.total_seconds())
    return found


def forget_figures_on_saves() -> None:
    """Connect figures_changed() to the saves that change who is on a caseload or how it counts
    (the summary columns call it themselves: registry.summaries.refresh_summaries)."""
    for model in (Episode, Patient, RegistrySettings):
        post_save.connect(_saved, sender=model, dispatch_uid=f"figures-{model.__name__}-saved")
        post_delete.connect(_saved, sender=model, dispatch_uid=f"figures-{model.__name__}-deleted")
    post_save.connect(_user_created, sender=User, dispatch_uid="figures-user-created")
    m2m_changed.connect(_saved, sender=User.clinics.through, dispatch_uid="figures-user-clinics")


def _saved(**_) -> None:
    figures_changed()


def _user_created(created: bool, **_) -> None:
    if created:  # a new user's id may be one a deleted user's (a fresh database): their figures go
        figures_changed()
