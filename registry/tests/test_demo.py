"""The demo seed: a plausible registry, the same for the same seed, loaded once."""

import datetime
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Clinic, User
from patients.models import Episode, Patient
from registry.demo import CLINICS, DemoBuilder, ensure_staff_accounts
from registry.models import Contact, Flag, Measurement

pytestmark = pytest.mark.django_db

DEMO_CODES = {code for code, _, _ in CLINICS}


def seed(*args: str) -> None:
    call_command("seed_demo", *args, stdout=StringIO())


def table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count() for model in (Clinic, User, Patient, Episode, Contact, Measurement, Flag)
    }


@pytest.fixture
def demo():
    seed("--patients", "30", "--seed", "3")


def test_seed_creates_the_patients_across_both_demo_clinics(demo):
    per_clinic = Counter(Patient.objects.values_list("clinic__code", flat=True))

    assert sum(per_clinic.values()) == 30
    assert set(per_clinic) == DEMO_CODES
    assert per_clinic["north"] == per_clinic["east"] == 15


def test_seed_gives_each_patient_a_care_team_from_their_own_clinic(demo):
    for patient in Patient.objects.select_related("clinic", "care_manager", "pcp", "psychiatric_consultant"):
        for member in (patient.care_manager, patient.pcp, patient.psychiatric_consultant):
            assert member.clinics.filter(pk=patient.clinic_id).exists(), (patient, member)


def test_seed_has_episodes_in_every_status(demo):
    statuses = set(Episode.objects.values_list("status", flat=True))

    assert statuses == set(Episode.Status.values)
    assert Patient.objects.count() <= Episode.objects.count()
    assert all(patient.episodes.open().count() <= 1 for patient in Patient.objects.all())


def test_seed_leaves_open_safety_flags_only_on_open_episodes(demo):
    open_flags = Flag.objects.filter(kind=Flag.Kind.SAFETY, resolved_at__isnull=True).select_related("episode")
    resolved = Flag.objects.filter(kind=Flag.Kind.SAFETY, resolved_at__isnull=False)

    assert open_flags.exists()
    assert all(flag.episode.is_open for flag in open_flags)
    assert all(flag.measurement.item_9 >= 1 for flag in Flag.objects.filter(kind=Flag.Kind.SAFETY))
    assert all(hasattr(flag, "safety_assessment") and flag.resolved_by for flag in resolved)


def test_seed_raises_a_safety_flag_for_every_item9_answer(demo):
    item9 = Measurement.objects.filter(instrument="PHQ9", item_9__gte=1)

    assert set(Flag.objects.filter(kind=Flag.Kind.SAFETY).values_list("measurement", flat=True)) == set(
        item9.values_list("pk", flat=True)
    )


def test_seed_fills_every_episodes_summary_from_its_rows(demo):
    scores = defaultdict(list)
    for m in Measurement.objects.valid().order_by("taken_on", "pk"):
        scores[(m.episode_id, m.instrument)].append(m.total)
    completed = Counter(Contact.objects.valid().filter(reached=True).values_list("episode", flat=True))
    open_with_phq9 = 0

    for episode in Episode.objects.all():
        phq9 = scores.get((episode.pk, "PHQ9"))
        if episode.is_open and phq9:
            open_with_phq9 += 1
            assert episode.phq9_latest is not None
        assert (episode.phq9_baseline, episode.phq9_latest) == ((phq9[0], phq9[-1]) if phq9 else (None, None))
        gad7 = scores.get((episode.pk, "GAD7"))
        assert (episode.gad7_baseline, episode.gad7_latest) == ((gad7[0], gad7[-1]) if gad7 else (None, None))
        assert episode.completed_contacts == completed[episode.pk]
        assert (episode.last_contact_on is None) == (completed[episode.pk] == 0)
    assert open_with_phq9 > 0


def test_seed_scores_are_dated_within_their_episode(demo):
    for m in Measurement.objects.select_related("episode"):
        assert m.taken_on >= m.episode.enrolled_on - datetime.timedelta(days=30)
        assert m.episode.discharged_on is None or m.taken_on <= m.episode.discharged_on


