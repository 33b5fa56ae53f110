"""Consultation notes as services (consults/notes.py): from the session's agenda to a
recommendation the PCP has acted on, what a signed note refuses, what it changes (flags, the
episode's summary), and who did each step (history)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from consults import notes
from consults.agenda import build_agendas
from consults.models import AgendaItem, Amendment, CaseReview, Recommendation
from patients import services as patient_services
from patients.models import Episode
from registry import services as registry_services
from registry.flags import refresh_flags
from registry.models import Flag
from tests.factories import EpisodeFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
Status = Recommendation.Status
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
MEDICATION_KINDS = ["start_medication", "change_medication", "stop_medication", "adjust_dose"]


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def consultant(clinic):
    return UserFactory(username="psych", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])


@pytest.fixture
def pcp(clinic):
    return UserFactory(username="pcp", role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])


@pytest.fixture
def episode(clinic, care_manager, consultant, pcp) -> Episode:
    """Enrolled 40 days ago, never reviewed."""
    return EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        patient__pcp=pcp,
        enrolled_on=today() - 40 * DAY,
    )


@pytest.fixture
def item(clinic, episode) -> AgendaItem:
    """The episode on this week's agenda, put there by the new-patient flag the rules raised."""
    refresh_flags(Episode.objects.filter(pk=episode.pk))
    (agenda,) = build_agendas(clinic, today())
    return agenda.items.get()


def open_kinds(episode) -> set[str]:
    return set(Flag.objects.filter(episode=episode, resolved_at__isnull=True).values_list("kind", flat=True))


def refresh(episode, on: datetime.date | None = None) -> set[str]:
    refresh_flags(Episode.objects.filter(pk=episode.pk), today=on)
    return open_kinds(episode)


def write(note, by, *, reviewed_on=None, assessment="Moderate MDD, partial response.", diagnoses=("F33.1",)):
    return notes.save_draft(
        review=note,
        by=by,
        reviewed_on=reviewed_on or note.reviewed_on,
        assessment=assessment,
        diagnoses=list(diagnoses),
        summary="",
    )


def draft(episode, consultant, **text) -> CaseReview:
    return write(notes.start_note(episode=episode, consultant=consultant, by=consultant), consultant, **text)


def signed_recommendation(episode, consultant, kind="start_medication", drug="sertraline", **text) -> Recommendation:
    """The one recommendation of a note just signed: pending."""
    note = draft(episode, consultant, **text)
    recommendation = notes.add_recommendation(review=note, by=consultant, kind=kind, drug=drug, dose="50 mg")
    notes.sign(review=note, by=consultant)
    recommendation.refresh_from_db()
    return recommendation


def reloaded(instance):
    instance.refresh_from_db()
    return instance


# --- the whole cycle ----------------------------------------------------------------------


def test_a_note_started_from_the_agenda_ends_with_its_recommendation_implemented(
    item, episode, consultant, care_manager, pcp
):
    communicated_at = timezone.now() - 2 * HOUR

    note = notes.start_note(episode=episode, consultant=consultant, by=consultant, agenda_item=item)
    notes.save_draft(
        review=note,
        by=consultant,
        reviewed_on=today(),
        assessment="  Moderate MDD, partial response to sertraline 50 mg.  ",
        diagnoses=["f33.1", " F41.1 ", "F33.1", ""],
        summary=" Partial response at 8 weeks: room to go up. ",
        minutes=12,
    )
    recommendation = notes.add_recommendation(
        review=note, by=consultant, kind="adjust_dose", drug=" sertraline ", dose=" 100 mg "
    )
    draft_status = (reloaded(recommendation).status, recommendation.recommended_on)
    notes.sign(review=note, by=consultant)
    after_sign = reloaded(recommendation).status
    notes.communicate(recommendation=recommendation, by=care_manager, when=communicated_at, how="ehr_message")
    after_communicate = reloaded(recommendation).status
    notes.respond(recommendation=recommendation, by=pcp, response="accepted")
    after_response = reloaded(recommendation).status
    notes.mark_implemented(recommendation=recommendation, by=care_manager, on=today())

    note.refresh_from_db()
    recommendation.refresh_from_db()
    item.refresh_from_db()
    assert (note.episode, note.consultant, note.recorded_by, note.agenda_item) == (
        episode,
        consultant,
        consultant,
        item,
    )
    assert note.reviewed_on == today()
    assert note.assessment == "Moderate MDD, partial response to sertraline 50 mg."
    assert note.diagnoses == ["F33.1", "F41.1"]
    assert note.summary == "Partial response at 8 weeks: room to go up."
    assert note.is_signed
    assert item.minutes == 12
    assert (recommendation.kind, recommendation.drug, recommendation.dose) == ("adjust_dose", "sertraline", "100 mg")
    assert draft_status == (Status.PENDING, None)
    assert [after_sign, after_communicate, after_response] == [Status.PENDING, Status.COMMUNICATED, Status.ACCEPTED]
    assert recommendation.status == Status.IMPLEMENTED
    assert recommendation.recommended_on == today()
    assert (recommendation.communicated_at, recommendation.communicated_how, recommendation.communicated_by) == (
        communicated_at,
        "ehr_message",
        care_manager,
    )
    assert recommendation.responded_by == pcp
    assert (recommendation.implemented_on, recommendation.implemented_by) == (today(), care_manager)
    assert str(recommendation) == "Adjust a dose sertraline 100 mg"


