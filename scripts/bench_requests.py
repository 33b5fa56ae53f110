#!/usr/bin/env python
"""CPU per request, in-process, on the 10,000-patient bench registry.

For each request below, the Django side's CPU (`time.process_time` around the request through
the whole stack: middleware, views, ORM, templates) and the CPU of the PostgreSQL backend that
served it (from `/proc/<pid>/schedstat`, nanoseconds on a CPU, read before and after), with the
queries and the Python function calls of one request (cProfile). The requests run interleaved,
round after round, so that a slow minute of the machine weighs on all of them alike; the
script prints each one's median against its budget (docs/benchmarks.md#cpu-per-request).

    .venv/bin/python scripts/bench_requests.py [--rounds 20] [--patients 10000] [--only NAME ...]

`--only` measures just the requests named (as printed, e.g. `--only "outcomes report"`), for a
quick before/after of one page; the others are neither warmed up nor measured.

Needs the PostgreSQL server on this machine (it reads the backend's /proc entry). The
database is `carereg_bench` (BENCH_DATABASE_URL), seeded as scripts/bench_dashboard.py does;
each contact save adds a contact, so the patient pages it saves to grow a little per run.
"""

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/carereg_bench")
os.environ.update(
    DATABASE_URL=DATABASE_URL,
    DEBUG="false",
    CAREREG_HTTPS="false",
    SECRET_KEY="bench-" + "x" * 50,
    DB_CONN_MAX_AGE="600",  # one backend per run, as a gunicorn worker keeps its connection
    LOG_LEVEL="WARNING",
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

from scripts.benchdb import backend_cpu_ns, ensure_database, ensure_seeded, log_in  # noqa: E402

# Budgets in ms of CPU: (Python, PostgreSQL); None where the goal sets none.
BUDGETS = {
    "dashboard, care manager": (15, 10),
    "dashboard, clinic admin": (15, 10),
    "patient page": (25, 10),
    "contact form": (12, None),
    "contact save": (20, None),
}


@dataclass
class Figures:
    python_ms: list[float] = field(default_factory=list)
    postgres_ms: list[float] = field(default_factory=list)
    queries: int = 0
    calls: int = 0


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    return match.group(1) if match else ""


class Requests:
    """The requests measured, each a callable that makes one and checks its answer."""

    def __init__(self, users: dict, patient_ids: list[int], review_url: str):
        from django.test import Client

        self.clients = {}
        for role, user in users.items():
            self.clients[role] = Client()
            log_in(self.clients[role], user)
        self.patient_ids = patient_ids
        self.review_url = review_url
        self.turn = 0

    def _get(self, role: str, url: str):
        response = self.clients[role].get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    def _next_patient(self) -> int:
        self.turn += 1
        return self.patient_ids[self.turn % len(self.patient_ids)]

    def contact_url(self) -> str:
        return f"/patients/{self._next_patient()}/contacts/new/"

    def save_contact(self, url: str, form_html: str):
        answers = {f"phq9-item_{n}": "1" for n in range(1, 9)} | {"phq9-item_9": "0"}
        data = {
            "submission": hidden(form_html, "submission"),
            "contact_date": hidden(form_html, "contact_date"),
            "kind": "follow_up",
            "with_whom": "patient",
            "mode": "phone",
            "reached": "on",
            "minutes": "15",
            **answers,
        }
        response = self.clients["care manager"].post(url, data)
        assert response.status_code == 302, (url, response.status_code)
        return response

    def specs(self) -> dict:
        return {
            "dashboard, care manager": lambda: self._get("care manager", "/caseload/?sort=-phq9_latest&team=mine"),
            "dashboard, clinic admin": lambda: self._get("clinic admin", "/caseload/?sort=-phq9_latest&team=all"),
            "patient page": lambda: self._get("care manager", f"/patients/{self._next_patient()}/"),
            "contact form": lambda: self._get("care manager", self.contact_url()),
            "contact save": None,  # measured around the POST only: see measure()
            "review page": lambda: self._get("consultant", self.review_url),
            "recommendations": lambda: self._get("consultant", "/reviews/recommendations/"),
            "outcomes report": lambda: self._get("clinic admin", "/reports/outcomes/"),
        }


SPEC_NAMES = [
    "dashboard, care manager",
    "dashboard, clinic admin",
    "patient page",
    "contact form",
    "contact save",
    "review page",
    "recommendations",
    "outcomes report",
]  # the keys of Requests.specs(), for --only before Django is set up


def measure(requests: Requests, name: str, make, figures: Figures) -> None:
    if name == "contact save":
        url = requests.contact_url()
        form_html = requests._get("care manager", url).content.decode()
        make = lambda: requests.save_contact(url, form_html)  # noqa: E731
    postgres_before, python_before = backend_cpu_ns(), time.process_time()
    make()
    python_after, postgres_after = time.process_time(), backend_cpu_ns()
    figures.python_ms.append((python_after - python_before) * 1000)
    figures.postgres_ms.append((postgres_after - postgres_before) / 1e6)


def count_calls_and_queries(requests: Requests, name: str, make, figures: Figures) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if name == "contact save":
        url = requests.contact_url()
        form_html = requests._get("care manager", url).content.decode()
        make = lambda: requests.save_contact(url, form_html)  # noqa: E731
    profile = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        profile.enable()
        make()
        profile.disable()
    figures.queries = len(queries)
    figures.calls = pstats.Stats(profile).total_calls


def report(results: dict[str, Figures], rounds: int) -> None:
    print(f"\nCPU per request, median of {rounds} interleaved rounds (ms):")
    print(f"{'request':26} {'Python':>8} {'PostgreSQL':>11} {'queries':>8} {'calls':>9}  budget")
    for name, figures in results.items():
        python, postgres = statistics.median(figures.python_ms), statistics.median(figures.postgres_ms)
        budget = BUDGETS.get(name)
        verdict = ""
        if budget:
            python_ok = python <= budget[0]
            postgres_ok = budget[1] is None or postgres <= budget[1]
            limit = f"{budget[0]} + {budget[1]}" if budget[1] is not None else f"{budget[0]} (Python)"
            verdict = f"{limit}: {'within' if python_ok and postgres_ok else 'OVER'}"
        print(f"{name:26} {python:8.1f} {postgres:11.1f} {figures.queries:8d} {figures.calls:9,d}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        choices=SPEC_NAMES,
        help="measure only these requests (default: all): " + ", ".join(f'"{name}"' for name in SPEC_NAMES),
    )
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    ensure_seeded(args.patients)

    from accounts.models import User
    from consults.models import AgendaItem
    from patients.models import Patient

    maria = User.objects.get(username="maria")
    users = {"care manager": maria, "clinic admin": User.objects.get(username="dana")}
    users["consultant"] = User.objects.get(username="drchen")
    active = Patient.objects.filter(care_manager=maria, episodes__status="active").order_by("pk")
    patient_ids = list(active.values_list("pk", flat=True)[:200])
    agenda_items = AgendaItem.objects.filter(agenda__consultant=users["consultant"])
    item = agenda_items.order_by("-agenda__meeting_on", "pk").first()
    review_url = f"/reviews/{item.agenda_id}/items/{item.pk}/"
    requests = Requests(users, patient_ids, review_url)
    assert list(requests.specs()) == SPEC_NAMES, "SPEC_NAMES must list the requests of Requests.specs()"
    specs = {name: make for name, make in requests.specs().items() if not args.only or name in args.only}
    results = {name: Figures() for name in specs}
    for name, make in specs.items():  # warm caches, connections and compiled templates
        for _ in range(2):
            measure(requests, name, make, Figures())
    for _ in range(args.rounds):
        for name, make in specs.items():
            measure(requests, name, make, results[name])
    for name, make in specs.items():
        count_calls_and_queries(requests, name, make, results[name])
    report(results, args.rounds)


if __name__ == "__main__":
    main()
