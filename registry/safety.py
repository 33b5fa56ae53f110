"""The safety facts of an episode, wherever someone decides about the patient (docs/clinical-definitions.md#safety).

One home for them: the answer that raised the safety flag and when, the latest C-SSRS, the
latest safety assessment (risk, what was done, who, when) and how long the flag has been open.
Loaded for any number of episodes in three queries; the template tag `safety_facts` draws them
(templates/registry/_safety_facts.html) on the review page, the agenda, the consultant's
awaiting list and the patient page.

A safety event waits for the consultant until a signed case review follows it: an open
safety flag, or one raised (and perhaps already closed by the care manager's assessment)
after the last signed note. Such a patient comes first on the consultant's lists.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from patients.models import Episode
from registry.instruments import INSTRUMENTS
from registry.models import Flag, Measurement, SafetyAssessment
from registry.reviews import case_reviews


def unreviewed_safety_flags() -> QuerySet[Flag]:
    """Safety flags still open, or raised since the episode's last signed case review."""
    reviewed_since = case_reviews().signed().filter(episode=OuterRef("episode"), signed_at__gte=OuterRef("raised_at"))
    return Flag.objects.filter(kind=Flag.Kind.SAFETY).filter(Q(resolved_at__isnull=True) | ~Exists(reviewed_since))


def safety_awaits_review() -> Exists:
    """For an Episode queryset: a safety event the consultant has not yet reviewed."""
    return Exists(unreviewed_safety_flags().filter(episode=OuterRef("pk")))


def answer_that_raised(flag: Flag) -> str:
    """ "PHQ-9 item 9 = 2 on 3 Dec", "C-SSRS high risk on 3 Dec"; the flag's reason when a
    person raised it without a score."""
    measurement = flag.measurement
    if measurement is None:
        return flag.reason
    when = short_date(measurement.taken_on)
    instrument = INSTRUMENTS[measurement.instrument]
    return instrument.safety_summary(measurement.answers, measurement.total, measurement.band, when)


def short_date(day: datetime.date, today: datetime.date | None = None) -> str:
    """ "3 Dec" this year, "3 Dec 2025" another."""
    today = today or timezone.localdate()
    return f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b %Y}"


@dataclass
class SafetyFacts:
    today: datetime.date
    flag: Flag | None = None  # the open safety flag, else the latest one
    awaits_review: bool = False  # open, or raised since the last signed case review
    assessment: SafetyAssessment | None = None  # the latest
    cssrs: Measurement | None = None  # the latest valid C-SSRS screener

    def __bool__(self) -> bool:
        return bool(self.flag or self.assessment or self.cssrs)

    @property
    def is_open(self) -> bool:
        return self.flag is not None and self.flag.resolved_at is None

    @property
    def raised_by_answer(self) -> str:
        return answer_that_raised(self.flag) if self.flag else ""

    @property
    def raised_on(self) -> datetime.date | None:
        return timezone.localdate(self.flag.raised_at) if self.flag else None

    @property
    def assessed_since_raised(self) -> bool:
        """An open flag with no assessment after it waits for one; an older assessment is history."""
        if not (self.assessment and self.flag):
            return False
        return self.assessment.flag_id == self.flag.pk or self.assessment.assessed_at >= self.flag.raised_at

    @property
    def open_for(self) -> str:
        """ "open since today", "open 1 day", "open 3 days"."""
        raised_on = self.raised_on
        if not self.is_open or raised_on is None:
            return ""
        days = (self.today - raised_on).days
        if days <= 0:
            return "open since today"
        return f"open {days} day{'s' if days != 1 else ''}"


def safety_facts_for(episode_ids: Iterable[int], today: datetime.date | None = None) -> dict[int, SafetyFacts]:
    """Episode id -> its safety facts, in two queries whatever the number of episodes: every
    assessment belongs to a safety flag, so the flags bring them along."""
    ids = list(set(episode_ids))
    if not ids:
        return {}
    flags = with_review_state(Flag.objects.filter(episode_id__in=ids, kind=Flag.Kind.SAFETY))
    flags = flags.select_related("measurement", "safety_assessment__assessed_by").order_by("episode_id", "-raised_at")
    screeners = Measurement.objects.valid().filter(episode_id__in=ids, instrument__in=SCREENERS)
    return safety_facts_from(ids, flags, screeners, today)


SCREENERS = [code for code, instrument in INSTRUMENTS.items() if instrument.has_risk_level]


def with_review_state(flags: QuerySet[Flag]) -> QuerySet[Flag]:
    """The flags, each with `awaits_review`: a safety flag the consultant has not yet reviewed."""
    return flags.annotate(awaits_review=Exists(unreviewed_safety_flags().filter(pk=OuterRef("pk"))))


def mark_review_state(flags: list[Flag]) -> None:
    """Give each safety flag of the list the `awaits_review` of with_review_state, in one query,
    none for no flags: for a page that read its flags already and seldom has a safety flag."""
    if not flags:
        return
    awaiting = set(unreviewed_safety_flags().filter(pk__in=[flag.pk for flag in flags]).values_list("pk", flat=True))
    for flag in flags:
        flag.awaits_review = flag.pk in awaiting  # type: ignore[attr-defined]  # as the annotation


def safety_facts_from(
    episode_ids: Iterable[int],
    flags: Iterable[Flag],
    screeners: Iterable[Measurement],
    today: datetime.date | None = None,
) -> dict[int, SafetyFacts]:
    """Episode id -> its safety facts, from the episodes' safety flags (each episode's newest
    first, with_review_state, their measurement and assessment joined) and valid screeners
    (newest first): for a page that has read them already (registry/patient_page.py)."""
    today = today or timezone.localdate()
    facts = {pk: SafetyFacts(today=today) for pk in episode_ids}
    for flag in flags:
        current = facts[flag.episode_id]
        if current.flag is None or (flag.resolved_at is None and current.flag.resolved_at is not None):
            current.flag = flag
        current.awaits_review = current.awaits_review or flag.awaits_review  # type: ignore[attr-defined]  # annotated
        assessment = getattr(flag, "safety_assessment", None)  # none yet: RelatedObjectDoesNotExist
        if assessment and (current.assessment is None or assessment.assessed_at > current.assessment.assessed_at):
            current.assessment = assessment
    for screener in screeners:
        facts[screener.episode_id].cssrs = facts[screener.episode_id].cssrs or screener  # newest first
    return facts


def attach_safety_facts(episodes: Iterable[Episode], today: datetime.date | None = None) -> None:
    """Give each episode of a list its `safety_facts`, for the template tag: one load for the list."""
    episodes = list(episodes)
    facts = safety_facts_for((episode.pk for episode in episodes), today)
    for episode in episodes:
        episode.safety_facts = facts[episode.pk]  # type: ignore[attr-defined]  # read by the template tag