# --- starting a note ----------------------------------------------------------------------


def test_starting_twice_returns_the_same_draft(episode, consultant):
    first = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    second = notes.start_note(episode=episode, consultant=consultant, by=consultant)

    assert first.pk == second.pk
    assert CaseReview.objects.count() == 1
    assert not first.is_signed


def test_after_signing_the_next_start_is_a_new_draft(episode, consultant):
    signed = draft(episode, consultant)
    notes.sign(review=signed, by=consultant)

    new = notes.start_note(episode=episode, consultant=consultant, by=consultant)

    assert new.pk != signed.pk
    assert not new.is_signed


def test_each_consultant_has_their_own_draft(clinic, episode, consultant):
    colleague = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])

    mine = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    theirs = notes.start_note(episode=episode, consultant=colleague, by=colleague)

    assert mine.pk != theirs.pk
    assert (mine.consultant, theirs.consultant) == (consultant, colleague)


@pytest.mark.parametrize(
    ("meeting", "expected"), [(-3, -3), (0, 0), (2, 0)], ids=["met-3-days-ago", "meets-today", "meets-in-2-days"]
)
def test_a_note_from_the_agenda_is_dated_the_meeting_day_never_later_than_today(
    item, episode, consultant, meeting, expected
):
    agenda = item.agenda
    agenda.meeting_on = today() + meeting * DAY
    agenda.save()

    note = notes.start_note(episode=episode, consultant=consultant, by=consultant, agenda_item=item)

    assert note.reviewed_on == today() + expected * DAY


def test_a_note_is_never_dated_before_the_enrollment(clinic, care_manager, consultant):
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=today())
    refresh_flags(Episode.objects.filter(pk=episode.pk))
    (agenda,) = build_agendas(clinic, today() - 7 * DAY)  # last week's agenda, still open

    note = notes.start_note(episode=episode, consultant=consultant, by=consultant, agenda_item=agenda.items.get())

    assert note.reviewed_on == today()


def test_an_agenda_item_has_one_note(clinic, item, episode, consultant):
    notes.start_note(episode=episode, consultant=consultant, by=consultant, agenda_item=item)
    colleague = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])

    with pytest.raises(ValidationError, match="already has a note"):
        notes.start_note(episode=episode, consultant=colleague, by=colleague, agenda_item=item)

    assert CaseReview.objects.filter(consultant=colleague).count() == 0


def test_only_a_psychiatric_consultant_of_the_clinic_writes_a_note(other_clinic, episode, care_manager):
    outsider = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[other_clinic])

    with pytest.raises(ValidationError, match="not a psychiatric consultant"):
        notes.start_note(episode=episode, consultant=care_manager, by=care_manager)
    with pytest.raises(ValidationError, match="does not consult for this clinic"):
        notes.start_note(episode=episode, consultant=outsider, by=outsider)

    assert not CaseReview.objects.exists()


def test_a_discharged_episode_gets_no_note(episode, consultant, care_manager):
    patient_services.change_status(
        episode=episode, status="discharged", on=today(), by=care_manager, discharge_reason="moved"
    )

    with pytest.raises(ValidationError, match="discharged"):
        notes.start_note(episode=episode, consultant=consultant, by=consultant)


