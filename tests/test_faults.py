"""Faults: the database connection lost during a save and between requests; Redis down, a
worker killed mid-job and PostgreSQL down past a task's retries, each followed by flags that are
true within the sweep interval; a flag job killed half way, a form posted twice, two people
editing one patient.

Tests marked `postgresql` need PostgreSQL itself (pg_terminate_backend, row locks held between
threads): the root conftest.py deselects them on SQLite; CI's PostgreSQL run covers them. The
PostgreSQL server is never restarted (the suite runs on it): its restart is what a terminated
backend looks like to Django.
"""

import datetime
import http.client
import os
import re
import signal
import subprocess
import threading
from contextlib import contextmanager
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_failure
from django.db import OperationalError, connection
from django.db.models.signals import post_save
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carereg.celery import app
from consults.models import Recommendation
from patients.models import Episode, Patient
from registry import flags
from registry.flags import refresh_flags
from registry.models import Contact, ContactSubmission, Flag, FlagRefreshRequest, Measurement
from registry.tasks import refresh_all_flags, refresh_episode_flags
from tests.celery_worker import NOWHERE, REDIS, use_broker, wait_for
from tests.factories import ClinicFactory, EpisodeFactory, PatientFactory, UserFactory, record_contact, record_score
from tests.test_celery_jobs import (
    REPO,
    a_fresh_refresh_would_change,
    database_url,
    flags_are_true,
    free_port,
    open_kinds,
    overdue_episode,
)

__all__ = ["overdue_episode"]  # a fixture shared with the Celery job tests

STALE = "Someone else changed this patient since you opened the page: review and save again."


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def ward(db):
    """A care manager and her active patient, enrolled 60 days ago."""
    clinic = ClinicFactory(code="north")
    maria = UserFactory(username="maria", clinics=[clinic])
    patient = PatientFactory(clinic=clinic, care_manager=maria, phone="555-0100", city="Springfield")
    episode = EpisodeFactory(patient=patient, enrolled_on=days_ago(60), status=Episode.Status.ACTIVE)
    return maria, patient, episode


def contact_post(csrf: str = "", **extra) -> dict:
    phq9 = {f"phq9-item_{n}": "1" for n in range(1, 10)}
    return {
        "csrfmiddlewaretoken": csrf,
        "contact_date": timezone.localdate().isoformat(),
        "kind": "follow_up",
        "with_whom": "patient",
        "mode": "phone",
        "reached": "on",
        "minutes": "20",
        **phq9,
        **extra,
    }


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


class WebUser:
    """A logged-in browser speaking plain HTTP to the live server, which runs in its own thread
    with its own database connection, closed and health-checked as in production."""

    def __init__(self, live_server, client: Client, user):
        client.force_login(user)
        self.address = urlsplit(live_server.url)
        self.cookies = {name: morsel.value for name, morsel in client.cookies.items()}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(self.address.hostname, self.address.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=urlencode(form, doseq=True) if form else None, headers=headers)
            response = conn.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
            return response.status, response.read().decode()
        finally:
            conn.close()

    def contact_form(self, patient) -> dict:
        status, page = self.request("GET", reverse("registry:record_contact", args=[patient.pk]))
        assert status == 200, page[:2000]
        return contact_post(hidden(page, "csrfmiddlewaretoken"), submission=hidden(page, "submission"))


def terminate(params: dict, pids) -> None:
    """What a PostgreSQL restart does to each connection: the server ends it."""
    with psycopg.connect(**params, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])


# --- PostgreSQL connection lost ----------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_connection_lost_during_a_contact_save_fails_cleanly_and_the_next_request_saves(
    client, live_server, ward, postgresql_params
):
    maria, patient, _ = ward
    browser = WebUser(live_server, client, maria)
    killed = []

    def lose_the_connection(sender, instance, **kwargs):
        # In the server's thread: the contact row is written, its scores are not yet.
        if not killed:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                killed.append(cursor.fetchone()[0])
            terminate(postgresql_params, killed)

    post_save.connect(lose_the_connection, sender=Contact, dispatch_uid="fault-lose-connection")
    try:
        status, page = browser.request(
            "POST", reverse("registry:record_contact", args=[patient.pk]), browser.contact_form(patient)
        )
    finally:
        post_save.disconnect(dispatch_uid="fault-lose-connection", sender=Contact)

    assert killed, "the save never reached the contact"
    assert status == 503  # the database went away: try again in a minute (Retry-After)
    assert "Nothing you entered was half-saved" in page
    assert not Contact.objects.exists()  # the contact and its scores are one transaction
    assert not Measurement.objects.exists()
    assert not ContactSubmission.objects.exists()

    status, page = browser.request(
        "POST", reverse("registry:record_contact", args=[patient.pk]), browser.contact_form(patient)
    )

    assert status == 302, page[:2000]
    contact = Contact.objects.get()
    assert sorted(contact.measurements.values_list("instrument", "total")) == [("PHQ9", 9)]


