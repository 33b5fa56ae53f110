"""The registry CSV import: each column's rule, all or nothing, idempotency, and the app's rules on the way in."""

import datetime

import pytest
from django.db import connection

from accounts.models import Role
from interchange.importer import import_registry
from interchange.importing import writing
from interchange.importing.columns import CONTACTS, MEASUREMENTS, PATIENTS
from interchange.importing.placement import EpisodeWindow, episode_for
from interchange.models import ImportRun
from interchange.tests.builders import contact, csv_text, day, files, iso, measurement, patient
from patients import services as patient_services
from patients.models import Episode, Patient
from registry.models import Contact, Flag, Measurement
from tests.factories import ClinicFactory, UserFactory, record_contact

pytestmark = pytest.mark.django_db


def run(by, **rows):
    return import_registry(files=files(**rows), by=by)


def nothing_imported() -> bool:
    return not (Patient.objects.exists() or Episode.objects.exists() or Contact.objects.exists())


# --- Each column, with the exact error line ------------------------------------------------

SOUTH_STAFF = "southpcp"
TOMORROW = iso(1)
ENROLLED = iso(-90)

PATIENT_ERRORS = [
    ({"mrn": ""}, "mrn: required"),
    ({"mrn": "X" * 33}, "mrn: longer than 32 characters"),
    ({"clinic": ""}, "clinic: required"),
    ({"clinic": "nowhere"}, "clinic: no clinic with code 'nowhere'"),
    ({"first_name": ""}, "first_name: required"),
    ({"last_name": "Y" * 101}, "last_name: longer than 100 characters"),
    ({"birth_date": "01/02/1970"}, "birth_date: '01/02/1970' is not a date in YYYY-MM-DD form"),
    ({"birth_date": "1970-02-30"}, "birth_date: 1970-02-30 is not a real date"),
    ({"birth_date": "1899-12-31"}, "birth_date: 1899-12-31 is before 1900-01-01"),
    ({"birth_date": TOMORROW}, f"birth_date: {TOMORROW} is in the future"),
    ({"sex": "f"}, "sex: 'f' is not one of female, male, other, unknown"),
    ({"care_manager": "ghost"}, "care_manager: no staff account 'ghost'"),
    ({"care_manager": "drchen"}, "care_manager: drchen is not a care manager"),
    ({"psychiatric_consultant": "cm"}, "psychiatric_consultant: cm is not a psychiatric consultant"),
    ({"pcp": SOUTH_STAFF}, f"pcp: {SOUTH_STAFF} does not work at clinic 'north'"),
    ({"enrolled_on": "2026-13-01"}, "enrolled_on: 2026-13-01 is not a real date"),
    ({"enrolled_on": TOMORROW}, f"enrolled_on: {TOMORROW} is in the future"),
    ({"status": "closed"}, "status: 'closed' is not one of enrolled, active, relapse_prevention, discharged"),
    ({"status": "Active"}, "status: 'Active' is not one of enrolled, active, relapse_prevention, discharged"),
    ({"status": "discharged", "discharge_reason": "moved"}, "discharged_on: required when the status is discharged"),
    ({"status": "discharged", "discharged_on": iso(-5)}, "discharge_reason: required when the status is discharged"),
    ({"discharged_on": iso(-5)}, "discharged_on: must be empty when the status is active"),
    (
        {"status": "enrolled", "discharge_reason": "moved"},
        "discharge_reason: must be empty when the status is enrolled",
    ),
    (
        {"status": "discharged", "discharged_on": iso(-5), "discharge_reason": "better"},
        "discharge_reason: 'better' is not one of goals_met, referred, declined, moved, no_contact, deceased, other",
    ),
    (
        {"status": "discharged", "discharged_on": iso(-95), "discharge_reason": "moved"},
        f"discharged_on: {iso(-95)} is before enrolled_on ({ENROLLED})",
    ),
    (
        {"discharged_on": "soon", "status": "discharged", "discharge_reason": "moved"},
        "discharged_on: 'soon' is not a date in YYYY-MM-DD form",
    ),
]  # fmt: skip


