#!/usr/bin/env python
"""Time of a full flag refresh over a 100,000-patient registry, and of a second run.

Seeds the demo into its own PostgreSQL database (carereg_bench_flags, created if missing; set
BENCH_DATABASE_URL to use another) in chunks of 10,000 patients, then times
registry.flags.refresh_flags() over the whole registry twice: first with no rule flags
present (every flag raised), then again with nothing to change. The goal: the full refresh
under 30 s.

    .venv/bin/python scripts/bench_flags.py [--patients 100000]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/carereg_bench_flags")
os.environ.update(DATABASE_URL=DATABASE_URL, DEBUG="false", CAREREG_HTTPS="false", SECRET_KEY="bench-" + "x" * 50)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

from scripts.benchdb import ensure_database  # noqa: E402

CHUNK = 10_000


def seed(target: int) -> None:
    from patients.models import Patient
    from registry.demo import seed_demo

    existing = Patient.objects.count()
    while existing < target:
        size = min(CHUNK, target - existing)
        started = time.perf_counter()
        seed_demo(patients=size, seed=existing + 1, refresh=False)
        existing += size
        print(f"seeded {existing} patients ({time.perf_counter() - started:.0f} s for this chunk)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from consults.models import CaseReview
    from patients.models import Episode, Patient
    from registry.flags import RULE_KINDS, refresh_flags
    from registry.models import Contact, Flag, Measurement

    call_command("migrate", verbosity=0)
    seed(args.patients)
    with connection.cursor() as cursor:
        # Start from no rule flags, so the first run raises every one of them.
        cursor.execute("DELETE FROM registry_historicalflag WHERE kind = ANY(%s)", [RULE_KINDS])
        cursor.execute("DELETE FROM registry_flag WHERE kind = ANY(%s)", [RULE_KINDS])
        cursor.execute("ANALYZE")
    print(
        f"registry: {Patient.objects.count()} patients, {Episode.objects.count()} episodes "
        f"({Episode.objects.open().count()} open), {Contact.objects.count()} contacts, "
        f"{Measurement.objects.count()} scores, {CaseReview.objects.count()} case reviews"
    )
    for label in ("full refresh (every rule flag raised)", "second run (nothing to change)"):
        started = time.perf_counter()
        result = refresh_flags()
        seconds = time.perf_counter() - started
        print(
            f"{label}: {seconds:.2f} s; raised {sum(result.raised.values())}, resolved {sum(result.resolved.values())}"
        )
    open_flags = Flag.objects.filter(resolved_at__isnull=True).values_list("kind").annotate(n=Count("pk"))
    print("open flags by kind:", dict(sorted(open_flags)))


if __name__ == "__main__":
    main()
