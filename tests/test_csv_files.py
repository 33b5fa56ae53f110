"""Every CSV file CareReg writes goes through carereg.lib.csv, and none lets a spreadsheet run a
formula typed into the registry (CSV injection).

Generated, so that a CSV page or command added later is covered without anyone remembering:
the CSV pages are found by asking every URL of the app as a signed-in superuser; the CSV
commands are the commands that import the writer, and no other module may write CSV.
"""

import ast
import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.utils import timezone

from carereg.lib.csv import FORMULA_STARTS
from tests.factories import ClinicFactory, EpisodeFactory, PatientFactory, UserFactory, record_contact, record_score
from tests.url_patterns import named_patterns, sample_url

pytestmark = pytest.mark.django_db

WRITER_MODULE = "carereg.lib.csv"
HOSTILE = ['=HYPERLINK("//evil.example")', "+SUM(1+1)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]
NUMBER = re.compile(r"-?\d+(\.\d+)?")
SOURCE = Path(settings.BASE_DIR)
PROJECT_APPS = {path.parent.name for path in SOURCE.glob("*/apps.py")}
# The CSV pages and commands there are today: the generated lists must find at least these.
KNOWN_PAGES = {
    "interchange:export_csv",
    "registry:billing_csv",
    "registry:outcomes_csv",
    "registry:outcomes_monthly_csv",
}
COMMAND_ARGUMENTS = {
    "billing_report": lambda today: ["--month", f"{today:%Y-%m}"],
    "outcomes_report": lambda today: [],
    "export_registry": lambda today: [],
}


def project_modules() -> list[Path]:
    """The project's own Python source: no tests, no migrations, no virtualenv."""
    skipped = {".venv", "tests", "migrations", "node_modules"}
    return sorted(path for path in SOURCE.rglob("*.py") if not skipped & set(path.relative_to(SOURCE).parts))


def csv_writing_calls(tree: ast.AST) -> list[str]:
    """csv.writer / csv.DictWriter / a CSV content type, used anywhere in a module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "csv":
            if node.attr in {"writer", "DictWriter"}:
                found.append(f"csv.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "csv":
            found += [f"from csv import {alias.name}" for alias in node.names if alias.name in {"writer", "DictWriter"}]
        elif _is_csv_content_type(node):
            found.append("content_type=text/csv")
    return found


def _is_csv_content_type(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.keyword)
        and node.arg == "content_type"
        and isinstance(node.value, ast.Constant)
        and str(node.value.value).startswith("text/csv")
    )


def imports_the_writer(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name == WRITER_MODULE for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == WRITER_MODULE:
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "carereg.lib":
            return any(alias.name == "csv" for alias in node.names)
    return False


def test_no_module_but_the_shared_writer_writes_csv():
    offenders = {
        str(path.relative_to(SOURCE)): calls
        for path in project_modules()
        if path != SOURCE / "carereg/lib/csv.py" and (calls := csv_writing_calls(ast.parse(path.read_text())))
    }

    assert offenders == {}, "write CSV with carereg.lib.csv (docs/data-formats.md#csv-files)"


def csv_commands() -> list[str]:
    """The project's management commands that write CSV: those that import the writer."""
    commands = {name: app for name, app in get_commands().items() if app in PROJECT_APPS}
    return sorted(
        name
        for name, app in commands.items()
        if imports_the_writer(SOURCE / app / "management" / "commands" / f"{name}.py")
    )


def test_the_csv_commands_are_found():
    assert set(COMMAND_ARGUMENTS) <= set(csv_commands())


# --- The files, written from a registry full of formulas ----------------------------------


@pytest.fixture
def hostile_registry(db):
    """A clinic, its care manager and patients whose every text field begins like a formula."""
    today = timezone.localdate()
    clinic = ClinicFactory(code="-north", name="=Clinic")
    cm = UserFactory(username="@cm", first_name="=Casey", last_name="+Manager", clinics=[clinic])
    patients = []
    for text in HOSTILE:
        patient = PatientFactory(clinic=clinic, care_manager=cm, mrn=text, first_name=text, last_name=text)
        episode = EpisodeFactory(patient=patient, enrolled_on=today - datetime.timedelta(days=300))
        record_contact(episode, today, cm, kind="initial_assessment", minutes=40, note=text)
        record_score(episode, "PHQ9", 12, today - datetime.timedelta(days=290), cm)
        record_score(episode, "PHQ9", 15, today, cm)  # worse: a change of -25%, a negative number
        patients.append(patient)
    return patients


def unsafe_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run: text beginning with a formula character (numbers are fine)."""
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    return [cell for cell in cells if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)]


def cells_of(text: str) -> set[str]:
    return {cell for row in csv.reader(io.StringIO(text)) for cell in row}


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8")


def csv_pages(client, number: int) -> dict[str, str]:
    """Every page of the app (the API and the admin aside) asked with GET; those that answer CSV."""
    found = {}
    for name, pattern in named_patterns():
        if name.startswith(("admin:", "fhirapi:")) or name in {"logout"}:
            continue
        response = client.get(sample_url(name, pattern, number=number))
        if response.get("Content-Type", "").startswith("text/csv"):
            found[name] = body(response)
    return found


def test_no_csv_page_lets_a_formula_through(client, hostile_registry):
    client.force_login(UserFactory(username="root", role="", fte=None, is_superuser=True, is_staff=True))

    files = csv_pages(client, number=hostile_registry[0].pk)

    assert set(files) >= KNOWN_PAGES, "a CSV page was not found by the walk"
    assert {name: unsafe_cells(text) for name, text in files.items() if unsafe_cells(text)} == {}
    every_cell = set().union(*map(cells_of, files.values()))
    assert {f"'{text}" for text in HOSTILE} | {"'-north", "'@cm"} <= every_cell  # there, and defused
    assert "-25" in every_cell  # a worse score's change is still a number


@pytest.mark.parametrize("command", csv_commands())
def test_no_csv_command_lets_a_formula_through(hostile_registry, command):
    if command not in COMMAND_ARGUMENTS:
        pytest.fail(f"{command} writes CSV: say in COMMAND_ARGUMENTS how to run it here")
    out = io.StringIO()

    call_command(command, *COMMAND_ARGUMENTS[command](timezone.localdate()), stdout=out, stderr=io.StringIO())

    assert unsafe_cells(out.getvalue()) == []
    assert {"'-north", "'@cm"} & cells_of(out.getvalue()), "the hostile registry is not in the file"