@pytest.fixture
def staff(clinic, care_manager, consultant):
    south = ClinicFactory(code="south", name="South Clinic")
    UserFactory(username=SOUTH_STAFF, role=Role.MEDICAL_PROVIDER, fte=None, clinics=[south])


@pytest.mark.parametrize(("fields", "expected"), PATIENT_ERRORS, ids=[e for _, e in PATIENT_ERRORS])
def test_each_patients_column_is_checked_with_its_file_line_and_column(data_manager, staff, fields, expected):
    result = run(data_manager, patients=[patient(mrn="OK-1"), patient(**fields)])

    assert result.errors == [f"patients.csv:3: {expected}"]
    assert nothing_imported()


CONTACT_ERRORS = [
    ({"mrn": ""}, "mrn: required"),
    ({"clinic": "nowhere"}, "clinic: no clinic with code 'nowhere'"),
    ({"date": ""}, "date: required"),
    ({"date": "2026-1-5"}, "date: '2026-1-5' is not a date in YYYY-MM-DD form"),
    ({"date": TOMORROW}, f"date: {TOMORROW} is in the future"),
    (
        {"kind": "visit"},
        "kind: 'visit' is not one of initial_assessment, follow_up, relapse_prevention, outreach, other",
    ),
    ({"mode": "fax"}, "mode: 'fax' is not one of in_person, phone, video, secure_message, letter"),
    ({"reached": "maybe"}, "reached: 'maybe' is not yes or no"),
    ({"reached": ""}, "reached: required: yes or no"),
    ({"minutes": "ten"}, "minutes: must be a whole number 0-600, not 'ten'"),
    ({"minutes": "601"}, "minutes: must be 0-600, not 601"),
    ({"minutes": "-5"}, "minutes: must be 0-600, not -5"),
    (
        {"interventions": "psychoeducation;yoga"},
        "interventions: 'yoga' not among behavioral_activation, problem_solving, motivational_interviewing, "
        "psychoeducation, safety_planning, medication_adherence, care_coordination",
    ),
    ({"next_contact_on": iso(-86)}, f"next_contact_on: {iso(-86)} is before the contact date ({iso(-85)})"),
    ({"next_contact_on": "next week"}, "next_contact_on: 'next week' is not a date in YYYY-MM-DD form"),
    ({"date": iso(-91)}, f"date: {iso(-91)} is in no episode of this patient (episodes: {ENROLLED} open)"),
    ({"mrn": "Z-9"}, "mrn: no patient with MRN Z-9 at clinic 'north' in patients.csv or the registry"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "expected"), CONTACT_ERRORS, ids=[e for _, e in CONTACT_ERRORS])
def test_each_contacts_column_is_checked_with_its_file_line_and_column(data_manager, staff, fields, expected):
    result = run(data_manager, patients=[patient()], contacts=[contact(), contact(**fields)])

    assert result.errors == [f"contacts.csv:3: {expected}"]
    assert nothing_imported()


MEASUREMENT_ERRORS = [
    (
        {"instrument": "PHQ-9"},
        "instrument: 'PHQ-9' is not one of PHQ9, GAD7, PHQ2, GAD2, AUDITC, CSSRS, PCL5, EPDS, PHQA",
    ),
    ({"date": "yesterday"}, "date: 'yesterday' is not a date in YYYY-MM-DD form"),
    ({"items": "2 2 5 2 2 2 2 2 0"}, "items: PHQ-9 item 3 must be 0-3, not 5"),
    ({"items": "2 2 2 2 2 2 2 2 -1"}, "items: PHQ-9 item 9 must be 0-3, not -1"),
    ({"items": "1 1 1"}, "items: PHQ-9 needs 9 answers, got 3"),
    ({"instrument": "GAD7", "items": "1 x 1 1 1 1 1"}, "items: GAD-7 item 2 must be 0-3, not 'x'"),
    ({"instrument": "PHQ2", "items": "1,1"}, "items: PHQ-2 needs 2 answers, got 1"),
    ({"total": "12"}, "total: give the items or, when they are unknown, the total: not both"),
    ({"items": ""}, "items: required: the answers separated by spaces (or a total when they are unknown)"),
    ({"items": "", "total": "28"}, "total: PHQ-9 total must be 0-27, not 28"),
    ({"items": "", "total": "high"}, "total: PHQ-9 total must be a whole number 0-27, not 'high'"),
    ({"instrument": "GAD2", "items": "", "total": "7"}, "total: GAD-2 total must be 0-6, not 7"),
    (
        {"date": iso(-121)},
        f"date: {iso(-121)} is in no episode of this patient, or up to 30 days before one (episodes: {ENROLLED} open)",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "expected"), MEASUREMENT_ERRORS, ids=[e for _, e in MEASUREMENT_ERRORS])