# --- the draft ----------------------------------------------------------------------------


def test_diagnoses_are_upper_cased_trimmed_and_kept_once_in_the_order_given(episode, consultant):
    note = draft(episode, consultant, diagnoses=[" f41.1", "F32.a", "", "F41.1 ", "f43.10", "F32.A"])

    assert reloaded(note).diagnoses == ["F41.1", "F32.A", "F43.10"]
    assert note.diagnosis_labels() == [
        "F41.1 Generalized anxiety disorder",
        "F32.A Depression, unspecified",
        "F43.10 Post-traumatic stress disorder, unspecified",
    ]


@pytest.mark.parametrize("bad", ["depression", "F3", "33.1", "F33.12345", "F33-1"])
def test_a_code_that_is_not_icd10_is_refused_by_name_and_nothing_is_saved(episode, consultant, bad):
    note = draft(episode, consultant, assessment="First words.", diagnoses=["F33.1"])

    with pytest.raises(ValidationError) as error:
        write(note, consultant, assessment="Second words.", diagnoses=["F41.1", f" {bad} "])

    assert error.value.message_dict["diagnoses"] == [f"{bad!r} is not an ICD-10 code such as F33.1 or F41.1."]
    note.refresh_from_db()
    assert (note.assessment, note.diagnoses) == ("First words.", ["F33.1"])


@pytest.mark.parametrize(
    ("offset", "says"), [(1, "cannot be in the future"), (-41, "before this episode began")], ids=["future", "early"]
)
def test_a_draft_dated_outside_the_episode_is_refused(episode, consultant, offset, says):
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)

    with pytest.raises(ValidationError, match=says):
        write(note, consultant, reviewed_on=today() + offset * DAY)

    assert reloaded(note).reviewed_on == today()


@pytest.mark.parametrize("kind", MEDICATION_KINDS)
def test_a_medication_recommendation_names_the_drug(episode, consultant, kind):
    note = draft(episode, consultant)

    with pytest.raises(ValidationError) as error:
        notes.add_recommendation(review=note, by=consultant, kind=kind, drug="  ", dose="50 mg")

    assert error.value.message_dict == {"drug": ["Name the medication."]}
    assert not note.recommendations.exists()


def test_other_needs_details_and_an_unknown_kind_is_refused(episode, consultant):
    note = draft(episode, consultant)

    with pytest.raises(ValidationError) as other:
        notes.add_recommendation(review=note, by=consultant, kind="other", details=" ")
    with pytest.raises(ValidationError) as unknown:
        notes.add_recommendation(review=note, by=consultant, kind="pray", details="For rain.")

    assert other.value.message_dict == {"details": ["Say what is recommended."]}
    assert "kind" in unknown.value.message_dict
    assert not note.recommendations.exists()


def test_recommendations_that_are_not_medications_need_no_drug(episode, consultant):
    note = draft(episode, consultant)

    added = [
        notes.add_recommendation(review=note, by=consultant, kind="referral", details="Perinatal psychiatry."),
        notes.add_recommendation(review=note, by=consultant, kind="continue"),
        notes.add_recommendation(review=note, by=consultant, kind="other", details="Sleep diary for two weeks."),
    ]

    assert [(r.kind, r.drug, r.status) for r in note.recommendations.all()] == [
        ("referral", "", Status.PENDING),
        ("continue", "", Status.PENDING),
        ("other", "", Status.PENDING),
    ]
    assert [r.pk for r in added] == list(note.recommendations.values_list("pk", flat=True))


def test_a_recommendation_removed_from_a_draft_is_gone_with_who_removed_it(episode, consultant):
    note = draft(episode, consultant)
    kept = notes.add_recommendation(review=note, by=consultant, kind="continue")
    removed = notes.add_recommendation(review=note, by=consultant, kind="start_medication", drug="bupropion")
    removed_pk = removed.pk

    notes.remove_recommendation(recommendation=removed, by=consultant)

    assert list(note.recommendations.all()) == [kept]
    gone = Recommendation.history.filter(id=removed_pk).order_by("-history_id").first()
    assert (gone.history_type, gone.history_user) == ("-", consultant)


