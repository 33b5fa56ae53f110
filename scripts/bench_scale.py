#!/usr/bin/env python
"""The health-system scale goals (docs/benchmarks.md#at-100000-patients) on the 100,000-patient registry.

Uses the registry scripts/bench_flags.py seeds (carereg_bench_flags; set BENCH_DATABASE_URL for
another): run that first, once. The demo has 4 care managers; this script makes it 200 (196
more, "bench-cm-001"..., once) and shares each clinic's patients among its care managers by
patient id (on every run, so that the caseloads do not depend on how the registry was seeded).
Then it measures, and prints each figure against its goal:

1. the clinic-admin dashboard, page 1 sorted by flags and by latest PHQ-9 (median < 150 ms);
2. the outcomes report for the default year, both clinics (< 2 s);
3. an export of every open episode: `manage.py export_registry --out` and the streamed
   download (team=all) (< 20 s each, in constant memory: the process's peak RSS and, in a
   separate run, the Python heap's peak by tracemalloc);
4. a full flag refresh, every rule flag raised, in a transaction rolled back (< 10 s);
5. the morning digest to the 200 care managers (send_digests, locmem e-mail), in a
   transaction rolled back (< 5 s).

Times are wall-clock medians of --rounds runs (the export and the refresh run once: they are
long); "CPU" is this process's time.process_time. With --save DIR the outputs (the export
CSV, the outcomes page with its CSRF token and nonces blanked, its CSVs, the digest e-mails)
are written there, to compare two versions of the code on the same database (`cmp`).

    .venv/bin/python scripts/bench_scale.py [--rounds 5] [--save DIR] [--only NAME ...]
"""