def test_each_measurements_column_is_checked_with_its_file_line_and_column(data_manager, staff, fields, expected):
    result = run(data_manager, patients=[patient()], measurements=[measurement(), measurement(**fields)])

    assert result.errors == [f"measurements.csv:3: {expected}"]
    assert nothing_imported()


def test_every_bad_column_of_a_row_is_reported(data_manager, care_manager):
    result = run(data_manager, patients=[patient(sex="f", status="open", birth_date="1970")])

    assert result.errors == [
        "patients.csv:2: birth_date: '1970' is not a date in YYYY-MM-DD form",
        "patients.csv:2: sex: 'f' is not one of female, male, other, unknown",
        "patients.csv:2: status: 'open' is not one of enrolled, active, relapse_prevention, discharged",
    ]


# --- The files ---------------------------------------------------------------------------


def test_missing_files_and_header_columns_are_errors(data_manager, care_manager):
    header = "mrn,clinic,date,kind,mode,reached,minutes,interventions,note,extra\n"

    result = import_registry(files={PATIENTS: csv_text(PATIENTS, [patient()]), CONTACTS: header}, by=data_manager)

    assert result.errors == [
        "contacts.csv:1: header: missing column(s): next_contact_on",
        "contacts.csv:1: header: unexpected column(s): extra",
        "measurements.csv: file: missing",
    ]
    assert nothing_imported()


def test_an_empty_file_and_a_repeated_column_are_errors(data_manager, care_manager):
    measurements_header = "mrn,clinic,date,instrument,items,total,total\n"

    result = import_registry(
        files={PATIENTS: b"", CONTACTS: csv_text(CONTACTS, []), MEASUREMENTS: measurements_header}, by=data_manager
    )

    assert result.errors == [
        "patients.csv:1: header: the file is empty; the first line names the columns: "
        "mrn,clinic,first_name,last_name,birth_date,sex,care_manager,psychiatric_consultant,pcp,"
        "enrolled_on,status,discharged_on,discharge_reason",
        "measurements.csv:1: header: repeated column(s): total",
    ]


def test_a_byte_order_mark_crlf_lines_header_case_and_blank_lines_are_tolerated(data_manager, care_manager):
    text = csv_text(PATIENTS, [patient()]).replace("\n", "\r\n").replace("mrn,clinic", "MRN, Clinic", 1)
    data = files(contacts=[contact()])

    result = import_registry(files={**data, PATIENTS: "\ufeff".encode() + text.encode() + b"\r\n\r\n"}, by=data_manager)

    assert result.errors == []
    assert Patient.objects.get().mrn == "A-1"


def test_text_that_is_not_utf8_is_reported_at_its_line(data_manager, care_manager):
    text = csv_text(PATIENTS, [patient(), patient(mrn="B-2", last_name="Muñoz")])

    result = import_registry(files={**files(), PATIENTS: text.encode("latin-1")}, by=data_manager)

    assert result.errors == ["patients.csv:3: file: not UTF-8 text"]