def test_seed_run_again_without_add_adds_nothing(demo):
    before = table_counts()

    seed("--patients", "30", "--seed", "4")

    assert table_counts() == before


def test_seed_run_again_with_add_adds_patients_with_new_mrns(demo):
    seed("--patients", "10", "--seed", "4", "--add")

    assert Patient.objects.count() == 40
    assert Clinic.objects.count() == 2
    assert User.objects.filter(username="maria").count() == 1


def fingerprint(rows) -> dict:
    return {
        "patients": [(p.clinic.code, p.mrn, p.first_name, p.last_name, p.birth_date) for p in rows.patients],
        "episodes": [(e._patient_index, e.enrolled_on, e.status, e.discharged_on) for e in rows.episodes],
        "contacts": [(c._episode_index, c.contact_date, c.kind, c.reached) for c in rows.contacts],
        "measurements": [(m._episode_index, m.instrument, m.taken_on, m.total) for m in rows.measurements],
    }


def test_builder_makes_the_same_rows_for_the_same_seed_and_day():
    clinics = ensure_staff_accounts()
    today = datetime.date(2026, 3, 2)

    first = fingerprint(DemoBuilder(seed=3, today=today, clinics=clinics).build(30))
    second = fingerprint(DemoBuilder(seed=3, today=today, clinics=clinics).build(30))
    other_seed = fingerprint(DemoBuilder(seed=4, today=today, clinics=clinics).build(30))

    assert first == second
    assert len(first["patients"]) == 30
    assert first["measurements"]
    assert other_seed["patients"] != first["patients"]
    assert not Patient.objects.exists()  # building alone saves nothing


# --- The demo does not contradict itself ----------------------------------------------------


@pytest.fixture
def bigger_demo():
    seed("--patients", "120", "--seed", "5")


def test_no_demo_plan_says_no_medication_beside_a_medication_taken_now(bigger_demo):
    from care.models import Medication
    from patients.models import TreatmentPlan

    taking = {
        m.episode_id: m for m in Medication.objects.filter(stopped_on__isnull=True, entered_in_error_at__isnull=True)
    }
    plans = list(TreatmentPlan.objects.all())

    assert taking and plans
    for plan in plans:
        if plan.episode_id in taking:
            assert "no medication" not in plan.current_treatments
            assert taking[plan.episode_id].name.lower() in plan.current_treatments.lower()
        else:
            assert not any(name in plan.current_treatments.lower() for name in ("sertraline", "escitalopram"))


def test_every_demo_contact_is_logged_by_the_patients_own_care_manager(bigger_demo):
    contacts = Contact.objects.select_related("episode__patient")

    assert contacts.exists()
    assert all(c.recorded_by_id == c.episode.patient.care_manager_id for c in contacts)


def test_no_demo_safety_flag_waits_for_days_or_shows_new_once_opened(bigger_demo):
    from django.utils import timezone

    from registry.demo import SAFETY_STILL_OPEN_FOR

    today = timezone.localdate()
    safety = Flag.objects.filter(kind=Flag.Kind.SAFETY)

    assert safety.exists()
    for flag in safety.filter(resolved_at__isnull=True):
        assert timezone.localdate(flag.raised_at) >= today - SAFETY_STILL_OPEN_FOR
    for flag in safety:
        if timezone.localdate(flag.raised_at) < today:
            assert flag.seen_at is not None, flag.reason


def test_no_open_demo_episode_months_in_is_still_a_new_patient(bigger_demo):
    from django.utils import timezone

    from registry.demo import NEW_FOR

    today = timezone.localdate()
    new = Flag.objects.filter(kind=Flag.Kind.NEW_PATIENT, resolved_at__isnull=True).select_related("episode")
    long_open = Episode.objects.open().filter(enrolled_on__lt=today - NEW_FOR - datetime.timedelta(days=10))

    assert long_open.exists()
    assert not new.filter(episode__in=long_open).exists()
    for flag in new:
        assert (today - flag.episode.enrolled_on) < NEW_FOR + datetime.timedelta(days=10)
