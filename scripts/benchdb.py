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
