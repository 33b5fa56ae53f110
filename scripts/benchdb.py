"""Shared by the benchmark scripts: their own PostgreSQL database, created when missing."""


def ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def log_in(client, user) -> None:
    """A whole login for a benchmark's test client: the session, and the second factor given
    with the user's authenticator device (made if missing), as django_otp.login does."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def ensure_seeded(patients: int, seed: int = 2026) -> None:
    """Migrate, then seed demo patients up to `patients` (the same seed gives the same registry),
    and refresh the planner's statistics. Call after django.setup()."""
    import time

    from django.core.management import call_command
    from django.db import connection

    from patients.models import Episode, Patient
    from registry.demo import seed_demo

    call_command("migrate", verbosity=0)
    existing = Patient.objects.count()
    if existing < patients:
        started = time.perf_counter()
        seed_demo(patients=patients - existing, seed=seed)
        print(f"seeded {patients - existing} patients in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"registry: {Patient.objects.count()} patients, {Episode.objects.open().count()} open episodes")


def allow_test_client() -> None:
    """Settings for requests through Django's test client in a benchmark. Call after django.setup()."""
    import warnings

    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise's: no collectstatic for a bench
    # Production serves hashed names from collectstatic's manifest; the bench needs no files.
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


def median_ms(action, count: int) -> float:
    """The median wall-clock time of `count` calls of action, in ms."""
    import statistics
    import time

    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def verdict(value: float, goal: float) -> str:
    """How a figure stands against its goal (lower is better), as the benchmarks print it."""
    return "within" if value < goal else "OVER"


def backend_cpu_ns() -> int:
    """Nanoseconds the PostgreSQL backend of this process's connection has spent on a CPU (from
    /proc: the server must run on this machine)."""
    from pathlib import Path

    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