# --- signing ------------------------------------------------------------------------------


def test_signing_dates_every_recommendation_with_the_review_day(episode, consultant):
    note = draft(episode, consultant, reviewed_on=today() - 2 * DAY)
    notes.add_recommendation(review=note, by=consultant, kind="start_medication", drug="sertraline")
    notes.add_recommendation(review=note, by=consultant, kind="behavioral_change", details="Behavioral activation.")

    notes.sign(review=note, by=consultant)

    note.refresh_from_db()
    assert note.signed_at is not None
    assert list(note.recommendations.values_list("recommended_on", "status")) == [
        (today() - 2 * DAY, Status.PENDING),
        (today() - 2 * DAY, Status.PENDING),
    ]


def test_only_the_notes_consultant_signs_it(clinic, episode, consultant, care_manager):
    note = draft(episode, consultant)
    colleague = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])

    for someone in (colleague, care_manager):
        with pytest.raises(PermissionDenied):
            notes.sign(review=note, by=someone)

    assert not reloaded(note).is_signed


def test_a_note_without_an_assessment_is_not_signed(episode, consultant):
    note = draft(episode, consultant, assessment="   ")
    notes.add_recommendation(review=note, by=consultant, kind="continue")

    with pytest.raises(ValidationError) as error:
        notes.sign(review=note, by=consultant)

    assert error.value.message_dict == {"assessment": ["Write the assessment before signing."]}
    note.refresh_from_db()
    assert not note.is_signed
    assert note.recommendations.get().recommended_on is None


def test_signing_answers_the_care_managers_request_for_discussion(episode, consultant, care_manager):
    request = registry_services.request_case_review(episode=episode, by=care_manager, reason="Sleep worse.")
    note = draft(episode, consultant)

    notes.sign(review=note, by=consultant)

    request.refresh_from_db()
    assert (request.resolved_by, request.resolution_note) == (
        consultant,
        f"Discussed at the case review of {note.reviewed_on:%Y-%m-%d}.",
    )


def edit_save(note, by):
    write(note, by, assessment="Changed after signing.")


def edit_add(note, by):
    notes.add_recommendation(review=note, by=by, kind="continue")


def edit_remove(note, by):
    notes.remove_recommendation(recommendation=note.recommendations.get(), by=by)


def edit_sign_again(note, by):
    notes.sign(review=note, by=by)


@pytest.mark.parametrize("edit", [edit_save, edit_add, edit_remove, edit_sign_again])
def test_a_signed_note_is_never_edited(episode, consultant, edit):
    recommendation = signed_recommendation(episode, consultant, assessment="As signed.")
    note = recommendation.review
    signed_at = reloaded(note).signed_at

    with pytest.raises(ValidationError, match="A signed note is never edited"):
        edit(note, consultant)

    note.refresh_from_db()
    assert (note.assessment, note.signed_at) == ("As signed.", signed_at)
    assert list(note.recommendations.all()) == [recommendation]


# --- what the database refuses, whatever the code does --------------------------------------


def test_the_database_refuses_a_signed_note_without_an_assessment(episode, consultant):
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)

    with pytest.raises(IntegrityError, match="case_review_signed_with_assessment"), transaction.atomic():
        CaseReview.objects.filter(pk=note.pk).update(signed_at=timezone.now())


def test_the_database_refuses_a_declined_recommendation_without_a_reason(episode, consultant):
    recommendation = signed_recommendation(episode, consultant)
    declined = {"status": Status.DECLINED, "communicated_at": timezone.now(), "communicated_how": "phone"}

    with pytest.raises(IntegrityError, match="recommendation_declined_has_reason"), transaction.atomic():
        Recommendation.objects.filter(pk=recommendation.pk).update(**declined)
    Recommendation.objects.filter(pk=recommendation.pk).update(**declined, response_note="Prefers therapy.")

    assert reloaded(recommendation).status == Status.DECLINED


@pytest.mark.parametrize("kind", MEDICATION_KINDS)
def test_the_database_refuses_a_medication_recommendation_without_a_drug(episode, consultant, kind):
    note = draft(episode, consultant)

    with pytest.raises(IntegrityError, match="recommendation_medication_names_drug"), transaction.atomic():
        Recommendation.objects.create(review=note, episode=episode, kind=kind, drug="")
    Recommendation.objects.create(review=note, episode=episode, kind="referral", drug="")

    assert note.recommendations.count() == 1


