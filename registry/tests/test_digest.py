"""The morning digest: counts of new flags and a link, never a patient's name or MRN."""

import datetime
import smtplib
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse

import registry.digest as digest_module
from accounts.models import Role
from patients import services as patient_services
from patients.models import Episode
from registry import services
from registry.digest import send_digests
from registry.models import Flag, FlagDigest
from tests.factories import EpisodeFactory, UserFactory, record_score

pytestmark = pytest.mark.django_db

Kind = Flag.Kind
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
MORNING = datetime.datetime(2025, 3, 10, 7, 0, tzinfo=zoneinfo.ZoneInfo("America/Los_Angeles"))


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.CAREREG_BASE_URL = "https://carereg.example.org/"


def care_manager_of(clinic, username: str, **fields):
    fields.setdefault("email", f"{username}@example.org")
    return UserFactory(username=username, clinics=[clinic], **fields)


@pytest.fixture
def cm(clinic):
    return care_manager_of(clinic, "casey")


def patient_of(clinic, care_manager, **patient_fields) -> Episode:
    return EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        **{f"patient__{name}": value for name, value in patient_fields.items()},
    )


def raise_at(episode, kind, when, by=None) -> Flag:
    """A flag raised as the app raises it, then dated to `when` for the test's clock."""
    if kind == Kind.SAFETY:
        record_score(episode, "PHQ9", 14, episode.enrolled_on, by, item9=2)
        flag = Flag.objects.get(episode=episode, kind=kind, resolved_at__isnull=True)
    elif kind == Kind.NEEDS_DISCUSSION:
        flag = services.request_case_review(episode=episode, by=by, reason="Zebulon's wife called about pills.")
    else:
        flag = services.raise_flag(episode=episode, kind=kind, reason="A rule holds.")
    Flag.objects.filter(pk=flag.pk).update(raised_at=when)
    return flag


def mails_to(user) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if message.to == [user.email]]


# --- what is sent --------------------------------------------------------------------------


def test_one_email_per_care_manager_with_counts_by_kind_and_a_link(clinic, cm):
    other = care_manager_of(clinic, "robin")
    care_manager_of(clinic, "idle")  # no new flags
    a, b, c = (patient_of(clinic, cm) for _ in range(3))
    raise_at(a, Kind.NEW_PATIENT, MORNING - 3 * HOUR)
    raise_at(b, Kind.NEW_PATIENT, MORNING - 5 * HOUR)
    raise_at(b, Kind.FOLLOWUP_OVERDUE, MORNING - 20 * HOUR)
    raise_at(c, Kind.SAFETY, MORNING - 1 * HOUR, by=cm)
    raise_at(patient_of(clinic, other), Kind.NOT_IMPROVING, MORNING - 2 * HOUR)

    sent = send_digests(MORNING)

    assert sent == 2
    assert len(mail.outbox) == 2
    (mine,) = mails_to(cm)
    assert mine.subject == "CareReg: 4 new flags on your caseload"
    assert "  1 safety\n  2 new patient\n  1 follow-up overdue\n" in mine.body
    assert f"Open your caseload: https://carereg.example.org{reverse('registry:dashboard')}" in mine.body
    (theirs,) = mails_to(other)
    assert theirs.subject == "CareReg: 1 new flag on your caseload"
    assert "  1 not improving\n" in theirs.body
    assert "safety" not in theirs.body


def test_the_digest_names_no_patient(clinic, cm):
    episode = patient_of(clinic, cm, first_name="Zebulon", last_name="Quartermaine", mrn="Q-778812")
    raise_at(episode, Kind.NEEDS_DISCUSSION, MORNING - HOUR, by=cm)
    raise_at(episode, Kind.SAFETY, MORNING - HOUR, by=cm)

    send_digests(MORNING)

    (message,) = mails_to(cm)
    text = f"{message.subject}\n{message.body}"
    for secret in ("Zebulon", "Quartermaine", "Q-778812", "778812", "pills"):
        assert secret not in text
    assert "2 new flags" in text


def test_nothing_is_sent_without_new_open_flags(clinic, cm):
    old = patient_of(clinic, cm)
    raise_at(old, Kind.NEW_PATIENT, MORNING - 25 * HOUR)  # before the last day
    resolved = raise_at(patient_of(clinic, cm), Kind.FOLLOWUP_OVERDUE, MORNING - HOUR)
    services.resolve_flag(flag=resolved, by=cm, note="Reached by phone.")
    gone = patient_of(clinic, cm)
    raise_at(gone, Kind.NOT_IMPROVING, MORNING - HOUR)
    patient_services.change_status(
        episode=gone, status=Episode.Status.DISCHARGED, on=gone.enrolled_on, by=cm, discharge_reason="moved"
    )

    sent = send_digests(MORNING)

    assert sent == 0
    assert mail.outbox == []


# --- once a day, and only what is new since ------------------------------------------------