import argparse
import datetime
import hashlib
import io
import os
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/carereg_bench_flags")
os.environ.update(
    DATABASE_URL=DATABASE_URL,
    DEBUG="false",
    CAREREG_HTTPS="false",
    SECRET_KEY="bench-" + "x" * 50,
    LOG_LEVEL="WARNING",
    DB_CONN_MAX_AGE="600",  # one PostgreSQL backend for the whole run, whose CPU is read
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

from scripts.benchdb import allow_test_client, backend_cpu_ns, log_in, peak_rss_mb, verdict  # noqa: E402

CARE_MANAGERS = 200
GOALS_MS = {
    "dashboard by flags": 150,
    "dashboard by latest PHQ-9": 150,
    "outcomes report": 2_000,
    "export (command)": 20_000,
    "export (download)": 20_000,
    "flag refresh": 10_000,
    "digest": 5_000,
}
NAMES = ["dashboard", "outcomes", "export", "flags", "digest"]


class Rollback(Exception):
    """Raised at the end of a measured write, so that the database is left as it was."""


def ensure_care_managers(count: int) -> None:
    """`count` active care managers with an e-mail (made if missing: bulk inserts, no password
    hashing), and each clinic's patients shared among its own by patient id, whatever care
    manager the seed gave them (only the patients whose care manager differs are written)."""
    from django.db import connection

    from accounts.models import Clinic, Role, User

    care_managers = User.objects.filter(role=Role.CARE_MANAGER, is_active=True).exclude(email="")
    clinics = list(Clinic.objects.filter(patients__isnull=False).distinct().order_by("code"))
    missing = count - care_managers.count()
    if missing > 0:
        made = []
        for n in range(1, missing + 1):
            user = User(
                username=f"bench-cm-{n:03}", role=Role.CARE_MANAGER, fte=1, email=f"bench-cm-{n:03}@example.org"
            )
            user.set_unusable_password()
            made.append(user)
        made = User.objects.bulk_create(made)
        User.clinics.through.objects.bulk_create(
            User.clinics.through(user_id=user.pk, clinic_id=clinics[i % len(clinics)].pk) for i, user in enumerate(made)
        )
        print(f"made {missing} more care managers: {care_managers.count()} in all", flush=True)
    with connection.cursor() as cursor:
        for clinic in clinics:
            ids = list(care_managers.filter(clinics=clinic).order_by("pk").values_list("pk", flat=True))
            # By rank among the clinic's patients, not by id: the seed alternates clinics.
            cursor.execute(
                "UPDATE patients_patient p SET care_manager_id = ranked.cm FROM (SELECT id, "
                "(%s::bigint[])[(ROW_NUMBER() OVER (ORDER BY id) - 1) %% %s + 1] AS cm "
                "FROM patients_patient WHERE clinic_id = %s) ranked "
                "WHERE p.id = ranked.id AND p.care_manager_id IS DISTINCT FROM ranked.cm",
                [ids, len(ids), clinic.pk],
            )
            if cursor.rowcount:
                print(f"{clinic.code}: {cursor.rowcount:,} patients given to one of its {len(ids)} care managers")
        cursor.execute("ANALYZE patients_patient")


def timed(action, rounds: int) -> tuple[float, float, float]:
    """Median wall-clock, CPU (this process) and PostgreSQL backend CPU ms of `rounds` calls,
    after one to warm up."""
    action()
    wall, cpu, postgres = [], [], []
    for _ in range(rounds):
        postgres_before, wall_before, cpu_before = backend_cpu_ns(), time.perf_counter(), time.process_time()
        action()
        cpu.append((time.process_time() - cpu_before) * 1000)
        wall.append((time.perf_counter() - wall_before) * 1000)
        postgres.append((backend_cpu_ns() - postgres_before) / 1e6)
    return statistics.median(wall), statistics.median(cpu), statistics.median(postgres)


def query_count(action) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def report(name: str, wall_ms: float, cpu_ms: float, queries: int | None, note: str = "", postgres_ms=None) -> None:
    goal = GOALS_MS[name]
    shown = f"{wall_ms / 1000:.2f} s" if goal >= 1000 else f"{wall_ms:.1f} ms"
    goal_shown = f"{goal / 1000:g} s" if goal >= 1000 else f"{goal} ms"
    postgres = f"  PostgreSQL {postgres_ms:8.1f} ms" if postgres_ms is not None else ""
    print(
        f"{name:28} {shown:>10}  CPU {cpu_ms:9.1f} ms{postgres}  {'' if queries is None else f'{queries:4d} queries'}"
        f"  goal < {goal_shown}: {verdict(wall_ms, goal)}{note}",
        flush=True,
    )


def get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def dashboard(admin_client, rounds: int) -> None:
    for name, sort in [("dashboard by flags", "flags"), ("dashboard by latest PHQ-9", "-phq9_latest")]:
        url = f"/caseload/?sort={sort}&team=all"
        wall, cpu, postgres = timed(lambda url=url: get(admin_client, url), rounds)
        report(name, wall, cpu, query_count(lambda url=url: get(admin_client, url)), postgres_ms=postgres)


def outcomes(admin_client, rounds: int, save: Path | None) -> None:
    url = "/reports/outcomes/"
    wall, cpu, postgres = timed(lambda: get(admin_client, url), rounds)
    report("outcomes report", wall, cpu, query_count(lambda: get(admin_client, url)), postgres_ms=postgres)
    if save:
        page = get(admin_client, url).content.decode()
        (save / "outcomes.html").write_text(re.sub(r'(csrfmiddlewaretoken" value|nonce)="[^"]*"', r'\1=""', page))
        for name in ("outcomes.csv", "outcomes-monthly.csv"):
            (save / name).write_bytes(get(admin_client, f"/reports/{name}").content)


def _traced(trace: bool, action):
    """Run action, with the Python heap traced if asked: (result, wall ms, CPU ms, heap note)."""
    if trace:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    cpu, wall = (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000
    heap = f", Python heap peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MB" if trace else ""
    tracemalloc.stop()
    return result, wall, cpu, heap


def _export_note(content_size: int, lines: int, sha256: str, rss_before: float, heap: str) -> str:
    return (
        f"; {lines - 1:,} rows, {content_size / 2**20:.1f} MB, sha256 {sha256[:12]}; "
        f"peak RSS {rss_before:.0f} -> {peak_rss_mb():.0f} MB{heap}"
    )


def export_command(save: Path | None, trace: bool) -> None:
    """`manage.py export_registry --out FILE`: every open episode, as a system user would."""
    from django.core.management import call_command

    out = save / "export.csv" if save else Path(tempfile.mkstemp(suffix=".csv")[1])
    rss_before = peak_rss_mb()
    _, wall, cpu, heap = _traced(trace, lambda: call_command("export_registry", out=str(out), stderr=io.StringIO()))
    content = out.read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    report(
        "export (command)",
        wall,
        cpu,
        None,
        _export_note(len(content), content.count(b"\r\n"), sha256, rss_before, heap),
    )
    if not save:
        out.unlink()


def export_download(admin_client, trace: bool) -> None:
    """The dashboard's download for the whole registry (team=all), read as it streams, after a
    small one (the unassigned patients) that loads what any request loads."""

    def download(team: str) -> tuple[int, int, str]:
        response = get(admin_client, f"/data/export.csv?team={team}")
        size, lines, sha256 = 0, 0, hashlib.sha256()
        for chunk in response.streaming_content:
            size, lines = size + len(chunk), lines + chunk.count(b"\r\n")
            sha256.update(chunk)
        return size, lines, sha256.hexdigest()

    download("unassigned")
    rss_before = peak_rss_mb()
    (size, lines, sha256), wall, cpu, heap = _traced(trace, lambda: download("all"))
    report("export (download)", wall, cpu, None, _export_note(size, lines, sha256, rss_before, heap))


def flag_refresh() -> None:
    """Every rule flag removed, then one full refresh raises them again; rolled back."""
    from django.db import connection, transaction

    from registry.flags import RULE_KINDS, refresh_flags

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM registry_historicalflag WHERE kind = ANY(%s)", [RULE_KINDS])
                cursor.execute("DELETE FROM registry_flag WHERE kind = ANY(%s)", [RULE_KINDS])
            wall, cpu = time.perf_counter(), time.process_time()
            result = refresh_flags()
            cpu, wall = (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000
            raise Rollback
    except Rollback:
        pass
    report("flag refresh", wall, cpu, None, f"; raised {sum(result.raised.values()):,}")


def digest(rounds: int, save: Path | None) -> None:
    """The morning digest as its task sends it, an hour after the latest flag was raised (so
    the same flags count whenever the bench runs), with no digest sent before; rolled back."""
    from django.core import mail
    from django.db import transaction
    from django.db.models import Max

    from registry.digest import send_digests
    from registry.models import Flag, FlagDigest

    now = Flag.objects.aggregate(latest=Max("raised_at"))["latest"] + datetime.timedelta(hours=1)

    def send() -> int:
        mail.outbox = []
        try:
            with transaction.atomic():
                FlagDigest.objects.all().delete()
                sent = send_digests(now)
                raise Rollback
        except Rollback:
            return sent

    wall, cpu, postgres = timed(send, rounds)
    queries = query_count(send)
    report("digest", wall, cpu, queries, f"; {len(mail.outbox)} e-mails", postgres)
    if save:
        text = "".join(
            f"To: {', '.join(m.to)}\nSubject: {m.subject}\n\n{m.body}\n---\n"
            for m in sorted(mail.outbox, key=lambda m: m.to)
        )
        (save / "digest.txt").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--save", type=Path, help="write the outputs here, to compare versions of the code")
    parser.add_argument("--only", nargs="+", choices=NAMES, help="measure only these (default: all)")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="trace the Python heap's peak during the exports (slower)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from patients.models import Episode, Patient

    allow_test_client()
    patients = Patient.objects.count()
    if patients == 0:
        sys.exit(f"No registry in {DATABASE_URL}: seed it first with scripts/bench_flags.py.")
    ensure_care_managers(CARE_MANAGERS)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    with os.popen("uptime") as uptime:
        load = uptime.read().strip().split("load average: ")[-1]
    print(
        f"registry: {patients:,} patients, {Episode.objects.open().count():,} open episodes; "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load average {load}; "
        f"medians of {args.rounds}",
        flush=True,
    )
    admin_client = Client()
    log_in(admin_client, User.objects.get(username="dana"))
    only = args.only or NAMES
    # The export first: the process's peak memory before it is then the peak of the setup only.
    if "export" in only:
        export_command(args.save, args.tracemalloc)
        export_download(admin_client, args.tracemalloc)
    if "dashboard" in only:
        dashboard(admin_client, args.rounds)
    if "outcomes" in only:
        outcomes(admin_client, args.rounds, args.save)
    if "flags" in only:
        flag_refresh()
    if "digest" in only:
        digest(args.rounds, args.save)
    connection.close()


if __name__ == "__main__":
    main()