def test_a_row_with_too_few_values_is_reported(data_manager, care_manager):
    text = csv_text(PATIENTS, [patient()]) + "B-2,north,Bea\n"

    result = import_registry(files={**files(), PATIENTS: text}, by=data_manager)

    assert result.errors == ["patients.csv:3: row: expected 13 values, found 3"]


def test_line_numbers_are_physical_lines_when_a_note_spans_several(data_manager, care_manager):
    rows = [contact(note="Talked about sleep.\nAnd work.\nAnd family."), contact(kind="visit")]

    result = run(data_manager, patients=[patient()], contacts=rows)

    assert result.errors == [
        "contacts.csv:5: kind: 'visit' is not one of initial_assessment, follow_up, relapse_prevention, outreach, other"
    ]


# --- All or nothing ----------------------------------------------------------------------


def test_two_good_rows_and_three_bad_rows_import_nothing_and_report_all_three(data_manager, care_manager):
    contacts = [
        contact(kind="initial_assessment"),
        contact(date=iso(-80), reached="perhaps"),
        contact(date=iso(-70)),
        contact(date=iso(-60), minutes="lots"),
        contact(date=iso(-200)),
    ]

    result = run(data_manager, patients=[patient(), patient(mrn="B-2")], contacts=contacts)

    assert result.errors == [
        "contacts.csv:3: reached: 'perhaps' is not yes or no",
        "contacts.csv:5: minutes: must be a whole number 0-600, not 'lots'",
        f"contacts.csv:6: date: {iso(-200)} is in no episode of this patient (episodes: {ENROLLED} open)",
    ]
    assert not result.succeeded
    assert result.summary() == ["Nothing was imported: 3 errors."]
    assert nothing_imported()
    assert not Measurement.objects.exists() and not Flag.objects.exists()


def test_a_refusal_by_the_database_rolls_back_that_row_only_and_the_import_goes_on_checking(
    data_manager, care_manager, monkeypatch
):
    """Each row has its own savepoint: on PostgreSQL an error would otherwise abort the transaction."""
    record_contact_service = writing.services.record_contact

    def refused_when_the_note_says_so(**fields):
        if fields["note"] == "refuse":
            with connection.cursor() as cursor:
                cursor.execute("UPDATE registry_contact SET minutes = 9999")  # breaks contact_minutes_range
        return record_contact_service(**fields)

    monkeypatch.setattr(writing.services, "record_contact", refused_when_the_note_says_so)
    # After the refused row, more writes: on PostgreSQL they would fail if the transaction were aborted.
    contacts = [contact(kind="initial_assessment"), contact(date=iso(-80), note="refuse"), contact(date=iso(-70))]
    measurements = [measurement(date=iso(-70)), measurement(date=iso(-60), mrn="Z-9")]

    result = run(data_manager, patients=[patient()], contacts=contacts, measurements=measurements)

    assert len(result.errors) == 2
    assert result.errors[0].startswith("contacts.csv:3: date: refused by the database: ")
    assert (
        result.errors[1]
        == "measurements.csv:3: mrn: no patient with MRN Z-9 at clinic 'north' in patients.csv or the registry"
    )
    assert nothing_imported()


def test_a_service_refusal_is_reported_on_the_rows_line(data_manager, care_manager):
    existing = patient_services.enroll_patient(
        clinic=care_manager.clinics.get(),
        enrolled_on=day(-30),
        by=care_manager,
        mrn="A-1",
        first_name="Ann",
        last_name="Young",
        birth_date=datetime.date(1970, 1, 1),
        sex="female",
    )

    result = run(data_manager, patients=[patient(enrolled_on=iso(-10)), patient(mrn="B-2")])

    assert result.errors == ["patients.csv:2: enrolled_on: This patient already has an open episode of care"]
    assert list(Patient.objects.all()) == [existing]