# --- amendments ---------------------------------------------------------------------------


def test_an_amendment_is_kept_beside_the_signed_note_which_does_not_change(clinic, episode, consultant):
    note = reloaded(signed_recommendation(episode, consultant, assessment="As signed.").review)
    colleague = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])

    first = notes.amend(review=note, by=consultant, text="  Lithium level was 0.6, not 1.6.  ")
    second = notes.amend(review=note, by=colleague, text="Covering: agree with the plan.")

    after = CaseReview.objects.get(pk=note.pk)
    assert (after.assessment, after.signed_at, after.diagnoses) == (note.assessment, note.signed_at, note.diagnoses)
    assert list(after.amendments.values_list("text", "amended_by")) == [
        ("Lithium level was 0.6, not 1.6.", consultant.pk),
        ("Covering: agree with the plan.", colleague.pk),
    ]
    assert first.amended_at <= second.amended_at
    assert [a.history.get().history_user for a in (first, second)] == [consultant, colleague]


def test_only_a_psychiatric_consultant_amends(episode, consultant, care_manager, pcp):
    note = signed_recommendation(episode, consultant).review

    for someone in (care_manager, pcp):
        with pytest.raises(PermissionDenied):
            notes.amend(review=note, by=someone, text="Not mine to add.")

    assert not Amendment.objects.exists()


def test_a_draft_is_not_amended_and_an_empty_amendment_is_refused(episode, consultant):
    signed = signed_recommendation(episode, consultant).review
    unsigned = draft(episode, consultant)

    with pytest.raises(ValidationError, match="A draft is edited, not amended"):
        notes.amend(review=unsigned, by=consultant, text="Too early.")
    with pytest.raises(ValidationError) as empty:
        notes.amend(review=signed, by=consultant, text="  ")

    assert empty.value.message_dict == {"text": ["Write the amendment."]}
    assert not Amendment.objects.exists()


# --- communicated, the PCP's response, implemented ----------------------------------------


def test_a_draft_recommendation_cannot_be_carried_to_the_pcp(episode, consultant, care_manager, pcp):
    recommendation = notes.add_recommendation(review=draft(episode, consultant), by=consultant, kind="continue")

    with pytest.raises(ValidationError, match="not signed yet"):
        notes.communicate(recommendation=recommendation, by=care_manager, when=timezone.now(), how="phone")
    with pytest.raises(ValidationError, match="not signed yet"):
        notes.respond(recommendation=recommendation, by=pcp, response="accepted")

    assert reloaded(recommendation).status == Status.PENDING


def test_communicated_needs_a_channel_and_a_time_not_in_the_future(episode, consultant, care_manager):
    recommendation = signed_recommendation(episode, consultant)

    with pytest.raises(ValidationError) as future:
        notes.communicate(recommendation=recommendation, by=care_manager, when=timezone.now() + HOUR, how="phone")
    with pytest.raises(ValidationError) as channel:
        notes.communicate(recommendation=recommendation, by=care_manager, when=timezone.now(), how="pigeon")

    assert future.value.message_dict == {"when": ["That time is in the future."]}
    assert "how" in channel.value.message_dict
    recommendation.refresh_from_db()
    assert (recommendation.status, recommendation.communicated_at) == (Status.PENDING, None)


def test_a_recommendation_is_communicated_once(episode, consultant, care_manager):
    recommendation = signed_recommendation(episode, consultant)
    notes.communicate(recommendation=recommendation, by=care_manager, when=timezone.now() - HOUR, how="phone")

    with pytest.raises(ValidationError, match="communicated to the pcp"):
        notes.communicate(recommendation=recommendation, by=care_manager, when=timezone.now(), how="letter")

    assert reloaded(recommendation).communicated_how == "phone"


