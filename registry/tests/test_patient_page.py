"""The patient page's registry panel (registry/patient_page.py): the timeline, a page of the
newest entries at a time (docs/user-guide.md#the-timeline), and the charts over every score."""

import datetime
import re
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.models import Episode
from registry import services
from registry.caseload import with_registry_columns
from registry.models import Flag, RegistrySettings, SafetyAssessment
from registry.patient_page import TIMELINE_PAGE_SIZE
from registry.safety import safety_facts_for
from registry.services import Answers, resolve_safety_flag
from tests.factories import EpisodeFactory, answers_totalling, record_contact, record_score

# The timeline section of the fixed short history below, drawn by the code before the timeline
# was paged, with ids replaced by N: a history of up to a page is drawn byte for byte as before.
DAY = datetime.timedelta(days=1)
BEFORE_PAGING = Path(__file__).parent / "data" / "timeline_before_paging.html"


def phq9(total: int, item9: int = 0) -> Answers:
    return Answers("PHQ9", answers_totalling("PHQ9", total, item9))


def gad7(total: int) -> Answers:
    return Answers("GAD7", answers_totalling("GAD7", total))


def short_history(clinic, care_manager):
    """Eight entries: two contacts on one day, scores on their own on a contact's day and two on
    one day, a contact entered in error, one not reached, a score entered in error."""
    care_manager.first_name, care_manager.last_name = "Casey", "Moss"
    care_manager.save()
    cm = care_manager
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=cm, enrolled_on=datetime.date(2026, 1, 5))
    on = datetime.date
    first = dict(kind="initial_assessment", contact_time=datetime.time(9, 0), minutes=45, note="First visit.\nCalm.")
    record_contact(episode, on(2026, 1, 5), cm, scores=[phq9(20), gad7(15)], **first)
    record_score(episode, "PHQ9", 18, on(2026, 1, 5), cm)
    record_contact(episode, on(2026, 1, 19), cm, contact_time=datetime.time(10, 0), minutes=20, scores=[phq9(15, 1)])
    record_contact(
        episode, on(2026, 1, 19), cm, contact_time=datetime.time(14, 30), minutes=10, next_contact_on=on(2026, 2, 2)
    )
    wrong = record_contact(episode, on(2026, 2, 2), cm, minutes=5, scores=[phq9(12)])
    record_contact(episode, on(2026, 2, 3), cm, reached=False, mode="letter", minutes=5)
    services.mark_contact_entered_in_error(contact=wrong, by=cm, reason="Wrong patient")
    mistaken = record_score(episode, "GAD7", 9, on(2026, 2, 10), cm)
    services.mark_measurement_entered_in_error(measurement=mistaken, by=cm, reason="Typed twice")
    record_score(episode, "PHQ9", 11, on(2026, 2, 10), cm)
    return episode


def timeline_section(html: str) -> str:
    """The page's timeline section, from its heading to the end of its card, ids replaced by N."""
    start = html.index('id="timeline-h"')
    section = html[start : html.index("</div></details>", start)]
    return re.sub(r'(/|data-item-answers=")\d+', r"\1N", section)


def test_a_short_timeline_is_drawn_as_before_the_paging(cm_client, clinic, care_manager):
    episode = short_history(clinic, care_manager)

    response = cm_client.get(reverse("patients:detail", args=[episode.patient.pk]))

    assert len(response.context["timeline"]) == 8 <= TIMELINE_PAGE_SIZE
    assert timeline_section(response.content.decode()) == BEFORE_PAGING.read_text()
    assert "Show older entries" not in response.content.decode()


def long_history(episode, cm, contacts: int, start: int = 0) -> None:
    """A contact every other day with a PHQ-9 (a GAD-7 at every other one), and a PHQ-9 on its
    own the day after each third contact, from `start`."""
    for i in range(start, start + contacts):
        kind = "initial_assessment" if i == 0 else "follow_up"
        scores = [phq9(20 - i % 15)] + ([gad7(15 - i % 10)] if i % 2 == 0 else [])
        record_contact(
            episode, episode.enrolled_on + datetime.timedelta(days=2 * i), cm, kind=kind, minutes=20, scores=scores
        )
        if i % 3 == 2:
            record_score(episode, "PHQ9", 10, episode.enrolled_on + datetime.timedelta(days=2 * i + 1), cm)