def test_running_twice_the_same_day_sends_nothing_more(clinic, cm):
    episode = patient_of(clinic, cm)
    raise_at(episode, Kind.NEW_PATIENT, MORNING - HOUR)
    send_digests(MORNING)
    raise_at(episode, Kind.FOLLOWUP_OVERDUE, MORNING + HOUR)

    again = send_digests(MORNING)
    later = send_digests(MORNING + 10 * HOUR)

    assert (again, later) == (0, 0)
    assert len(mail.outbox) == 1
    assert FlagDigest.objects.filter(recipient=cm).count() == 1


def test_the_next_day_counts_only_flags_raised_since_the_last_digest(clinic, cm):
    episode = patient_of(clinic, cm)
    raise_at(episode, Kind.NEW_PATIENT, MORNING - HOUR)
    raise_at(episode, Kind.MEASUREMENT_OVERDUE, MORNING - 2 * HOUR)
    send_digests(MORNING)
    raise_at(episode, Kind.FOLLOWUP_OVERDUE, MORNING + 3 * HOUR)
    raise_at(patient_of(clinic, cm), Kind.NOT_IMPROVING, MORNING + 20 * HOUR)

    sent = send_digests(MORNING + DAY)

    assert sent == 1
    first, second = mails_to(cm)
    assert first.subject == "CareReg: 2 new flags on your caseload"
    assert second.subject == "CareReg: 2 new flags on your caseload"
    assert "  1 not improving\n  1 follow-up overdue\n" in second.body
    assert "new patient" not in second.body
    assert "measurement" not in second.body


def test_a_day_without_new_flags_still_moves_the_start_of_the_next_count(clinic, cm):
    episode = patient_of(clinic, cm)
    raise_at(episode, Kind.NEW_PATIENT, MORNING - HOUR)
    send_digests(MORNING)
    send_digests(MORNING + DAY)  # nothing new
    raise_at(episode, Kind.FOLLOWUP_OVERDUE, MORNING + DAY + HOUR)

    send_digests(MORNING + 2 * DAY)

    first, second = mails_to(cm)
    assert "  1 new patient\n" in first.body
    assert second.subject == "CareReg: 1 new flag on your caseload"
    assert "  1 follow-up overdue\n" in second.body


def test_a_failed_send_is_not_recorded_so_the_next_run_sends_it(clinic, cm, monkeypatch):
    raise_at(patient_of(clinic, cm), Kind.NEW_PATIENT, MORNING - HOUR)

    def broken(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("mail server went away")

    with monkeypatch.context() as patch:
        patch.setattr("registry.digest.send_mail", broken)
        assert send_digests(MORNING) == 0
    assert not FlagDigest.objects.exists()

    sent = send_digests(MORNING + HOUR)

    assert sent == 1
    assert len(mails_to(cm)) == 1


# --- who gets one --------------------------------------------------------------------------


def test_inactive_users_users_without_email_and_other_roles_get_nothing(clinic):
    inactive = care_manager_of(clinic, "left", is_active=False)
    no_email = care_manager_of(clinic, "noemail", email="")
    consultant = UserFactory(
        username="psych", role=Role.PSYCHIATRIC_CONSULTANT, email="psych@example.org", clinics=[clinic]
    )
    for care_manager in (inactive, no_email):
        episode = EpisodeFactory(
            patient__clinic=clinic, patient__care_manager=care_manager, patient__psychiatric_consultant=consultant
        )
        raise_at(episode, Kind.SAFETY, MORNING - HOUR, by=care_manager)

    sent = send_digests(MORNING)

    assert sent == 0
    assert mail.outbox == []
    assert not FlagDigest.objects.filter(recipient__in=[inactive, no_email, consultant]).exists()


def test_one_failed_send_does_not_stop_the_other_care_managers_digests(clinic, cm, monkeypatch):
    other = care_manager_of(clinic, "other")
    raise_at(patient_of(clinic, cm), Kind.NEW_PATIENT, MORNING - HOUR)
    raise_at(patient_of(clinic, other), Kind.NEW_PATIENT, MORNING - HOUR)
    real_send = digest_module.send_mail

    def refuse_cm(subject, body, sender, recipients):
        if recipients == [cm.email]:
            raise smtplib.SMTPRecipientsRefused({cm.email: (550, b"no such user")})
        return real_send(subject, body, sender, recipients)

    monkeypatch.setattr("registry.digest.send_mail", refuse_cm)

    sent = send_digests(MORNING)

    assert sent == 1
    assert len(mails_to(other)) == 1
    assert list(FlagDigest.objects.values_list("recipient__username", flat=True)) == ["other"]


# --- cost ----------------------------------------------------------------------------------


def test_the_reads_do_not_grow_with_the_care_managers(clinic):
    """Two reads for them all (who is due since when, and their new flags); then each digest is
    one write. At 200 care managers, two reads each took 80 s on the 100,000-patient registry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads_of_a_run(care_managers: int, day: int) -> int:
        for n in range(care_managers):
            raise_at(patient_of(clinic, care_manager_of(clinic, f"cm{day}-{n}")), Kind.NEW_PATIENT, MORNING + day * DAY)
        with CaptureQueriesContext(connection) as queries:
            assert send_digests(MORNING + day * DAY + HOUR) >= care_managers
        return sum(query["sql"].startswith("SELECT") for query in queries.captured_queries)

    assert reads_of_a_run(1, day=0) == reads_of_a_run(5, day=1) == 2