@pytest.mark.django_db(transaction=True)
def test_a_save_whose_next_page_meets_a_database_outage_says_what_was_saved(ward):
    maria, patient, episode = ward
    browser = Client(raise_request_exception=False)
    browser.force_login(maria)
    saved = browser.post(reverse("registry:record_contact", args=[patient.pk]), contact_post())
    assert saved.status_code == 302
    connection.close()

    with database_unreachable():
        next_page = browser.get(saved.url)

    page = next_page.content.decode()
    assert next_page.status_code == 503
    assert next_page["Retry-After"] == "30"
    assert re.search(r"Your change of \d\d:\d\d was saved", page)
    assert "Contact saved with scores." in page
    assert "You do not need to enter it again." in page
    assert patient.last_name not in page and patient.first_name not in page
    # The database is back: the page shows the save's own message, and the contact is there once.
    assert "Contact saved with scores." in browser.get(saved.url).content.decode()
    assert Contact.objects.filter(episode=episode).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_outage_with_no_save_just_before_says_nothing_was_saved(ward):
    maria, patient, _ = ward
    browser = Client(raise_request_exception=False)
    browser.force_login(maria)
    browser.get(reverse("patients:detail", args=[patient.pk]))
    connection.close()

    with database_unreachable():
        page = browser.get(reverse("patients:detail", args=[patient.pk]))

    assert page.status_code == 503
    assert "was saved" not in page.content.decode()
    assert "cannot reach its database" in page.content.decode()


# --- Flags true within the sweep interval after each fault ------------------------------------
# Each test breaks the path from a save to its flag refresh, then lets the beat (a thread, the
# sweep every second) and a worker run, and finds the flags exactly what a fresh full refresh
# gives, with nothing left pending in the outbox.

SWEEP_WAIT = 20  # seconds: the sweep runs every second; the rest is a busy machine's slack


def active_patients(care_manager, count: int) -> list[Episode]:
    """Active patients, initial assessment 60 days ago, seen 20 days ago, PHQ-9 40 days ago:
    new patient, follow-up overdue and measurement overdue, with every flag removed as if no
    refresh had ever run."""
    clinic = care_manager.clinics.first()
    episodes = []
    for _ in range(count):
        patient = PatientFactory(clinic=clinic, care_manager=care_manager)
        episode = EpisodeFactory(patient=patient, enrolled_on=days_ago(60))
        record_contact(episode, days_ago(60), care_manager, kind="initial_assessment")
        record_score(episode, "PHQ9", 14, days_ago(40), care_manager)
        record_contact(episode, days_ago(20), care_manager)
        episodes.append(episode)
    Flag.objects.all().delete()
    FlagRefreshRequest.objects.all().delete()
    return episodes


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_saves_made_while_redis_is_down_have_true_flags_within_the_sweep_interval_once_it_is_back(
    client, overdue_episode, broker, beat_every_second
):
    episode, care_manager = overdue_episode
    others = active_patients(care_manager, 3)
    refresh_flags()
    client.force_login(care_manager)
    use_broker(NOWHERE)  # Redis is down: no save can queue its flag refresh

    for patient in [episode.patient, *(e.patient for e in others)]:
        response = client.post(reverse("registry:record_contact", args=[patient.pk]), contact_post())
        assert response.status_code == 302

    # Saved, the safety flags raised with the answers; the other flags wait in the outbox.
    assert open_kinds(episode) == {"followup_overdue", "new_patient", "safety"}
    assert FlagRefreshRequest.objects.count() == 4
    assert a_fresh_refresh_would_change() > 0

    use_broker(REDIS)  # Redis is back: the beat's sweep reaches a worker
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        beat_every_second()
        assert wait_for(flags_are_true, SWEEP_WAIT), FlagRefreshRequest.objects.count()

    assert open_kinds(episode) == {"new_patient", "safety"}


