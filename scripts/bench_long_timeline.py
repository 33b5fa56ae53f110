#!/usr/bin/env python
"""CPU of one patient page with a long history, on the bench registry of scripts/bench_requests.py.

Gives one of care manager maria's patients in active treatment 150 more contacts, each with a
PHQ-9 (once: a later run finds them), then measures that patient's page as bench_requests.py
measures the patient page: Python and PostgreSQL CPU, median of the rounds, and the queries of
one further request (docs/benchmarks.md#cpu-per-request).

    .venv/bin/python scripts/bench_long_timeline.py [--rounds 20] [--contacts 150]
"""

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.bench_requests import DATABASE_URL, backend_cpu_ns  # sets the environment first
from scripts.benchdb import ensure_database, log_in

NOTE = "Long history for the benchmark."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--contacts", type=int, default=150)
    args = parser.parse_args()
    ensure_database(DATABASE_URL)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from patients.models import Episode
    from registry import services
    from registry.models import Contact

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    maria = User.objects.get(username="maria")
    episode = Episode.objects.filter(patient__care_manager=maria, status="active").order_by("pk").first()
    added = Contact.objects.filter(episode=episode, note=NOTE).count()
    days_in_treatment = (timezone.localdate() - episode.enrolled_on).days + 1
    for n in range(added, args.contacts):  # a contact a day from enrollment, round again if need be
        services.record_contact(
            episode=episode,
            by=maria,
            contact_date=episode.enrolled_on + datetime.timedelta(days=n % days_in_treatment),
            kind="follow_up",
            mode="phone",
            minutes=15,
            note=NOTE,
            scores=[services.Answers("PHQ9", [1] * 8 + [0])],
        )
    print(f"patient {episode.patient_id}: {episode.contacts.count()} contacts, {episode.measurements.count()} scores")
    client = Client()
    log_in(client, maria)
    url = f"/patients/{episode.patient_id}/"
    python_ms, postgres_ms = [], []
    for round_ in range(args.rounds + 2):  # two warm-ups
        postgres_before, python_before = backend_cpu_ns(), time.process_time()
        response = client.get(url)
        python_after, postgres_after = time.process_time(), backend_cpu_ns()
        assert response.status_code == 200, response.status_code
        if round_ >= 2:
            python_ms.append((python_after - python_before) * 1000)
            postgres_ms.append((postgres_after - postgres_before) / 1e6)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    print(
        f"long-history patient page, median of {args.rounds}: Python {statistics.median(python_ms):.1f} ms, "
        f"PostgreSQL {statistics.median(postgres_ms):.1f} ms, {len(queries)} queries, {len(response.content):,} bytes"
    )


if __name__ == "__main__":
    main()
