#!/usr/bin/env python
"""Outcome report time on a 10,000-patient registry.

Seeds the demo into its own PostgreSQL database (carereg_bench_outcomes, created if missing;
set BENCH_DATABASE_URL to use another), then times, for the clinic admin who sees both demo
clinics, the outcomes page for the 12 months up to today through Django's whole request stack,
its CSV download, and `manage.py outcomes_report`, and prints medians and query counts.

    .venv/bin/python scripts/bench_outcomes.py [--patients 10000] [--requests 5]
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/carereg_bench_outcomes")
os.environ.update(DATABASE_URL=DATABASE_URL, DEBUG="false", CAREREG_HTTPS="false", SECRET_KEY="bench-" + "x" * 50)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

from scripts.benchdb import ensure_database, log_in, median_ms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from patients.models import Patient
    from registry.demo import seed_demo

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    call_command("migrate", verbosity=0)
    existing = Patient.objects.count()
    if existing < args.patients:
        started = time.perf_counter()
        seed_demo(patients=args.patients - existing, seed=2026)
        print(f"seeded {args.patients - existing} patients in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"registry: {Patient.objects.count()} patients")

    client = Client()
    log_in(client, User.objects.get(username="dana"))
    for label, url in [("outcomes page", "/reports/outcomes/"), ("figures CSV", "/reports/outcomes.csv")]:
        assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        ms = median_ms(lambda url=url: client.get(url), args.requests)
        print(f"{label}, 12 months, both clinics: median {ms:.0f} ms, {len(queries)} queries")
    ms = median_ms(lambda: call_command("outcomes_report", stdout=io.StringIO()), args.requests)
    print(f"manage.py outcomes_report, every clinic: median {ms:.0f} ms")


if __name__ == "__main__":
    main()