def test_each_run_is_recorded_whether_it_succeeds_or_not(data_manager, care_manager, clinic):
    run(data_manager, patients=[patient()], contacts=[contact()], measurements=[measurement()])
    run(data_manager, patients=[patient(sex="?")])

    failed, succeeded = ImportRun.objects.all()
    assert (succeeded.by_username, succeeded.how, succeeded.succeeded, succeeded.error_count) == (
        "dana",
        "command",
        True,
        0,
    )
    assert (succeeded.rows_read, succeeded.patients_created, succeeded.episodes_created) == (3, 1, 1)
    assert (succeeded.contacts_created, succeeded.measurements_created) == (1, 1)
    assert list(succeeded.clinics.all()) == [clinic]
    assert (failed.succeeded, failed.error_count, failed.patients_created, failed.rows_read) == (False, 1, 0, 1)


# --- Idempotency -------------------------------------------------------------------------


def registry_rows() -> dict:
    return {
        "patients": [
            patient(),
            patient(mrn="B-2", enrolled_on=iso(-300), status="discharged", discharged_on=iso(-200),
                    discharge_reason="goals_met"),
            patient(mrn="B-2", enrolled_on=iso(-60), status="enrolled"),
        ],
        "contacts": [
            contact(kind="initial_assessment", minutes="45", interventions="psychoeducation;behavioral_activation"),
            contact(date=iso(-70)),
            contact(date=iso(-70)),  # two calls the same day, alike in every matched column
            contact(mrn="B-2", date=iso(-250), kind="initial_assessment"),
            contact(mrn="B-2", date=iso(-20), kind="outreach", reached="no", minutes="5"),
        ],
        "measurements": [
            measurement(),
            measurement(date=iso(-100), items="", total="17"),
            measurement(mrn="B-2", date=iso(-250), instrument="GAD7", items="3 3 3 1 1 1 1"),
            measurement(mrn="B-2", date=iso(-75), instrument="PHQ9", items="1 1 1 1 1 1 1 1 0"),
        ],
    }  # fmt: skip


def test_running_the_same_import_again_creates_nothing_and_says_so(data_manager, care_manager):
    first = run(data_manager, **registry_rows())
    counts = (Patient.objects.count(), Episode.objects.count(), Contact.objects.count(), Measurement.objects.count())
    history = (Patient.history.count(), Episode.history.count(), Contact.history.count())

    second = run(data_manager, **registry_rows())

    assert first.summary() == [
        "patients.csv: 3 rows: 3 episodes created (2 new patients), 0 already present",
        "contacts.csv: 5 rows: 5 created, 0 already present",
        "measurements.csv: 4 rows: 4 created, 0 already present",
    ]
    assert second.summary() == [
        "patients.csv: 3 rows: 0 episodes created (0 new patients), 3 already present",
        "contacts.csv: 5 rows: 0 created, 5 already present",
        "measurements.csv: 4 rows: 0 created, 4 already present",
    ]
    assert counts == (2, 3, 5, 4)
    assert (Patient.objects.count(), Episode.objects.count(), Contact.objects.count()) == counts[:3]
    assert Measurement.objects.count() == counts[3]
    assert (Patient.history.count(), Episode.history.count(), Contact.history.count()) == history


def test_a_grown_file_adds_only_the_new_rows_and_moves_the_status_on(data_manager, care_manager):
    run(data_manager, **registry_rows())
    grown = registry_rows()
    grown["patients"][0] = patient(status="relapse_prevention")
    grown["contacts"].append(contact(date=iso(-10), kind="relapse_prevention"))
    grown["measurements"].append(measurement(date=iso(-10), items="0 0 0 1 0 0 0 0 0"))

    result = run(data_manager, **grown)

    assert result.created["contacts"] == result.created["measurements"] == 1
    assert result.present["episodes"] == 3
    episode = Episode.objects.get(patient__mrn="A-1")
    assert (episode.status, episode.status_changed_on, episode.phq9_latest) == ("relapse_prevention", day(-10), 1)


def test_a_status_change_alone_queues_the_episodes_flag_refresh(
    data_manager, care_manager, django_capture_on_commit_callbacks
):
    run(data_manager, patients=[patient()])

    with django_capture_on_commit_callbacks() as queued:
        result = run(data_manager, patients=[patient(status="relapse_prevention")])

    assert result.present["episodes"] == 1
    assert len(queued) == 1
    assert Episode.objects.get().status == "relapse_prevention"


