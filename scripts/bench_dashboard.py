#!/usr/bin/env python
"""Dashboard server time on a 10,000-patient registry.

Seeds the demo into its own PostgreSQL database (carereg_bench, created if missing; set
BENCH_DATABASE_URL to use another), then times the caseload dashboard's page 1 sorted by
latest PHQ-9, in-process through Django's full request stack (middleware, query, template),
and prints the median and 95th percentile of repeated requests. The goal: median < 150 ms.

    .venv/bin/python scripts/bench_dashboard.py [--patients 10000] [--requests 30]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/carereg_bench")
os.environ.update(DATABASE_URL=DATABASE_URL, DEBUG="false", CAREREG_HTTPS="false", SECRET_KEY="bench-" + "x" * 50)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

from scripts.benchdb import ensure_database, ensure_seeded, log_in  # noqa: E402


def timed_requests(client, url: str, count: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches and connections
        assert client.get(url).status_code == 200
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return times, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from patients.models import Episode

    settings.ALLOWED_HOSTS = ["testserver"]
    # Production serves hashed names from collectstatic's manifest; the bench needs no files.
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    ensure_seeded(args.patients)

    client = Client()
    for username, team in [("dana", "all"), ("maria", "mine")]:
        user = User.objects.get(username=username)
        log_in(client, user)
        visible = Episode.objects.visible_to(user).open().count()
        url = f"/?sort=-phq9_latest&team={team}"
        times, queries = timed_requests(client, url, args.requests)
        times.sort()
        print(
            f"dashboard page 1 by latest PHQ-9, {username} ({user.get_role_display()}, team={team}, "
            f"{visible} open episodes visible): median {statistics.median(times):.1f} ms, "
            f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, min {times[0]:.1f} ms, {queries} queries"
        )


if __name__ == "__main__":
    main()