def timeline_dates(response) -> list[str]:
    return re.findall(r'<td class="text-nowrap">([0-9-]+)', timeline_section(response.content.decode()))


def test_a_long_timeline_shows_its_newest_page_and_links_to_older_ones(cm_client, clinic, care_manager):
    episode = EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=datetime.date(2026, 1, 5)
    )
    long_history(episode, care_manager, 30)  # 30 contacts and 10 scores on their own: 40 entries
    url = reverse("patients:detail", args=[episode.patient.pk])

    first, second = cm_client.get(url), cm_client.get(url, {"timeline": "2"})

    html = first.content.decode()
    assert len(timeline_dates(first)) == len(timeline_dates(second)) == TIMELINE_PAGE_SIZE == 20
    assert timeline_dates(first)[:3] == [
        "2026-03-05",
        "2026-03-04",
        "2026-03-02",
    ]  # the newest: score, contact, contact
    assert (
        timeline_dates(first)[0] > timeline_dates(first)[-1] > timeline_dates(second)[0] >= timeline_dates(second)[-1]
    )
    assert timeline_dates(second)[-1] == "2026-01-05"  # the initial assessment, last
    assert "Entries 1 to 20 of 40, newest first." in html
    assert '<a class="d-print-none" href="?timeline=2#timeline-h">Show older entries</a>' in html
    assert "Show newer entries" not in html
    assert "Entries 21 to 40 of 40, newest first." in second.content.decode()
    assert '<a class="d-print-none" href="?timeline=1#timeline-h">Show newer entries</a>' in second.content.decode()
    assert "Show older entries" not in second.content.decode()
    assert '<th scope="col">Date</th>' in timeline_section(second.content.decode())  # each page keeps its headers
    folded_on_a_phone = 'open data-fold-on-phone>\n      <summary class="card-header"><h2 class="h5" id="timeline-h">'
    assert folded_on_a_phone in html
    assert folded_on_a_phone not in second.content.decode()  # the older page asked for is open


def test_a_timeline_page_that_is_no_page_shows_the_first_or_the_last(cm_client, clinic, care_manager):
    episode = EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=datetime.date(2026, 1, 5)
    )
    long_history(episode, care_manager, 20)  # 20 contacts and 6 scores on their own: 26 entries
    url = reverse("patients:detail", args=[episode.patient.pk])

    not_a_number, past_the_end = cm_client.get(url, {"timeline": "older"}), cm_client.get(url, {"timeline": "9"})

    assert not_a_number.status_code == past_the_end.status_code == 200
    assert timeline_dates(not_a_number) == timeline_dates(cm_client.get(url))
    assert len(timeline_dates(past_the_end)) == 6
    assert "Entries 21 to 26 of 26" in past_the_end.content.decode()


def test_the_charts_and_the_summary_read_every_score_not_only_the_timeline_page(cm_client, clinic, care_manager):
    episode = EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=datetime.date(2026, 1, 5)
    )
    long_history(episode, care_manager, 30)

    response = cm_client.get(reverse("patients:detail", args=[episode.patient.pk]))

    phq9_chart = next(chart for chart in response.context["charts"] if chart.instrument.code == "PHQ9")
    assert len(phq9_chart.points) == 40  # 30 at contacts, 10 on their own
    assert phq9_chart.baseline == 20  # the first contact's, 20 entries before the page
    assert response.context["episode"].completed_contacts == 30
    assert '<strong data-latest="PHQ9">10</strong>' in response.content.decode()


def test_a_days_contacts_come_first_untimed_then_latest_and_its_scores_after_them(cm_client, clinic, care_manager):
    """The order PostgreSQL gave the timeline's UNION (NULL times first when descending), kept
    by the sort in Python that replaced it."""
    cm = care_manager
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=cm, enrolled_on=datetime.date(2026, 1, 5))
    day = datetime.date(2026, 1, 12)
    morning = record_contact(episode, day, cm, contact_time=datetime.time(9, 0))
    untimed = record_contact(episode, day, cm)
    afternoon = record_contact(episode, day, cm, contact_time=datetime.time(15, 0))
    score = record_score(episode, "PHQ9", 10, day, cm)
    earlier = record_contact(episode, datetime.date(2026, 1, 10), cm, contact_time=datetime.time(17, 0))

    response = cm_client.get(reverse("patients:detail", args=[episode.patient.pk]))

    drawn = [entry["contact"] or entry["measurements"][0] for entry in response.context["timeline"]]
    assert drawn == [untimed, afternoon, morning, score, earlier]