def test_a_contact_marked_entered_in_error_is_not_brought_back(data_manager, care_manager):
    run(data_manager, **registry_rows())
    mistaken = Contact.objects.get(episode__patient__mrn="A-1", kind="initial_assessment")
    writing.services.mark_contact_entered_in_error(contact=mistaken, by=care_manager, reason="Wrong patient")

    result = run(data_manager, **registry_rows())

    assert result.created["contacts"] == 0
    assert Contact.objects.count() == 5


def test_a_known_mrn_with_another_name_or_birth_date_is_refused(data_manager, care_manager):
    run(data_manager, patients=[patient()])

    result = run(data_manager, patients=[patient(last_name="Yung", birth_date="1971-01-01", enrolled_on=iso(-80))])

    assert result.errors == [
        "patients.csv:2: last_name: MRN A-1 at clinic 'north' is registered with a different last_name: check the MRN",
        "patients.csv:2: birth_date: MRN A-1 at clinic 'north' is registered with a different birth_date: "
        "check the MRN",
    ]


def test_a_known_patients_care_team_follows_the_file_and_an_empty_cell_keeps_it(data_manager, care_manager, clinic):
    other_cm = UserFactory(username="cm2", clinics=[clinic])
    run(data_manager, patients=[patient(), patient(mrn="B-2")])

    result = run(data_manager, patients=[patient(care_manager="cm2"), patient(mrn="B-2", care_manager="")])

    assert result.created["patients_updated"] == 1
    assert Patient.objects.get(mrn="A-1").care_manager == other_cm
    assert Patient.objects.get(mrn="B-2").care_manager == care_manager


# --- The app's rules, on the way in ------------------------------------------------------


def test_imported_rows_go_through_the_services_as_the_importer(data_manager, care_manager):
    run(data_manager, **registry_rows())

    a = Episode.objects.get(patient__mrn="A-1")
    assert (a.status, a.initial_assessment_on, a.completed_contacts, a.last_contact_on) == (
        "active",
        day(-85),
        3,
        day(-70),
    )
    assert (a.phq9_baseline, a.phq9_baseline_on, a.phq9_latest) == (17, day(-100), 16)
    contact_row = a.contacts.get(kind="initial_assessment")
    assert (contact_row.recorded_by, contact_row.minutes) == (data_manager, 45)
    assert contact_row.interventions == ["psychoeducation", "behavioral_activation"]
    assert contact_row.history.get().history_user == data_manager
    assert a.patient.history.get().history_user == data_manager
    assert {m.source for m in a.measurements.all()} == {"import"}
    assert a.measurements.get(total=16).band == "moderately severe"


def test_a_legacy_total_without_items_is_stored_as_total_only(data_manager, care_manager):
    run(data_manager, patients=[patient()], measurements=[measurement(items="", total="17")])

    stored = Measurement.objects.get()
    assert (stored.total, stored.band, stored.total_only, stored.source) == (17, "moderately severe", True, "import")
    assert stored.answers == [None] * 9
    assert Episode.objects.get().phq9_baseline == 17
    assert not Flag.objects.exists()


def test_an_imported_item9_answer_raises_the_safety_flag(data_manager, care_manager):
    run(data_manager, patients=[patient()], measurements=[measurement(items="2 2 2 2 2 2 2 2 1")])

    flag = Flag.objects.get()
    assert (flag.kind, flag.raised_by, flag.measurement) == ("safety", data_manager, Measurement.objects.get())
    assert flag.is_open


def test_discharged_episodes_get_their_history_before_their_discharge(data_manager, care_manager):
    run(data_manager, **registry_rows())

    old, new = Episode.objects.filter(patient__mrn="B-2").order_by("enrolled_on")
    assert (old.status, old.discharged_on, old.discharge_reason, old.status_changed_on) == (
        "discharged",
        day(-200),
        "goals_met",
        day(-200),
    )
    assert (old.completed_contacts, old.gad7_baseline) == (1, 13)
    assert (new.status, new.completed_contacts, new.phq9_baseline, new.phq9_baseline_on) == ("enrolled", 0, 8, day(-75))
    assert new.contacts.get().reached is False
    assert old.history.first().history_user == data_manager


