#!/usr/bin/env python
"""Time and peak memory of a FHIR bulk export of the whole 100,000-patient registry.

Uses the registry scripts/bench_flags.py seeds (carereg_bench_flags; set BENCH_DATABASE_URL for
another): run that first, once (about 15 minutes). Each clinic is exported as its Group export
would be, by the code the Celery worker runs (fhirapi.bulk.run_export), one after the other;
the files go to a temporary directory deleted at the end. Printed: per clinic and in all, the
resources written, the seconds, the files' size, and the process's peak resident memory before
and after (with --tracemalloc, also the Python heap's peak during each export, which slows it).

    .venv/bin/python scripts/bench_bulk_export.py [--tracemalloc]
"""

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/carereg_bench_flags")
os.environ.update(DATABASE_URL=DATABASE_URL, DEBUG="false", CAREREG_HTTPS="false", SECRET_KEY="bench-" + "x" * 50)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

from scripts.benchdb import peak_rss_mb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap's peak")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from accounts.models import Clinic
    from fhirapi import bulk
    from fhirapi.clients import issue_api_client
    from fhirapi.models import ApiClient, BulkExport
    from patients.models import Patient

    call_command("migrate", verbosity=0)
    patients = Patient.objects.count()
    if patients == 0:
        sys.exit(f"No registry in {DATABASE_URL}: seed it first with scripts/bench_flags.py.")
    settings.CAREREG_BULK_EXPORT_DIR = tempfile.mkdtemp(prefix="carereg-bench-export-")
    print(f"registry: {patients:,} patients; peak RSS before exporting: {peak_rss_mb():.0f} MB", flush=True)
    totals = {"resources": 0, "seconds": 0.0, "bytes": 0}
    for clinic in Clinic.objects.filter(patients__isnull=False).distinct().order_by("code"):
        client = ApiClient.objects.filter(clinic=clinic, name="Bulk export benchmark").first()
        if client is None:
            client = ApiClient(name="Bulk export benchmark", clinic=clinic, scope="read")
            issue_api_client(client=client, by=None)
        BulkExport.objects.filter(client=client).delete()
        export = BulkExport.objects.create(
            client=client,
            clinic=clinic,
            request_url=f"bench/Group/{clinic.code}/$export",
            resource_types=list(bulk.EXPORT_TYPES),
        )
        if args.tracemalloc:
            tracemalloc.start()
        started = time.perf_counter()
        bulk.run_export(export.pk)
        seconds = time.perf_counter() - started
        heap = f", Python heap peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MB" if args.tracemalloc else ""
        tracemalloc.stop()
        export.refresh_from_db()
        files = list(export.files.all())
        written = sum(f.count for f in files)
        size = sum(f.size for f in files)
        print(
            f"{clinic.code}: {export.status}, {', '.join(f'{f.resource_type} {f.count:,}' for f in files)}; "
            f"{seconds:.1f} s ({written / seconds:,.0f} resources/s), {size / 2**20:.0f} MB of NDJSON; "
            f"peak RSS {peak_rss_mb():.0f} MB{heap}",
            flush=True,
        )
        totals["resources"] += written
        totals["seconds"] += seconds
        totals["bytes"] += size
        bulk.delete_files(export)
    os.rmdir(settings.CAREREG_BULK_EXPORT_DIR)
    print(
        f"all clinics: {totals['resources']:,} resources in {totals['seconds']:.1f} s, "
        f"{totals['bytes'] / 2**20:.0f} MB of NDJSON; peak RSS of the process {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
