"""Imports run one way (docs/architecture.md#layering): every module of every app, read with `ast`
(imports at the top and inside functions alike), imports only its own app, lower layers and
carereg's app-free helpers, as carereg/layers.py lists them. An import of another app inside a
function is allowed only where Django imposes the cycle, with the reason on the line.

No database and no Django: the files are read as text.
"""

import ast
import re
from pathlib import Path

from carereg.layers import APP_FREE, LAYERS, may_import

REPO = Path(__file__).resolve().parent.parent
START_UP_CYCLE = re.compile(r"#\s*start-up cycle:\s*\S")


def modules():
    """(app, dotted module name, path) of every module that ships: not tests, not migrations."""
    for app in LAYERS:
        for path in sorted((REPO / app).rglob("*.py")):
            parts = path.relative_to(REPO).parts
            if "tests" in parts or "migrations" in parts:
                continue
            name = ".".join(parts)[: -len(".py")].removesuffix(".__init__")
            if app == "carereg" and not name.startswith(APP_FREE):
                continue  # settings, URLs, middleware: they name every app, outside the layers
            yield app, name, path


def imports(source: str):
    """(node, imported module, name of the function it is in or None) for every absolute import."""
    tree = ast.parse(source)
    function_of = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if inner is not node:
                    function_of.setdefault(id(inner), node.name)  # ast.walk is breadth-first: the outermost wins
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            yield node, name, function_of.get(id(node))


def explained(lines: list[str], node) -> bool:
    return bool(START_UP_CYCLE.search("\n".join(lines[node.lineno - 1 : node.end_lineno])))


def problems_in(app: str, source: str, path: str) -> list[str]:
    lines = source.splitlines()
    found = []
    for node, name, function in imports(source):
        imported = name.split(".")[0]
        if imported not in LAYERS:
            continue
        where = f"{path}:{node.lineno}"
        if imported == app:
            # An AppConfig's ready() is where Django lets an app import its own models and
            # receivers; anywhere else an import of the app's own module goes at the top.
            if function and function != "ready" and not explained(lines, node):
                found.append(f"{where} imports {name} inside {function}() without '# start-up cycle: <reason>'")
            continue
        if imported == "carereg" and not name.startswith(APP_FREE):
            found.append(f"{where} imports {name}: only carereg's app-free helpers ({', '.join(APP_FREE)})")
        elif not may_import(app, imported):
            way = "sideways" if LAYERS[imported] == LAYERS[app] else "up"
            found.append(
                f"{where} imports {name} {way}: {app} (layer {LAYERS[app]}) -> {imported} (layer {LAYERS[imported]})"
            )
        elif function and imported != "carereg" and not explained(lines, node):
            found.append(f"{where} imports {name} inside a function without '# start-up cycle: <reason>'")
    return found


def test_every_import_runs_down_the_layers():
    found = []
    for app, _name, path in modules():
        found += problems_in(app, path.read_text(), str(path.relative_to(REPO)))
    assert not found, f"{len(found)} imports against docs/architecture.md#layering:\n" + "\n".join(found)


def test_every_app_has_a_layer():
    apps = {path.parent.name for path in REPO.glob("*/apps.py")}
    assert apps <= set(LAYERS), apps - set(LAYERS)


# --- the checker itself ---------------------------------------------------------------------


def test_an_import_up_a_layer_is_named_with_its_line():
    source = "import os\n\nfrom consults.models import Review\n"
    assert problems_in("registry", source, "registry/x.py") == [
        "registry/x.py:3 imports consults.models up: registry (layer 3) -> consults (layer 5)"
    ]


def test_an_import_inside_a_function_is_read_too():
    source = "def f():\n    if True:\n        import registry.models\n"
    assert problems_in("patients", source, "patients/x.py") == [
        "patients/x.py:3 imports registry.models up: patients (layer 2) -> registry (layer 3)"
    ]


def test_apps_of_one_layer_do_not_import_each_other():
    assert problems_in("fhirapi", "from selfreport import models\n", "f.py") == [
        "f.py:1 imports selfreport sideways: fhirapi (layer 6) -> selfreport (layer 6)"
    ]


def test_care_does_not_import_the_case_review_above_it():
    assert problems_in("care", "from consults import models\n", "c.py") == [
        "c.py:1 imports consults up: care (layer 4) -> consults (layer 5)"
    ]


def test_an_import_down_the_layers_and_of_its_own_app_passes():
    source = "from patients.models import Patient\nfrom registry import flags\nfrom carereg.lib import csv\n"
    assert problems_in("registry", source, "registry/x.py") == []


def test_only_carereg_app_free_helpers_may_be_imported():
    assert problems_in("registry", "from carereg import settings\n", "r.py") == [
        "r.py:1 imports carereg: only carereg's app-free helpers (" + ", ".join(APP_FREE) + ")"
    ]
    assert problems_in("registry", "from carereg.settings import X\n", "r.py")


def test_a_function_level_import_of_another_app_needs_its_reason():
    bare = "def ready(self):\n    from patients import models\n"
    assert problems_in("registry", bare, "r.py") == [
        "r.py:2 imports patients inside a function without '# start-up cycle: <reason>'"
    ]
    explained = "def ready(self):\n    from patients import models  # start-up cycle: models load after apps\n"
    assert problems_in("registry", explained, "r.py") == []


def test_an_import_of_the_apps_own_module_inside_a_function_is_refused_outside_ready():
    inside = "def summary(self):\n    from care.panels import intervention_summary\n"
    in_ready = "class C:\n    def ready(self):\n        from care import contributions\n"

    assert problems_in("care", inside, "care/forms.py") == [
        "care/forms.py:2 imports care.panels inside summary() without '# start-up cycle: <reason>'"
    ]
    assert problems_in("care", in_ready, "care/apps.py") == []