@pytest.mark.parametrize(
    ("response", "note"),
    [("accepted", ""), ("modified", "Sertraline 75 mg instead."), ("declined", "Patient prefers therapy.")],
)
def test_the_pcps_response_is_recorded(episode, consultant, care_manager, pcp, response, note):
    recommendation = signed_recommendation(episode, consultant)
    notes.communicate(recommendation=recommendation, by=care_manager, when=timezone.now() - HOUR, how="phone")

    notes.respond(recommendation=recommendation, by=care_manager, response=response, note=f"  {note}  ")

    recommendation.refresh_from_db()
    assert (recommendation.status, recommendation.response_note) == (response, note)
    assert recommendation.responded_by == care_manager
    assert recommendation.responded_at is not None
    assert (recommendation.communicated_how, recommendation.communicated_by) == ("phone", care_manager)


@pytest.mark.parametrize("response", ["modified", "declined"])
def test_changes_or_a_refusal_need_the_pcps_note(episode, consultant, pcp, response):
    recommendation = signed_recommendation(episode, consultant)

    with pytest.raises(ValidationError) as error:
        notes.respond(recommendation=recommendation, by=pcp, response=response, note=" ")

    assert error.value.message_dict == {"note": ["Say what was changed, or why it was declined."]}
    assert reloaded(recommendation).status == Status.PENDING


def test_an_unknown_response_is_refused(episode, consultant, pcp):
    recommendation = signed_recommendation(episode, consultant)

    with pytest.raises(ValidationError) as error:
        notes.respond(recommendation=recommendation, by=pcp, response="implemented")

    assert "response" in error.value.message_dict
    assert reloaded(recommendation).status == Status.PENDING


def test_a_pcp_answering_a_pending_recommendation_in_the_app_has_received_it(episode, consultant, pcp):
    recommendation = signed_recommendation(episode, consultant)
    before = timezone.now()

    notes.respond(recommendation=recommendation, by=pcp, response="modified", note="25 mg to start.")

    recommendation.refresh_from_db()
    assert recommendation.status == Status.MODIFIED
    assert (recommendation.communicated_how, recommendation.communicated_by) == ("in_app", pcp)
    assert before <= recommendation.communicated_at <= timezone.now()
    assert recommendation.responded_by == pcp


def test_a_recommendation_is_answered_once(episode, consultant, pcp):
    recommendation = signed_recommendation(episode, consultant)
    notes.respond(recommendation=recommendation, by=pcp, response="accepted")

    with pytest.raises(ValidationError, match="accepted by the pcp"):
        notes.respond(recommendation=recommendation, by=pcp, response="declined", note="Changed my mind.")

    assert reloaded(recommendation).status == Status.ACCEPTED


def bring_to(recommendation, status, by):
    if status == Status.COMMUNICATED:
        notes.communicate(recommendation=recommendation, by=by, when=timezone.now() - HOUR, how="phone")
    elif status in (Status.ACCEPTED, Status.MODIFIED, Status.DECLINED):
        notes.respond(recommendation=recommendation, by=by, response=status, note="As the PCP said.")
    return reloaded(recommendation)


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (Status.PENDING, False),
        (Status.COMMUNICATED, False),
        (Status.ACCEPTED, True),
        (Status.MODIFIED, True),
        (Status.DECLINED, False),
    ],
)
def test_implemented_only_after_the_pcp_accepted(episode, consultant, care_manager, status, allowed):
    recommendation = bring_to(signed_recommendation(episode, consultant), status, care_manager)

    if allowed:
        notes.mark_implemented(recommendation=recommendation, by=care_manager, on=today())
    else:
        with pytest.raises(ValidationError, match="This recommendation is"):
            notes.mark_implemented(recommendation=recommendation, by=care_manager, on=today())

    recommendation.refresh_from_db()
    assert recommendation.status == (Status.IMPLEMENTED if allowed else status)
    assert recommendation.implemented_on == (today() if allowed else None)


def test_implemented_or_communicated_before_the_recommendation_was_made_is_refused(episode, consultant, care_manager):
    recommendation = signed_recommendation(episode, consultant)
    yesterday_noon = timezone.now() - DAY

    with pytest.raises(ValidationError, match="before the recommendation was made"):
        notes.communicate(recommendation=recommendation, by=care_manager, when=yesterday_noon, how="phone")
    accepted = bring_to(recommendation, Status.ACCEPTED, care_manager)
    with pytest.raises(ValidationError, match="before the recommendation was made"):
        notes.mark_implemented(recommendation=accepted, by=care_manager, on=today() - DAY)