def test_enrolled_status_with_a_completed_initial_assessment_is_refused(data_manager, care_manager):
    result = run(data_manager, patients=[patient(status="enrolled")], contacts=[contact(kind="initial_assessment")])

    assert result.errors == [
        f"patients.csv:2: status: enrolled, but the episode is already active: "
        f"it has a completed initial assessment on {iso(-85)}"
    ]


def test_an_import_does_not_reopen_or_change_a_discharge(data_manager, care_manager):
    discharged = patient(status="discharged", discharged_on=iso(-5), discharge_reason="moved")
    run(data_manager, patients=[discharged])

    reopened = run(data_manager, patients=[patient()])
    new_contact = run(data_manager, patients=[discharged], contacts=[contact(date=iso(-50))])

    assert reopened.errors == [
        f"patients.csv:2: status: the registry has this episode discharged on {iso(-5)} (moved); "
        "an import does not change a discharge"
    ]
    assert new_contact.errors == [
        f"contacts.csv:2: date: the episode enrolled on {ENROLLED} is discharged in the registry ({iso(-5)}); "
        "new contacts cannot be added to it"
    ]


def test_a_discharge_before_the_registrys_own_contacts_is_refused(data_manager, care_manager):
    run(data_manager, patients=[patient()])
    record_contact(Episode.objects.get(), day(-3), care_manager)

    result = run(data_manager, patients=[patient(status="discharged", discharged_on=iso(-5), discharge_reason="moved")])

    assert result.errors == [f"patients.csv:2: discharged_on: {iso(-5)} is before the episode's contact on {iso(-3)}"]


def test_a_patients_rows_must_agree_and_their_episodes_follow_one_another(data_manager, care_manager):
    rows = [
        patient(enrolled_on=iso(-300)),
        patient(enrolled_on=iso(-200), sex="male", status="discharged", discharged_on=iso(-50),
                discharge_reason="moved"),
        patient(enrolled_on=iso(-100)),
        patient(enrolled_on=iso(-100), status="enrolled"),
    ]  # fmt: skip

    result = run(data_manager, patients=rows)

    assert result.errors == [
        "patients.csv:2: status: only a patient's latest episode can be open; line 3 enrolls them again",
        "patients.csv:3: sex: differs from line 2 (same patient)",
        f"patients.csv:4: enrolled_on: before the discharge of the episode on line 3 ({iso(-50)})",
        f"patients.csv:5: enrolled_on: line 4 has this patient's episode enrolled on {iso(-100)}",
    ]


def test_a_row_naming_a_clinic_the_importer_does_not_belong_to_is_refused(data_manager, care_manager):
    ClinicFactory(code="south", name="South Clinic")

    result = run(data_manager, patients=[patient(), patient(mrn="S-1", clinic="south", care_manager="")])

    assert result.errors == ["patients.csv:3: clinic: you may not import into clinic 'south': you do not belong to it"]
    assert nothing_imported()


def test_a_score_belongs_to_the_episode_whose_window_holds_its_date():
    first = EpisodeWindow(day(-300), day(-200))
    second = EpisodeWindow(day(-200), None)
    third_lookback = [EpisodeWindow(day(-300), day(-250)), EpisodeWindow(day(-230), None)]

    assert episode_for(day(-250), [first, second]) is first
    assert episode_for(day(-200), [first, second]) is second  # discharged and enrolled again that day
    assert episode_for(day(-301), [first, second]) is None
    assert episode_for(day(-301), [first, second], lookback_days=30) is first
    assert episode_for(day(-240), third_lookback, lookback_days=30) is third_lookback[1]
    assert episode_for(day(-250), third_lookback, lookback_days=30) is third_lookback[0]
