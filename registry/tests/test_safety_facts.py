"""The safety facts of an episode (registry/safety.py): what raised the flag and when, the
C-SSRS, the latest assessment and how long the flag has been open; loaded set-based."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from consults import notes
from registry import services
from registry.models import Flag, SafetyAssessment
from registry.safety import safety_facts_for, short_date
from registry.services import Answers
from tests.factories import EpisodeFactory, UserFactory, answers_totalling, record_contact

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def today() -> datetime.date:
    return timezone.localdate()


def item9_contact(episode, by, item9: int, days_ago: int = 0):
    return record_contact(
        episode, today() - days_ago * DAY, by, scores=[Answers("PHQ9", answers_totalling("PHQ9", 16, item9=item9))]
    )


def assess(episode, by, risk="moderate", hours_ago=1):
    flag = Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY, resolved_at__isnull=True)
    return services.resolve_safety_flag(
        flag=flag,
        by=by,
        risk_level=risk,
        actions=[SafetyAssessment.Action.SAFETY_PLAN, SafetyAssessment.Action.CONSULTANT_NOTIFIED],
        note="Passive ideation, no plan.",
        assessed_at=timezone.now() - datetime.timedelta(hours=hours_ago),
    )


@pytest.fixture
def episode(clinic, care_manager):
    return EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=today() - 30 * DAY)


def test_an_open_flag_tells_the_answer_that_raised_it_and_how_long_it_has_been_open(episode, care_manager):
    item9_contact(episode, care_manager, item9=2, days_ago=3)
    Flag.objects.filter(episode=episode, kind="safety").update(raised_at=timezone.now() - 3 * DAY)

    facts = safety_facts_for([episode.pk])[episode.pk]

    assert facts.is_open and facts.awaits_review
    assert facts.raised_by_answer == f"PHQ-9 item 9 = 2 on {short_date(today() - 3 * DAY)}"
    assert facts.open_for == "open 3 days"
    assert facts.assessment is None and not facts.assessed_since_raised


def test_an_assessment_closes_the_flag_but_the_event_awaits_the_consultant_until_a_signed_review(
    episode, care_manager, clinic
):
    from accounts.models import Role

    item9_contact(episode, care_manager, item9=2)
    assessment = assess(episode, care_manager)

    facts = safety_facts_for([episode.pk])[episode.pk]
    assert not facts.is_open and facts.open_for == ""
    assert facts.awaits_review  # resolved by the care manager, not yet seen by the consultant
    assert facts.assessment == assessment and facts.assessed_since_raised
    assert facts.assessment.get_risk_level_display() == "Moderate"

    consultant = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(review=note, by=consultant, reviewed_on=today(), assessment="Seen.", diagnoses=[], summary="")
    notes.sign(review=note, by=consultant)

    assert not safety_facts_for([episode.pk])[episode.pk].awaits_review


def test_the_latest_c_ssrs_is_among_the_facts(episode, care_manager):
    services.record_measurement(
        episode=episode, answers=Answers("CSSRS", [1, 1, 1, 0, 0, 0]), taken_on=today(), by=care_manager
    )

    facts = safety_facts_for([episode.pk])[episode.pk]

    assert facts.cssrs.band == "moderate risk"
    assert facts.flag is None  # moderate risk raises no flag (docs/clinical-definitions.md#safety)
    assert bool(facts) and not facts.awaits_review


def test_an_episode_with_no_safety_history_has_no_facts(episode, care_manager):
    item9_contact(episode, care_manager, item9=0)

    assert not safety_facts_for([episode.pk])[episode.pk]


def test_facts_for_many_episodes_cost_two_queries(clinic, care_manager, django_assert_num_queries):
    episodes = [
        EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=today() - 30 * DAY)
        for _ in range(6)
    ]
    for n, episode in enumerate(episodes):
        item9_contact(episode, care_manager, item9=1 + n % 3)
        if n % 2:
            assess(episode, care_manager)

    with django_assert_num_queries(2):
        facts = safety_facts_for([e.pk for e in episodes])

    assert [facts[e.pk].assessment is not None for e in episodes] == [False, True] * 3
    assert all(facts[e.pk].flag for e in episodes)


def test_item_answers_carry_each_items_own_labels_and_a_legacy_total_has_none(episode, care_manager):
    from registry.templatetags.registry_tags import item_answers

    cssrs = services.record_measurement(
        episode=episode, answers=Answers("CSSRS", [1, 0, 0, 0, 0, 2]), taken_on=today(), by=care_manager
    )
    legacy = services.record_total_only_measurement(
        episode=episode, instrument_code="PHQ9", total=14, taken_on=today(), by=care_manager
    )

    rows = item_answers(cssrs)
    assert rows[0][2:] == (1, "Yes")
    assert rows[5][2:] == (2, "Yes, in the past 3 months")
    assert item_answers(legacy) == []


@pytest.mark.parametrize("page", ["registry:dashboard", "registry:today"])
def test_the_caseload_and_todays_calls_show_what_raised_a_safety_flag_beside_its_badge(
    page, cm_client, clinic, care_manager
):
    flagged = EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=today() - 30 * DAY, status="active"
    )
    calm = EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=today() - 30 * DAY, status="active"
    )
    item9_contact(flagged, care_manager, item9=2, days_ago=20)
    record_contact(calm, today() - 20 * DAY, care_manager, scores=[Answers("PHQ9", answers_totalling("PHQ9", 12))])

    html = cm_client.get(reverse(page)).content.decode()

    row_pattern = r'data-episode="(\d+)"(.*?)(?=data-episode="|</tbody>|</ol>)'
    rows = dict(re.findall(row_pattern, html, re.S))
    assert f"PHQ-9 item 9 = 2 on {short_date(today() - 20 * DAY)}" in rows[str(flagged.pk)]
    assert "no safety assessment yet" in rows[str(flagged.pk)]
    assert "data-safety-facts" not in rows[str(calm.pk)]