def test_implemented_in_the_future_is_refused(episode, consultant, care_manager):
    recommendation = bring_to(signed_recommendation(episode, consultant), Status.ACCEPTED, care_manager)

    with pytest.raises(ValidationError) as error:
        notes.mark_implemented(recommendation=recommendation, by=care_manager, on=today() + DAY)

    assert error.value.message_dict == {"on": ["That date is in the future."]}
    assert reloaded(recommendation).status == Status.ACCEPTED


# --- what a signed note changes: flags ----------------------------------------------------


def test_a_signed_note_clears_new_patient_and_a_draft_does_not(episode, consultant):
    flagged = refresh(episode)
    note = draft(episode, consultant)
    with_draft = refresh(episode)

    notes.sign(review=note, by=consultant)

    assert Kind.NEW_PATIENT in flagged
    assert Kind.NEW_PATIENT in with_draft
    assert Kind.NEW_PATIENT not in refresh(episode)


def test_signing_queues_the_flag_refresh_that_clears_new_patient(
    episode, consultant, django_capture_on_commit_callbacks
):
    refresh(episode)
    note = draft(episode, consultant)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notes.sign(review=note, by=consultant)

    assert len(callbacks) == 1
    assert Kind.NEW_PATIENT not in open_kinds(episode)


@pytest.fixture
def stuck(clinic, care_manager, consultant) -> Episode:
    """Active for 90 days since the initial assessment, PHQ-9 20 -> 15 (25% better): not improving."""
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__psychiatric_consultant=consultant,
        enrolled_on=today() - 100 * DAY,
    )
    record_contact(episode, today() - 90 * DAY, care_manager, kind="initial_assessment")
    record_score(episode, "PHQ9", 20, today() - 90 * DAY, care_manager)
    record_contact(episode, today() - 10 * DAY, care_manager)
    record_score(episode, "PHQ9", 15, today() - 10 * DAY, care_manager)
    return episode


def test_a_signed_note_restarts_the_not_improving_clock_and_a_draft_does_not(stuck, consultant):
    flagged = refresh(stuck)
    note = draft(stuck, consultant, reviewed_on=today() - 20 * DAY)
    with_draft = refresh(stuck)

    notes.sign(review=note, by=consultant)

    assert Kind.NOT_IMPROVING in flagged
    assert Kind.NOT_IMPROVING in with_draft
    assert Kind.NOT_IMPROVING not in refresh(stuck)
    assert Kind.NOT_IMPROVING not in refresh(stuck, on=today() + 8 * DAY)  # 28 days after the review
    assert Kind.NOT_IMPROVING in refresh(stuck, on=today() + 9 * DAY)  # 29 days after: due again


# --- what a signed note changes: the episode's summary ------------------------------------


def summary(episode) -> tuple:
    episode.refresh_from_db()
    return episode.last_case_review_on, episode.open_recommendations


def test_last_review_and_open_recommendations_follow_the_note_and_its_recommendations(
    episode, consultant, care_manager, pcp
):
    note = draft(episode, consultant, reviewed_on=today() - 3 * DAY)
    medication = notes.add_recommendation(review=note, by=consultant, kind="start_medication", drug="sertraline")
    referral = notes.add_recommendation(review=note, by=consultant, kind="referral", details="Psychotherapy.")
    as_draft = summary(episode)

    notes.sign(review=note, by=consultant)
    signed = summary(episode)
    notes.respond(recommendation=referral, by=pcp, response="declined", note="Waiting list of a year.")
    one_declined = summary(episode)
    notes.respond(recommendation=medication, by=pcp, response="accepted")
    accepted = summary(episode)
    notes.mark_implemented(recommendation=medication, by=care_manager, on=today())
    implemented = summary(episode)

    assert as_draft == (None, 0)
    assert signed == (today() - 3 * DAY, 2)
    assert one_declined == (today() - 3 * DAY, 1)
    assert accepted == (today() - 3 * DAY, 1)  # accepted is still open until implemented
    assert implemented == (today() - 3 * DAY, 0)


