"""Codes are never shown raw: flag kinds, channels and statuses read as people say them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from consults import notes
from consults.tests.test_note_views import (  # noqa: F401 - agenda, consultant and pcp are fixtures
    agenda,
    consultant,
    items_of,
    patient_of,
    pcp,
    today,
    workspace_url,
)
from registry.models import Flag

pytestmark = pytest.mark.django_db


def test_the_review_page_names_why_a_patient_is_on_the_agenda_in_words(cm_client, agenda):  # noqa: F811 - pytest fixtures
    item = items_of(agenda)[0]
    item.reasons = [Flag.Kind.SAFETY, Flag.Kind.NOT_IMPROVING, Flag.Kind.FOLLOWUP_OVERDUE]
    item.save()

    page = cm_client.get(workspace_url(item)).content.decode()

    assert "on the agenda for: Safety, Not improving, Follow-up overdue" in page
    assert "not_improving" not in page.split("on the agenda for:")[1][:80]


def test_a_recommendations_status_stands_apart_from_its_details(cm_client, clinic, care_manager, consultant):  # noqa: F811 - pytest fixtures
    episode = patient_of(clinic, care_manager, consultant)
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(review=note, by=consultant, reviewed_on=today(), assessment="MDD.", diagnoses=[], summary="")
    notes.add_recommendation(review=note, by=consultant, kind="safety_plan", details="Review it, given SI.")
    notes.sign(review=note, by=consultant)

    page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()

    assert "given SI.:" not in page
    assert (
        'given SI. <span class="badge text-bg-light border" data-recommendation-status="pending">Pending</span>' in page
    )


def test_the_recommendations_list_names_the_channel_as_written(cm_client, clinic, care_manager, consultant):  # noqa: F811 - pytest fixtures
    episode = patient_of(clinic, care_manager, consultant)
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(review=note, by=consultant, reviewed_on=today(), assessment="MDD.", diagnoses=[], summary="")
    recommendation = notes.add_recommendation(review=note, by=consultant, kind="continue")
    notes.sign(review=note, by=consultant)
    notes.communicate(recommendation=recommendation, by=care_manager, when=timezone.now(), how="ehr_message")

    page = cm_client.get(reverse("consults:recommendations")).content.decode()

    assert "(EHR message)" in page
    assert "ehr message" not in page