def count_queries(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_patient_page_queries_do_not_grow_with_the_history(cm_client, clinic, care_manager):
    episode = EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=datetime.date(2026, 1, 5)
    )
    url = reverse("patients:detail", args=[episode.patient.pk])
    long_history(episode, care_manager, 3)
    cm_client.get(url)  # the session's first request caches the clinic's time zone
    few, few_response = count_queries(cm_client, url)
    long_history(episode, care_manager, 57, start=3)

    many, many_response = count_queries(cm_client, url)

    assert len(few_response.context["timeline"]) == 4  # 3 contacts, 1 score on its own
    assert many_response.context["timeline_page"].paginator.count == 80  # 60 contacts, 20 scores on their own
    assert len(many_response.context["timeline"]) == TIMELINE_PAGE_SIZE
    assert few == many <= 21  # 22 before the timeline was sorted in Python


def test_the_safety_facts_drawn_from_the_pages_own_rows_are_those_of_the_safety_module(cm_client, clinic, care_manager):
    cm = care_manager
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=cm, enrolled_on=datetime.date(2026, 1, 5))
    record_contact(episode, datetime.date(2026, 1, 5), cm, kind="initial_assessment", scores=[phq9(18, 2)])
    resolve_safety_flag(
        flag=Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY, resolved_at__isnull=True),
        by=cm,
        risk_level="moderate",
        actions=[SafetyAssessment.Action.SAFETY_PLAN],
        note="No plan.",
        assessed_at=timezone.now(),
    )
    record_contact(episode, datetime.date(2026, 1, 19), cm, scores=[phq9(16, 1)])  # open again, unassessed
    cssrs = services.record_measurement(
        episode=episode, answers=Answers("CSSRS", [1, 1, 1, 0, 0, 0]), taken_on=datetime.date(2026, 1, 20), by=cm
    )
    mistaken = services.record_measurement(
        episode=episode, answers=Answers("CSSRS", [1, 0, 0, 0, 0, 0]), taken_on=datetime.date(2026, 1, 21), by=cm
    )
    services.mark_measurement_entered_in_error(measurement=mistaken, by=cm, reason="Wrong patient")

    response = cm_client.get(reverse("patients:detail", args=[episode.patient.pk]))

    drawn, loaded = response.context["episode"].safety_facts, safety_facts_for([episode.pk])[episode.pk]
    assert (drawn.flag, drawn.awaits_review, drawn.assessment, drawn.cssrs) == (
        loaded.flag,
        loaded.awaits_review,
        loaded.assessment,
        loaded.cssrs,
    )
    assert drawn.raised_by_answer == loaded.raised_by_answer
    assert drawn.raised_by_answer.startswith("PHQ-9 item 9 = 1 on 19 Jan")
    assert drawn.cssrs == cssrs and drawn.is_open and drawn.assessment is not None
    assert "data-safety-cssrs" in response.content.decode()


def test_the_summary_shows_the_registry_columns_of_the_dashboard(cm_client, clinic, care_manager):
    RegistrySettings.objects.update_or_create(clinic=clinic, defaults={"relapse_prevention_cadence_days": 45})
    today = timezone.localdate()
    active = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=today - 60 * DAY)
    relapse = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=today - 60 * DAY)
    for episode in (active, relapse):
        first = dict(kind="initial_assessment", minutes=40, scores=[phq9(20), gad7(12)])
        record_contact(episode, today - 50 * DAY, care_manager, **first)
        record_contact(episode, today, care_manager, contact_time=datetime.time(9), minutes=25, scores=[phq9(9)])
    Episode.objects.filter(pk=relapse.pk).update(status=Episode.Status.RELAPSE_PREVENTION)

    for episode in (active, relapse):
        response = cm_client.get(reverse("patients:detail", args=[episode.patient.pk]))

        summary = response.context["summary"]
        expected = with_registry_columns(Episode.objects.filter(pk=episode.pk), today).values(*summary).get()
        assert summary == expected
    assert summary["next_contact_due"] == today + 45 * DAY and summary["phq9_change"] == 55