def test_a_drafts_recommendations_never_count_as_open_even_when_another_change_refreshes_the_summary(
    episode, consultant, care_manager
):
    signed_recommendation(episode, consultant, reviewed_on=today() - 10 * DAY)
    later = draft(episode, consultant, reviewed_on=today())
    notes.add_recommendation(review=later, by=consultant, kind="start_medication", drug="mirtazapine")

    record_contact(episode, today(), care_manager)  # refreshes the episode's summary

    assert summary(episode) == (today() - 10 * DAY, 1)


def test_the_last_review_is_the_latest_signed_one_not_the_latest_written(clinic, episode, consultant):
    colleague = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])
    early = draft(episode, consultant, reviewed_on=today() - 20 * DAY)
    notes.sign(review=early, by=consultant)
    draft(episode, colleague, reviewed_on=today() - DAY)  # not signed
    late = draft(episode, consultant, reviewed_on=today() - 5 * DAY)

    before = summary(episode)
    notes.sign(review=late, by=consultant)

    assert before == (today() - 20 * DAY, 0)
    assert summary(episode) == (today() - 5 * DAY, 0)


def test_the_first_review_is_the_earliest_signed_one_however_they_are_signed(clinic, episode, consultant):
    colleague, third = (UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic]) for _ in "ab")
    draft(episode, third, reviewed_on=today() - 30 * DAY)  # never signed: never the first review
    later = draft(episode, consultant, reviewed_on=today() - 5 * DAY)
    earlier = draft(episode, colleague, reviewed_on=today() - 20 * DAY)

    notes.sign(review=later, by=consultant)
    episode.refresh_from_db()
    after_the_later = episode.first_case_review_on
    notes.sign(review=earlier, by=colleague)  # signed second, dated first
    episode.refresh_from_db()

    assert after_the_later == today() - 5 * DAY
    assert (episode.first_case_review_on, episode.last_case_review_on) == (today() - 20 * DAY, today() - 5 * DAY)


def test_the_migration_fills_the_first_review_of_episodes_reviewed_before_it(episode, consultant):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("patients.migrations.0005_first_case_review")
    notes.sign(review=draft(episode, consultant, reviewed_on=today() - 9 * DAY), by=consultant)
    Episode.objects.update(first_case_review_on=None)  # as every episode stood before the column

    migration.fill_first_case_review(apps, None)

    episode.refresh_from_db()
    assert episode.first_case_review_on == today() - 9 * DAY


# --- history ------------------------------------------------------------------------------


def steps(instance) -> list[tuple[str, object]]:
    return [(h.history_type, h.history_user) for h in instance.history.order_by("history_id")]


def test_every_step_is_in_history_with_the_person_who_took_it(item, episode, consultant, care_manager, pcp):
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant, agenda_item=item)
    write(note, consultant)
    recommendation = notes.add_recommendation(review=note, by=consultant, kind="start_medication", drug="sertraline")
    notes.sign(review=note, by=consultant)
    notes.communicate(recommendation=recommendation, by=care_manager, when=timezone.now() - HOUR, how="phone")
    notes.respond(recommendation=recommendation, by=pcp, response="accepted")
    notes.mark_implemented(recommendation=recommendation, by=care_manager, on=today())
    amendment = notes.amend(review=note, by=consultant, text="Check sodium in 4 weeks.")

    assert steps(note) == [("+", consultant), ("~", consultant), ("~", consultant)]
    assert steps(recommendation) == [
        ("+", consultant),
        ("~", consultant),
        ("~", care_manager),
        ("~", pcp),
        ("~", care_manager),
    ]
    assert [h.status for h in recommendation.history.order_by("history_id")] == [
        "pending",
        "pending",
        "communicated",
        "accepted",
        "implemented",
    ]
    assert steps(amendment) == [("+", consultant)]
    assert note.history.order_by("history_id").last().signed_at is not None


def test_a_draft_left_unsigned_at_one_session_moves_on_to_the_next(clinic, item, episode, consultant):
    left = notes.start_note(episode=episode, consultant=consultant, by=consultant, agenda_item=item)
    (next_week,) = build_agendas(clinic, today() + datetime.timedelta(days=7))
    next_item = next_week.items.get(episode=episode)

    moved = notes.start_note(episode=episode, consultant=consultant, by=consultant, agenda_item=next_item)

    assert moved.pk == left.pk
    assert reloaded(moved).agenda_item == next_item