def worker_process(tmp_path, **env) -> subprocess.Popen:
    """A Celery worker in its own process (one that can be killed), on the test database and
    the test broker, started as the deployment's units start it."""
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "celery"), "-A", "carereg", "worker", "--pool", "solo", "--loglevel", "INFO"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": REDIS, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    assert wait_for(lambda: "ready." in log.read_text() or worker.poll() is not None, 120), log.read_text()
    assert worker.poll() is None, log.read_text()
    return worker


def backends_waiting_on(params: dict, table: str) -> list[int]:
    with psycopg.connect(**params, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            [f"%{table}%"],
        ).fetchall()
    return [row[0] for row in rows]


@pytest.mark.celery
@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_worker_killed_in_the_middle_of_a_whole_registry_refresh_leaves_true_flags_after_the_sweep(
    overdue_episode, broker, beat_every_second, postgresql_params, settings, tmp_path
):
    _, care_manager = overdue_episode
    episodes = active_patients(care_manager, 4)
    settings.CAREREG_FLAG_REFRESH_LEASE_SECONDS = 2  # a dead worker's claim is taken over after 2 s
    worker = worker_process(tmp_path, CAREREG_FLAG_REFRESH_LEASE_SECONDS="2")
    # Hold the worker at the open-recommendation rule (the fifth of six): the rules before it
    # are committed, the rest not yet run.
    locker = psycopg.connect(**postgresql_params)
    try:
        locker.execute(f"LOCK TABLE {Recommendation._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        refresh_all_flags.delay()
        assert wait_for(lambda: backends_waiting_on(postgresql_params, Recommendation._meta.db_table), 60)

        worker.send_signal(signal.SIGKILL)  # in the middle of the job
        worker.wait(timeout=10)
    finally:
        locker.rollback()
        locker.close()

    # Half done: the rules before the kill raised their flags, measurement overdue never ran.
    assert all(open_kinds(e) == {"new_patient", "followup_overdue"} for e in episodes), open_kinds(episodes[0])
    assert FlagRefreshRequest.objects.filter(episode=None).exists()  # the request outlived its worker

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        beat_every_second()  # the replacement worker takes the request over once the lease is out
        assert wait_for(flags_are_true, SWEEP_WAIT), FlagRefreshRequest.objects.values_list("claimed_until")

    assert all(open_kinds(e) == {"new_patient", "followup_overdue", "measurement_overdue"} for e in episodes)


@contextmanager
def database_unreachable():
    """New connections to the database fail, as while PostgreSQL is stopped: refused (nothing
    listens on the port), or on SQLite the file cannot be opened. A connection open already
    goes on; the worker threads connect afresh for each task."""
    settings_dict = connection.settings_dict
    key, nowhere = ("NAME", "/nonexistent/carereg.sqlite3") if connection.vendor == "sqlite" else ("PORT", free_port())
    saved = settings_dict[key]
    settings_dict[key] = nowhere
    try:
        yield
    finally:
        settings_dict[key] = saved


@pytest.mark.celery
@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_refresh_task_that_gave_up_while_postgresql_was_down_is_done_by_the_sweep_once_it_is_back(
    client, overdue_episode, broker, beat_every_second, monkeypatch
):
    episode, care_manager = overdue_episode
    refresh_flags()
    client.force_login(care_manager)
    # The task's retries as configured (five, backing off), their waits capped at a second.
    task = app.tasks[refresh_episode_flags.name]
    monkeypatch.setattr(task, "retry_backoff_max", 1)
    gave_up = threading.Event()

    def record_failure(sender=None, exception=None, **kwargs):
        if sender.name == task.name and isinstance(exception, OperationalError):
            gave_up.set()

    task_failure.connect(record_failure, weak=False)
    try:
        response = client.post(reverse("registry:record_contact", args=[episode.patient_id]), contact_post())
        assert response.status_code == 302  # saved; its refresh waits in the broker for a worker
        connection.close()
        with (
            database_unreachable(),
            start_worker(app, pool="solo", perform_ping_check=False, loglevel="CRITICAL", shutdown_timeout=30),
        ):
            assert gave_up.wait(60), "the refresh task never gave up"
        assert task.max_retries == 5
        # PostgreSQL is back; nothing will retry that task again.
        assert open_kinds(episode) == {"followup_overdue", "new_patient", "safety"}
        assert FlagRefreshRequest.objects.filter(episode=episode).exists()

        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
            beat_every_second()
            assert wait_for(flags_are_true, SWEEP_WAIT)
    finally:
        task_failure.disconnect(record_failure)

    assert open_kinds(episode) == {"new_patient", "safety"}


# --- A flag job killed half way ------------------------------------------------------------


@pytest.fixture
def stale_registry(overdue_episode):
    """Two patients whose flags no job has brought up to date: one overdue with no flags yet,
    one seen today whose "follow-up overdue" flag is still open."""
    overdue, care_manager = overdue_episode
    seen = EpisodeFactory(
        patient=PatientFactory(clinic=overdue.patient.clinic, care_manager=care_manager),
        enrolled_on=days_ago(60),
        status=Episode.Status.ACTIVE,
    )
    record_contact(seen, days_ago(40), care_manager, kind="initial_assessment")
    record_contact(seen, days_ago(0), care_manager)
    record_score(seen, "PHQ9", 8, days_ago(0), care_manager)
    Flag.objects.all().delete()  # as if no refresh had ever run
    Flag.objects.create(episode=seen, kind=Flag.Kind.FOLLOWUP_OVERDUE, reason="stale", raised_at=timezone.now())
    return overdue, seen


@pytest.mark.django_db
def test_flag_refresh_killed_half_way_then_rerun_leaves_exactly_the_right_flags(stale_registry, monkeypatch):
    overdue, seen = stale_registry
    real_raise = flags._raise

    def killed_at_the_follow_up_rule(rule, holding):
        if rule.kind == Flag.Kind.FOLLOWUP_OVERDUE:
            raise SystemExit("worker killed")  # as a SIGKILL would: mid-job, nothing after runs
        return real_raise(rule, holding)

    monkeypatch.setattr(flags, "_raise", killed_at_the_follow_up_rule)
    with pytest.raises(SystemExit):
        refresh_flags()
    # The rules before it committed whole; the follow-up rule did nothing at all.
    assert open_kinds(overdue) == {"new_patient"}
    assert open_kinds(seen) == {"new_patient", "followup_overdue"}

    monkeypatch.setattr(flags, "_raise", real_raise)
    refresh_flags()  # the task redelivered (acks_late) or the next night's run

    assert open_kinds(overdue) == {"new_patient", "followup_overdue"}
    assert open_kinds(seen) == {"new_patient"}
    assert Flag.objects.get(episode=seen, kind="followup_overdue").resolution_note.startswith("Resolved automatically")
    assert refresh_flags().changed == 0  # and a third run changes nothing


def test_a_killed_task_is_given_to_another_worker_not_lost(settings):
    # Acknowledged only once done: a worker that dies mid-job leaves it in the broker.
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit < settings.REDIS_VISIBILITY_TIMEOUT
    # And its work is in the outbox, taken over by the sweep once the claim's lease is out.
    assert settings.CAREREG_FLAG_REFRESH_LEASE_SECONDS < 10 * 60


# --- A form posted twice ------------------------------------------------------------------


def test_contact_form_posted_twice_saves_one_contact_and_shows_it(client, ward):
    maria, patient, episode = ward
    client.force_login(maria)
    url = reverse("registry:record_contact", args=[patient.pk])
    form = contact_post(submission=hidden(client.get(url).content.decode(), "submission"))

    first = client.post(url, form)
    second = client.post(url, form, follow=True)

    assert first.status_code == 302
    assert second.redirect_chain == [(reverse("patients:detail", args=[patient.pk]), 302)]
    assert (
        "This contact was already saved (the form was sent twice); it was not saved again." in second.content.decode()
    )
    assert Contact.objects.filter(episode=episode).count() == 1
    assert Measurement.objects.filter(episode=episode).count() == 1


def test_the_patient_page_quick_form_carries_a_new_one_time_token_each_time(client, ward):
    maria, patient, _ = ward
    client.force_login(maria)

    tokens = {
        hidden(client.get(reverse("patients:detail", args=[patient.pk])).content.decode(), "submission")
        for _ in range(2)
    }

    assert len(tokens) == 2


def test_contact_form_with_errors_keeps_its_token_and_saves_once_corrected(client, ward):
    maria, patient, episode = ward
    client.force_login(maria)
    url = reverse("registry:record_contact", args=[patient.pk])
    token = hidden(client.get(url).content.decode(), "submission")

    refused = client.post(url, contact_post(submission=token, minutes="-5"))
    saved = client.post(url, contact_post(submission=token))

    assert refused.status_code == 400  # refused: drawn again with what was typed
    assert hidden(refused.content.decode(), "submission") == token
    assert saved.status_code == 302
    assert Contact.objects.filter(episode=episode).count() == 1


def post_at_once(make_requests) -> list:
    """Run the request functions in threads released together; each closes its connection."""
    start = threading.Barrier(len(make_requests))
    results = [None] * len(make_requests)

    def run(index, make_request):
        try:
            start.wait()
            results[index] = make_request()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(make_requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def logged_in_clients(user, count: int) -> list[Client]:
    first = Client()
    first.force_login(user)
    clients = [first]
    for _ in range(count - 1):
        other = Client()
        other.cookies = SimpleCookie(first.cookies)
        clients.append(other)
    return clients


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_contact_form_posted_twice_at_the_same_instant_saves_one_contact(ward):
    maria, patient, episode = ward
    url = reverse("registry:record_contact", args=[patient.pk])
    clients = logged_in_clients(maria, 2)
    form = contact_post(submission=hidden(clients[0].get(url).content.decode(), "submission"))

    responses = post_at_once([lambda c=c: c.post(url, form) for c in clients])

    assert [r.status_code for r in responses] == [302, 302]
    assert Contact.objects.filter(episode=episode).count() == 1
    assert Measurement.objects.filter(episode=episode).count() == 1
    assert ContactSubmission.objects.count() == 1


# --- Two people editing one patient -------------------------------------------------------


def edit_form(page: str, **changes) -> dict:
    fields = dict(re.findall(r'<input type="(?:text|hidden|email|date|tel)" name="(\w+)" value="([^"]*)"', page))
    selected = re.findall(r'<select name="(\w+)"[^>]*>.*?(?:<option value="([^"]*)" selected>|</select>)', page, re.S)
    return {**fields, **{name: value for name, value in selected}, **changes}


def test_second_editor_is_told_and_nothing_they_opened_overwrites_the_first(client, ward):
    maria, patient, _ = ward
    james = UserFactory(username="james", clinics=[patient.clinic])
    url = reverse("patients:edit", args=[patient.pk])
    maria_client, james_client = Client(), Client()
    maria_client.force_login(maria)
    james_client.force_login(james)
    maria_page = maria_client.get(url).content.decode()
    james_page = james_client.get(url).content.decode()

    saved = maria_client.post(url, edit_form(maria_page, phone="555-0199"))
    refused = james_client.post(url, edit_form(james_page, city="Shelbyville"))

    assert saved.status_code == 302
    assert refused.status_code == 200
    assert STALE in refused.content.decode()
    patient.refresh_from_db()
    assert (patient.phone, patient.city, patient.version) == ("555-0199", "Springfield", 2)
    assert patient.history.count() == 2  # created, Maria's edit: nothing of James's
    # James reviews: the form he is shown now carries the version saved, and his save goes through.
    again = james_client.post(url, edit_form(refused.content.decode()))
    assert again.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.city, patient.version) == ("555-0199", "Shelbyville", 3)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_at_the_same_instant_one_is_refused(ward):
    maria, patient, _ = ward
    url = reverse("patients:edit", args=[patient.pk])
    clients = logged_in_clients(maria, 2)
    page = clients[0].get(url).content.decode()

    responses = post_at_once(
        [
            lambda: clients[0].post(url, edit_form(page, phone="555-0101")),
            lambda: clients[1].post(url, edit_form(page, phone="555-0102")),
        ]
    )

    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    assert STALE in refused.content.decode()
    patient.refresh_from_db()
    assert patient.version == 2
    assert patient.history.count() == 2


def test_stale_version_posted_straight_to_the_service_is_refused(ward):
    from django.core.exceptions import ValidationError

    from patients import services

    maria, patient, _ = ward
    services.update_patient(patient=Patient.objects.get(pk=patient.pk), by=maria, version=1, phone="555-0150")

    with pytest.raises(ValidationError, match="Someone else changed this patient"):
        services.update_patient(patient=Patient.objects.get(pk=patient.pk), by=maria, version=1, city="Ogdenville")

    assert Patient.objects.values_list("phone", "city", "version").get(pk=patient.pk) == ("555-0150", "Springfield", 2)


def test_settings_keep_health_checked_connections(settings):
    # The first request after a database restart reconnects instead of failing.
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
