"""A real Redis broker and a real Celery worker (a thread in the test process), for tests about tasks.

A pytest plugin (the root conftest.py loads it), so any app's tests can ask for `broker` or
`worker`. Broker: the local Redis (CI starts it), database TEST_REDIS_URL (14 by default),
emptied before each test. Tests using them are transactional so that the worker's own
database connection sees what the test saved.
"""

import os
import time

import pytest
from celery.beat import EmbeddedService
from celery.contrib.testing.worker import start_worker
from celery.worker import state as worker_state
from django.db import OperationalError

from carereg.celery import app, beat_schedule
from registry.tasks import refresh_episode_flags

# Each checkout running the suite at once on one machine gives its own database number.
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
NOWHERE = "redis://127.0.0.1:6399/0"  # no broker listens here: Redis is "down"


def use_broker(url: str) -> None:
    # Celery reads app.conf.broker_url from the CELERY_BROKER_URL environment variable first (CI
    # sets it), so setting it alone would not move the app; the read and write URLs come first.
    app.conf.broker_url = app.conf.broker_read_url = app.conf.broker_write_url = url
    app.conf.task_always_eager = False
    app._pool = None  # connections to the previous broker must not be reused
    app.amqp._producer_pool = None


@pytest.fixture
def broker():
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    use_broker(REDIS)
    with app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()  # tasks left by an earlier run are not ours
    yield app
    use_broker(saved[0])
    app.conf.task_always_eager = saved[1]


@pytest.fixture
def worker(broker):
    with start_worker(broker, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30) as w:
        # Wait for one task to go through, so the worker has finished starting up (its Django
        # fix-up touches the database connections) before the test's requests begin.
        done = tasks_run()
        refresh_episode_flags.delay(0)
        assert wait_for(lambda: tasks_run() > done)
        yield w


def tasks_run() -> int:
    """Tasks the worker thread has finished so far."""
    return sum(worker_state.total_count.values())


def wait_for(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except OperationalError:  # SQLite: the worker is writing; look again
            pass
        time.sleep(0.1)
    return condition()


@pytest.fixture
def beat_every_second(settings, tmp_path):
    """Start Celery beat (a thread in this process) with the sweep every second: call it once
    the broker is up. Stopped at the end of the test."""
    settings.CAREREG_FLAG_SWEEP_SECONDS = 1
    saved, started = app.conf.beat_schedule, []

    def start():
        app.conf.beat_schedule = beat_schedule()
        service = EmbeddedService(app, thread=True, schedule_filename=str(tmp_path / "celerybeat-schedule"))
        service.start()
        started.append(service)

    yield start
    for service in started:
        service.stop()
    app.conf.beat_schedule = saved
