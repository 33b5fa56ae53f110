"""The flag jobs through a real Redis broker and a real Celery worker (a thread in this process:
the `broker`, `worker` and `beat_every_second` fixtures of tests/celery_worker.py), and the
embedded default's own processes (web server, worker, beat) as `make run` starts them.

The tests are transactional so that the worker's own database connection sees what the web
request saved.
"""

import contextlib
import datetime
import io
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from celery.worker import state as worker_state
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from patients.models import Episode
from registry import outbox
from registry.flags import refresh_flags
from registry.models import Contact, Flag, FlagRefreshRequest
from registry.tasks import refresh_all_flags
from tests.celery_worker import NOWHERE, use_broker, wait_for
from tests.factories import ClinicFactory, EpisodeFactory, PatientFactory, UserFactory, record_contact, record_score

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def overdue_episode():
    """An active patient whose last contact was 20 days ago: follow-up overdue."""
    clinic = ClinicFactory(code="north")
    care_manager = UserFactory(username="maria", clinics=[clinic])
    episode = EpisodeFactory(patient=PatientFactory(clinic=clinic, care_manager=care_manager), enrolled_on=days_ago(60))
    record_contact(episode, days_ago(40), care_manager, kind="initial_assessment")
    record_contact(episode, days_ago(20), care_manager)
    record_score(episode, "PHQ9", 12, days_ago(20), care_manager)
    return Episode.objects.get(pk=episode.pk), care_manager


def a_fresh_refresh_would_change() -> int:
    """How many flags a full refresh run now would raise or resolve: 0 when the flags are
    exactly what a fresh full refresh gives. Run and rolled back, so it changes nothing."""
    with transaction.atomic():
        changed = refresh_flags().changed
        transaction.set_rollback(True)
    return changed


def flags_are_true() -> bool:
    return not FlagRefreshRequest.objects.exists() and a_fresh_refresh_would_change() == 0


def open_kinds(episode) -> set[str]:
    return set(Flag.objects.filter(episode=episode, resolved_at__isnull=True).values_list("kind", flat=True))


def post_contact(client, episode, **extra):
    data = {
        "contact_date": timezone.localdate().isoformat(),
        "kind": "follow_up",
        "with_whom": "patient",
        "mode": "phone",
        "reached": "on",
        "minutes": "20",
        **extra,
    }
    return client.post(reverse("registry:record_contact", args=[episode.patient_id]), data)


def test_contact_saved_in_the_web_app_brings_the_flags_up_to_date_through_the_worker(client, overdue_episode, worker):
    episode, care_manager = overdue_episode
    refresh_flags()
    assert "followup_overdue" in open_kinds(episode)
    client.force_login(care_manager)

    response = post_contact(client, episode)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert wait_for(lambda: "followup_overdue" not in open_kinds(episode)), open_kinds(episode)
    resolved = Flag.objects.get(episode=episode, kind="followup_overdue")
    assert resolved.resolved_by is None
    assert resolved.resolution_note.startswith("Resolved automatically")
    assert open_kinds(episode) == {"new_patient"}


def test_web_app_saves_and_raises_safety_flag_with_the_broker_down_and_the_next_run_catches_up(
    client, overdue_episode, broker
):
    episode, care_manager = overdue_episode
    assert open_kinds(episode) == {"followup_overdue", "new_patient"}
    use_broker(NOWHERE)
    client.force_login(care_manager)
    item9 = {f"phq9-item_{n}": "1" for n in range(1, 10)}

    started = time.monotonic()
    response = post_contact(client, episode, **item9)
    seconds = time.monotonic() - started

    assert response.status_code == 302
    assert seconds < 5
    assert Contact.objects.filter(episode=episode, contact_date=timezone.localdate()).exists()
    # The safety flag is raised at save, in the same transaction; the refresh that would
    # resolve "follow-up overdue" could not be queued...
    assert open_kinds(episode) == {"safety", "followup_overdue", "new_patient"}
    # ...and the next run (nightly, or cron's refresh_flags) catches up.
    call_command("refresh_flags", stdout=io.StringIO())
    assert open_kinds(episode) == {"safety", "new_patient"}


def test_nightly_refresh_task_run_by_the_worker_raises_the_time_based_flags(overdue_episode, worker):
    episode, _ = overdue_episode
    Flag.objects.filter(episode=episode).delete()  # as if the saves' refreshes had never run

    refresh_all_flags.delay()

    assert wait_for(lambda: open_kinds(episode) == {"followup_overdue", "new_patient"}), open_kinds(episode)


def _refresh_retrying_like_the_task() -> None:
    """As the Celery task does (autoretry on OperationalError): SQLite serialises writers."""
    try:
        for _ in range(50):
            try:
                refresh_flags()
                return
            except OperationalError:
                time.sleep(0.05)
        raise AssertionError("refresh never got the database")
    finally:
        connection.close()


