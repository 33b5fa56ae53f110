"""reviews.csv: case reviews imported with the registry, optional, checked, all or nothing, idempotent."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role
from consults import notes as consult_notes
from consults.models import CaseReview
from interchange.importer import import_registry
from interchange.importing import writing
from interchange.importing.columns import MEASUREMENTS, REVIEWS
from interchange.models import ImportRun
from interchange.tests.builders import contact, csv_text, day, files, iso, measurement, patient, review
from patients import services as patient_services
from patients.models import Episode, Patient
from registry import services
from registry.flags import refresh_flags
from registry.models import Contact, Flag, Measurement
from tests.factories import ClinicFactory, UserFactory

pytestmark = pytest.mark.django_db

ENROLLED = iso(-90)
HEADER = "mrn,clinic,date,consultant,note"
TOMORROW = iso(1)


def run(by, **rows):
    return import_registry(files=files(**rows), by=by)


def nothing_imported() -> bool:
    return not (
        Patient.objects.exists()
        or Episode.objects.exists()
        or Contact.objects.exists()
        or Measurement.objects.exists()
        or CaseReview.objects.exists()
    )


@pytest.fixture
def staff(clinic, care_manager, consultant):
    south = ClinicFactory(code="south", name="South Clinic")
    UserFactory(username="drsouth", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[south])


# --- Each column, with the exact error line ------------------------------------------------

REVIEW_ERRORS = [
    ({"mrn": ""}, "mrn: required"),
    ({"clinic": "nowhere"}, "clinic: no clinic with code 'nowhere'"),
    (
        {"clinic": "south", "consultant": "drsouth"},
        "clinic: you may not import into clinic 'south': you do not belong to it",
    ),
    ({"date": ""}, "date: required"),
    ({"date": "2026-1-5"}, "date: '2026-1-5' is not a date in YYYY-MM-DD form"),
    ({"date": "2025-02-30"}, "date: 2025-02-30 is not a real date"),
    ({"date": TOMORROW}, f"date: {TOMORROW} is in the future"),
    ({"consultant": ""}, "consultant: required"),
    ({"consultant": "ghost"}, "consultant: no staff account 'ghost'"),
    ({"consultant": "cm"}, "consultant: cm is not a psychiatric consultant"),
    ({"consultant": "drsouth"}, "consultant: drsouth does not work at clinic 'north'"),
    ({"note": ""}, "note: required"),
    ({"note": "   "}, "note: required"),
    ({"date": iso(-91)}, f"date: {iso(-91)} is in no episode of this patient (episodes: {ENROLLED} open)"),
    ({"mrn": "Z-9"}, "mrn: no patient with MRN Z-9 at clinic 'north' in patients.csv or the registry"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "expected"), REVIEW_ERRORS, ids=[e for _, e in REVIEW_ERRORS])
def test_each_reviews_column_is_checked_with_its_file_line_and_column(data_manager, staff, fields, expected):
    result = run(data_manager, patients=[patient()], contacts=[contact()], reviews=[review(), review(**fields)])

    assert result.errors == [f"reviews.csv:3: {expected}"]
    assert nothing_imported()


def test_every_bad_column_of_a_review_row_is_reported_after_the_other_files(data_manager, staff):
    result = run(
        data_manager,
        patients=[patient()],
        measurements=[measurement(items="1 1")],
        reviews=[review(date="soon", consultant="ghost", note="")],
    )

    assert result.errors == [
        "measurements.csv:2: items: PHQ-9 needs 9 answers, got 2",
        "reviews.csv:2: date: 'soon' is not a date in YYYY-MM-DD form",
        "reviews.csv:2: consultant: no staff account 'ghost'",
        "reviews.csv:2: note: required",
    ]


def test_a_consultant_whose_account_is_closed_since_is_still_who_held_the_review(data_manager, staff, consultant):
    consultant.is_active = False
    consultant.save()

    result = run(data_manager, patients=[patient()], reviews=[review()])

    assert result.errors == []
    assert CaseReview.objects.get().consultant == consultant


# --- The file ------------------------------------------------------------------------------


def test_without_reviews_csv_the_import_is_as_before(data_manager, care_manager):
    result = run(data_manager, patients=[patient()], contacts=[contact()], measurements=[measurement()])

    assert result.errors == []
    assert result.summary() == [
        "patients.csv: 1 rows: 1 episodes created (1 new patient), 0 already present",
        "contacts.csv: 1 rows: 1 created, 0 already present",
        "measurements.csv: 1 rows: 1 created, 0 already present",
    ]
    assert not CaseReview.objects.exists()
    run_row = ImportRun.objects.get()
    assert (run_row.rows_read, run_row.reviews_created, run_row.reviews_present) == (3, 0, 0)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("mrn,clinic,date,consultant\n", ["reviews.csv:1: header: missing column(s): note"]),
        (
            "mrn,clinic,date,psychiatrist,note\n",
            [
                "reviews.csv:1: header: missing column(s): consultant",
                "reviews.csv:1: header: unexpected column(s): psychiatrist",
            ],
        ),
        ("", [f"reviews.csv:1: header: the file is empty; the first line names the columns: {HEADER}"]),
    ],
    ids=["missing", "renamed", "empty"],
)  # fmt: skip
def test_a_reviews_file_with_a_wrong_header_is_an_error(data_manager, staff, content, expected):
    result = import_registry(files={**files(patients=[patient()]), REVIEWS: content.encode()}, by=data_manager)

    assert result.errors == expected
    assert nothing_imported()


def test_a_reviews_file_with_only_its_header_imports_the_rest(data_manager, staff):
    result = run(data_manager, patients=[patient()], reviews=[])

    assert result.errors == []
    assert result.summary()[-1] == "reviews.csv: 0 rows: 0 created, 0 already present"
    assert Patient.objects.exists()


def test_a_missing_required_file_is_still_an_error_when_reviews_are_given(data_manager, staff):
    data = files(patients=[patient()], reviews=[review()])
    del data[MEASUREMENTS]

    result = import_registry(files=data, by=data_manager)

    assert result.errors == ["measurements.csv: file: missing"]
    assert nothing_imported()


def test_line_numbers_are_physical_lines_when_a_review_note_spans_several(data_manager, staff):
    rows = [review(note="Assessment.\nPlan: sertraline.\nFollow up in 4 weeks."), review(consultant="cm")]

    result = run(data_manager, patients=[patient()], reviews=rows)

    assert result.errors == ["reviews.csv:5: consultant: cm is not a psychiatric consultant"]


# --- Writing: through the service, in the episode of its date -------------------------------


def test_an_imported_review_is_signed_at_once_by_its_consultant_and_recorded_by_the_importer(
    data_manager, staff, consultant
):
    result = run(data_manager, patients=[patient()], reviews=[review(note="  Moderate depression.  ")])

    assert result.errors == []
    stored = CaseReview.objects.get()
    assert (stored.reviewed_on, stored.consultant, stored.recorded_by) == (day(-80), consultant, data_manager)
    assert stored.is_signed
    assert stored.assessment == stored.summary == "Moderate depression."
    assert stored.history.get().history_user == data_manager
    assert Episode.objects.get().last_case_review_on == day(-80)
    assert result.summary()[-1] == "reviews.csv: 1 rows: 1 created, 0 already present"
    run_row = ImportRun.objects.get()
    assert (run_row.rows_read, run_row.reviews_created, run_row.reviews_present) == (2, 1, 0)


def test_a_review_goes_to_the_episode_whose_window_holds_its_date_before_its_discharge(data_manager, staff):
    patients = [
        patient(enrolled_on=iso(-300), status="discharged", discharged_on=iso(-200), discharge_reason="goals_met"),
        patient(enrolled_on=iso(-60)),
    ]
    reviews = [review(date=iso(-250)), review(date=iso(-200), note="Discharge review."), review(date=iso(-30))]

    result = run(data_manager, patients=patients, reviews=reviews)

    assert result.errors == []
    old, new = Episode.objects.order_by("enrolled_on")
    assert (old.status, old.discharged_on, old.last_case_review_on) == ("discharged", day(-200), day(-200))
    assert sorted(old.case_reviews.values_list("reviewed_on", flat=True)) == [day(-250), day(-200)]
    assert (new.last_case_review_on, new.case_reviews.get().reviewed_on) == (day(-30), day(-30))


def test_no_review_is_added_to_an_episode_discharged_in_the_registry(data_manager, staff):
    discharged = patient(status="discharged", discharged_on=iso(-5), discharge_reason="moved")
    run(data_manager, patients=[discharged])

    result = run(data_manager, patients=[discharged], reviews=[review(date=iso(-50))])

    assert result.errors == [
        f"reviews.csv:2: date: the episode enrolled on {ENROLLED} is discharged in the registry ({iso(-5)}); "
        "new case reviews cannot be added to it"
    ]
    assert not CaseReview.objects.exists()


def test_a_review_answers_an_open_request_for_discussion(data_manager, staff, care_manager):
    run(data_manager, patients=[patient()])
    episode = Episode.objects.get()
    services.raise_flag(episode=episode, kind=Flag.Kind.NEEDS_DISCUSSION, by=care_manager, reason="Stalled")

    assert run(data_manager, patients=[patient()], reviews=[review(date=iso(-3))]).errors == []

    flag = Flag.objects.get(kind=Flag.Kind.NEEDS_DISCUSSION)
    assert (flag.is_open, flag.resolved_by) == (False, data_manager)
    assert flag.resolution_note == f"Discussed at the case review of {iso(-3)}."


# --- Flags -----------------------------------------------------------------------------------


def new_patient_flag_open() -> bool:
    return Flag.objects.filter(kind=Flag.Kind.NEW_PATIENT, resolved_at__isnull=True).exists()


def test_an_imported_review_clears_the_new_patient_flag_after_the_refresh(
    data_manager, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert run(data_manager, patients=[patient()]).errors == []
    assert new_patient_flag_open()

    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert run(data_manager, patients=[patient()], reviews=[review()]).errors == []

    assert len(queued) == 1  # one flag refresh for the touched episodes, after commit
    assert not new_patient_flag_open()
    assert Flag.objects.get(kind=Flag.Kind.NEW_PATIENT).resolution_note.startswith("Resolved automatically")


def test_a_patient_imported_with_a_review_never_counts_as_new(data_manager, staff):
    assert run(data_manager, patients=[patient(), patient(mrn="B-2")], reviews=[review()]).errors == []

    refresh_flags()

    flagged = Flag.objects.filter(kind=Flag.Kind.NEW_PATIENT).values_list("episode__patient__mrn", flat=True)
    assert list(flagged) == ["B-2"]


# --- All or nothing --------------------------------------------------------------------------


def test_one_bad_review_row_rolls_back_every_file(data_manager, staff):
    result = run(
        data_manager,
        patients=[patient(), patient(mrn="B-2")],
        contacts=[contact(kind="initial_assessment")],
        measurements=[measurement()],
        reviews=[review(), review(mrn="B-2", consultant="drsouth")],
    )

    assert result.errors == ["reviews.csv:3: consultant: drsouth does not work at clinic 'north'"]
    assert result.summary() == ["Nothing was imported: 1 error."]
    assert nothing_imported()
    assert not Flag.objects.exists()
    assert (ImportRun.objects.get().succeeded, ImportRun.objects.get().reviews_created) == (False, 0)


def test_a_bad_row_elsewhere_rolls_back_the_reviews(data_manager, staff):
    result = run(data_manager, patients=[patient()], contacts=[contact(kind="visit")], reviews=[review()])

    assert len(result.errors) == 1 and result.errors[0].startswith("contacts.csv:2: kind:")
    assert nothing_imported()


# --- Idempotency -------------------------------------------------------------------------------


def review_rows() -> dict:
    return {
        "patients": [
            patient(),
            patient(mrn="B-2", enrolled_on=iso(-300), status="discharged", discharged_on=iso(-200),
                    discharge_reason="goals_met"),
            patient(mrn="B-2", enrolled_on=iso(-60)),
        ],
        "contacts": [contact(kind="initial_assessment")],
        "reviews": [
            review(),
            review(date=iso(-40), note="Responding.\nContinue."),
            review(date=iso(-40), note="Responding.\nContinue."),  # alike in every matched column: two reviews
            review(mrn="B-2", date=iso(-250)),
            review(mrn="B-2", date=iso(-10)),
        ],
    }  # fmt: skip


def test_running_the_same_reviews_again_creates_nothing_and_says_so(data_manager, staff):
    first = run(data_manager, **review_rows())
    history = (CaseReview.history.count(), Episode.history.count())

    second = run(data_manager, **review_rows())

    assert first.errors == second.errors == []
    assert first.summary()[-1] == "reviews.csv: 5 rows: 5 created, 0 already present"
    assert second.summary()[-1] == "reviews.csv: 5 rows: 0 created, 5 already present"
    assert CaseReview.objects.count() == 5
    assert (CaseReview.history.count(), Episode.history.count()) == history
    last_run = ImportRun.objects.order_by("at", "pk").last()
    assert (last_run.reviews_created, last_run.reviews_present) == (0, 5)


def test_a_grown_reviews_file_adds_only_its_new_rows(data_manager, staff):
    run(data_manager, **review_rows())
    grown = review_rows()
    grown["reviews"].append(review(date=iso(-40), note="Responding.\nContinue."))  # a third alike
    grown["reviews"].append(review(date=iso(-40), note="Another text the same day."))
    grown["reviews"].append(review(date=iso(-5)))

    result = run(data_manager, **grown)

    assert (result.created["reviews"], result.present["reviews"]) == (3, 5)
    assert Episode.objects.get(patient__mrn="A-1").last_case_review_on == day(-5)


def test_a_review_held_in_the_app_is_matched_and_a_draft_is_not(data_manager, staff, consultant):
    run(data_manager, patients=[patient()])
    episode = Episode.objects.get()
    signed = consult_notes.start_note(episode=episode, consultant=consultant, by=consultant)
    consult_notes.save_draft(
        review=signed, by=consultant, reviewed_on=day(-80), assessment="Signed in the app.", diagnoses=[], summary=""
    )
    consult_notes.sign(review=signed, by=consultant)
    draft = consult_notes.start_note(episode=episode, consultant=consultant, by=consultant)
    consult_notes.save_draft(
        review=draft, by=consultant, reviewed_on=day(-70), assessment="Still a draft.", diagnoses=[], summary=""
    )

    result = run(
        data_manager,
        patients=[patient()],
        reviews=[review(date=iso(-80), note="Signed in the app."), review(date=iso(-70), note="Still a draft.")],
    )

    assert (result.created["reviews"], result.present["reviews"]) == (1, 1)
    assert CaseReview.objects.filter(signed_at__isnull=False).count() == 2


def test_a_review_with_other_text_date_or_consultant_is_another_review(data_manager, staff, clinic):
    UserFactory(username="drlee", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])
    run(data_manager, patients=[patient()], reviews=[review()])

    result = run(
        data_manager,
        patients=[patient()],
        reviews=[review(), review(note="Other text."), review(date=iso(-79)), review(consultant="drlee")],
    )

    assert (result.created["reviews"], result.present["reviews"]) == (3, 1)


def test_reviews_name_the_patient_known_to_the_registry_without_their_row(data_manager, staff, clinic):
    """A reviews.csv may bring reviews of a patient already registered; patients.csv need not list them."""
    patient_services.enroll_patient(
        clinic=clinic,
        enrolled_on=day(-30),
        by=data_manager,
        mrn="K-7",
        first_name="Kim",
        last_name="Lo",
        birth_date=day(-10000),
        sex="other",
    )

    result = import_registry(
        files={**files(patients=[patient()]), REVIEWS: csv_text(REVIEWS, [review(mrn="K-7", date=iso(-2))]).encode()},
        by=data_manager,
    )

    assert result.errors == []
    assert Episode.objects.get(patient__mrn="K-7").last_case_review_on == day(-2)


def test_a_refusal_by_the_review_service_is_reported_on_the_rows_line_and_column(data_manager, staff, monkeypatch):
    def refuse(**fields):
        raise ValidationError({"summary": "Say what was discussed."})

    monkeypatch.setattr(writing.consult_services, "record_case_review", refuse)

    result = run(data_manager, patients=[patient()], contacts=[contact()], reviews=[review(), review(date=iso(-70))])

    assert result.errors == [
        "reviews.csv:2: note: Say what was discussed",
        "reviews.csv:3: note: Say what was discussed",
    ]
    assert nothing_imported()
