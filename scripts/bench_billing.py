#!/usr/bin/env python
"""Time to build a month's CoCM billing report for a big clinic.

Builds its own registry (bulk inserts, like a data import) in its own database: one clinic
with --episodes open episodes among 10 care managers, each episode with a contact every
week or so over the last three months (timed, some overlapping, some without a time, a few
entered in error). Then times `billing_rows` for the last full month (the report's one
query, in Python too), the billing page and the CSV download through Django's full request
stack, and the caseload dashboard (whose "minutes this month" column uses the same SQL).

    .venv/bin/python scripts/bench_billing.py [--episodes 4000] [--repeat 5]
    BENCH_DATABASE_URL=sqlite:////tmp/carereg_bench_billing.sqlite3 .venv/bin/python scripts/bench_billing.py

Default database: PostgreSQL carereg_bench_billing (created if missing).
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/carereg_bench_billing")
os.environ.update(DATABASE_URL=DATABASE_URL, DEBUG="false", CAREREG_HTTPS="false", SECRET_KEY="bench-" + "x" * 50)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

from scripts.benchdb import ensure_database, log_in  # noqa: E402

CODE = "billbench"


def build(episodes: int, today: datetime.date) -> None:
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import Clinic, Role, User
    from patients.models import Episode, Patient
    from registry.models import Contact
    from registry.summaries import refresh_summaries

    rng = random.Random(2026)
    clinic = Clinic.objects.create(code=CODE, name="Billing Bench Clinic")
    admin = User.objects.create(username="bench-admin", role=Role.CLINIC_ADMIN)
    admin.clinics.add(clinic)
    managers = []
    for n in range(10):
        manager = User.objects.create(username=f"bench-cm{n}", role=Role.CARE_MANAGER, fte=Decimal("1.00"))
        manager.clinics.add(clinic)
        managers.append(manager)
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            mrn=f"B{n:07d}",
            first_name="Pat",
            last_name=f"Bench{n}",
            birth_date=datetime.date(1970, 1, 1),
            sex="unknown",
            care_manager=managers[n % len(managers)],
        )
        for n in range(episodes)
    )
    made = Episode.objects.bulk_create(
        Episode(
            patient=patient,
            enrolled_on=(enrolled := today - datetime.timedelta(days=rng.randint(0, 200))),
            status=Episode.Status.ACTIVE,
            status_changed_on=enrolled,
        )
        for patient in patients
    )
    now = timezone.now()
    contacts = []
    for episode in made:
        day = max(episode.enrolled_on, today - datetime.timedelta(days=95))
        while day <= today:
            at = None if rng.random() < 0.15 else datetime.time(rng.randint(8, 16), rng.choice([0, 15, 30, 45]))
            for _ in range(2 if rng.random() < 0.2 else 1):  # now and then a second, overlapping entry
                contacts.append(
                    Contact(
                        episode=episode,
                        contact_date=day,
                        contact_time=at,
                        kind="follow_up",
                        mode="phone",
                        reached=rng.random() < 0.8,
                        minutes=rng.choice([5, 10, 15, 20, 30, 45, 60]),
                        recorded_by=episode.patient.care_manager,
                        entered_in_error_at=now if rng.random() < 0.02 else None,
                    )
                )
            day += datetime.timedelta(days=rng.randint(4, 12))
    Contact.objects.bulk_create(contacts, batch_size=5000)
    refresh_summaries(Episode.objects.filter(patient__clinic=clinic))


def timed(function, repeat: int) -> tuple[float, float]:
    function()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import Clinic, User
    from patients.models import Episode
    from registry.billing import billing_rows
    from registry.models import Contact

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    if not Clinic.objects.filter(code=CODE).exists():
        started = time.perf_counter()
        build(args.episodes, today)
        print(f"built {args.episodes} episodes in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    clinic = Clinic.objects.get(code=CODE)
    episodes = Episode.objects.filter(patient__clinic=clinic)
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)  # the last full month
    in_month = Contact.objects.filter(episode__patient__clinic=clinic, contact_date__year=month.year)
    in_month = in_month.filter(contact_date__month=month.month).count()
    print(f"{connection.vendor}: {episodes.count()} episodes, {in_month} contacts in {month:%Y-%m}")

    with CaptureQueriesContext(connection) as queries:
        rows = billing_rows(episodes, month)
    billable = sum(1 for row in rows if row.codes)
    median, worst = timed(lambda: billing_rows(episodes, month), args.repeat)
    print(f"billing_rows {month:%Y-%m}: {len(rows)} rows ({billable} billable), {len(queries)} query: "
          f"median {median:.0f} ms, max {worst:.0f} ms")  # fmt: skip

    client = Client()
    log_in(client, User.objects.get(username="bench-admin"))
    for name in ("registry:billing", "registry:billing_csv"):
        url = reverse(name, kwargs={"month": month})
        median, worst = timed(lambda url=url: client.get(url), args.repeat)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        print(f"{url}: median {median:.0f} ms, max {worst:.0f} ms, {len(queries)} queries")
    log_in(client, User.objects.get(username="bench-cm0"))
    for url in ("/?sort=-phq9_latest", "/?sort=-minutes"):
        median, worst = timed(lambda url=url: client.get(url), args.repeat)
        print(
            f"dashboard {url} (bench-cm0, {args.episodes // 10} patients): median {median:.0f} ms, max {worst:.0f} ms"
        )


if __name__ == "__main__":
    main()