def test_two_refreshes_at_once_raise_each_flag_once(overdue_episode):
    episode, _ = overdue_episode
    start = threading.Barrier(2)

    def run():
        start.wait()
        _refresh_retrying_like_the_task()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    kinds = list(Flag.objects.filter(episode=episode, resolved_at__isnull=True).values_list("kind", flat=True))
    assert sorted(kinds) == ["followup_overdue", "new_patient"]
    raised = Flag.history.filter(episode_id=episode.pk, history_type="+").values_list("id", flat=True)
    assert len(raised) == len(set(raised)) == Flag.objects.filter(episode=episode).count()


@pytest.fixture
def scheduled_episode(overdue_episode):
    """The overdue patient, in active treatment, on a fortnightly self-report schedule.

    Set up before the worker starts: on SQLite a write from the test thread while the worker's
    connection is busy can find the database locked.
    """
    from selfreport import services as self_report

    episode, care_manager = overdue_episode
    Episode.objects.filter(pk=episode.pk).update(status=Episode.Status.ACTIVE)
    episode.patient.email = "patient@example.org"
    episode.patient.save()
    self_report.set_schedule(episode=episode, every_days=14, instruments=["PHQ9"], language="en", by=care_manager)
    return episode


def test_worker_sends_scheduled_self_report_links_once(scheduled_episode, worker, mailoutbox):
    """The beat's morning job, run by the worker twice: one link, one e-mail."""
    from selfreport.models import Invitation
    from selfreport.tasks import send_scheduled_self_reports

    runs = sum(worker_state.total_count.values())

    send_scheduled_self_reports.delay()
    send_scheduled_self_reports.delay()

    assert wait_for(lambda: sum(worker_state.total_count.values()) >= runs + 2)
    assert Invitation.objects.filter(episode=scheduled_episode, origin="scheduled").count() == 1
    assert [message.to for message in mailoutbox] == [["patient@example.org"]]


# --- The embedded default: `make run` with nothing configured -------------------------------

REPO = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The test database as a DATABASE_URL, for processes started by a test."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_processes(session_id: int) -> list[str]:
    """The live processes of a session (zombies waiting to be reaped are gone already)."""
    ps = subprocess.run(["ps", "-eo", "pid=,sid=,stat=,args="], capture_output=True, text=True, check=True)
    return [
        line.strip()
        for line in ps.stdout.splitlines()
        if line.split()[1] == str(session_id) and not line.split()[2].startswith("Z")
    ]


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except OSError:
        return None


@pytest.fixture
def served_as_make_run(tmp_path):
    """scripts/serve.sh, as `make run` starts it on the embedded default: no broker configured,
    so the worker and beat use a SQLite broker file (here in tmp_path, not beside a shared
    test database). The schedule's sweep runs every second instead of every minute."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "REDIS_URL")},
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'celery-broker.sqlite3'}",
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "celerybeat-schedule"),
        "CAREREG_FLAG_SWEEP_SECONDS": "1",
        "DEBUG": "true",
        "CAREREG_HTTPS": "false",
        "PORT": str(port),
    }
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 (closed below, after the processes)
    # Its own session, as a terminal's job; SIGINT as a terminal gives it (an ignored SIGINT
    # would be inherited from a parent run in the background).
    serve = subprocess.Popen(
        [str(REPO / "scripts" / "serve.sh")],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        yield serve, f"http://127.0.0.1:{port}", tmp_path / "serve.log"
    finally:
        # Whatever the test left running: every process of the session (each part of serve.sh
        # has a process group of its own).
        for line in session_processes(serve.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
        serve.wait(timeout=30)
        log.close()


def test_make_run_serves_and_runs_the_schedule_on_the_embedded_broker_and_ctrl_c_stops_it_all(
    overdue_episode, served_as_make_run
):
    episode, _ = overdue_episode
    Flag.objects.filter(episode=episode).delete()  # as if no refresh had run since the last save
    outbox.request_full_refresh()  # what the nightly job asks for when it starts
    serve, url, log = served_as_make_run

    # Beat sends the sweep over the embedded broker; the worker refreshes the whole registry.
    refreshed = wait_for(lambda: open_kinds(episode) == {"followup_overdue", "new_patient"}, seconds=90)
    assert refreshed, log.read_text()[-3000:]
    assert wait_for(lambda: not FlagRefreshRequest.objects.exists())
    assert wait_for(lambda: http_status(f"{url}/login/") == 200, seconds=60)
    assert "No hostname was supplied" not in log.read_text()

    os.killpg(serve.pid, signal.SIGINT)  # Ctrl-C

    assert wait_for(lambda: not session_processes(serve.pid), seconds=30), session_processes(serve.pid)
    assert serve.wait(timeout=5) == 130
    assert http_status(f"{url}/login/") is None


def test_a_command_that_queues_a_task_on_the_embedded_default_prints_no_broker_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "REDIS_URL", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"  # nothing configured but where the data lives
    queue = "from registry.tasks import drain_flag_refreshes; drain_flag_refreshes.delay()"

    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "manage.py", "shell", "--no-imports", "-c", queue],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout + done.stderr == ""  # was: kombu.connection "No hostname was supplied"
    assert (tmp_path / "celery-broker.sqlite3").exists()  # queued beside the database, for the worker
