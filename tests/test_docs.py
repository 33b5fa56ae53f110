"""The documentation stays whole: every setting the code reads is in docs/configuration.md, and
every link between the documents and every `docs/<file>.md#<heading>` the code cites leads to a
file and a heading that exist (headings move when documents are merged or rewritten); and the
code points at nothing else: not a private rules file, a duty list or an issue number.

No database and no Django: the files are read as text.
"""

import ast
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", "staticfiles", "var", ".pytest_cache", ".ruff_cache"}

# Links written before their target lands from another branch, as (linking file, target): checked
# like any other as soon as the target exists. The case review guide is being written elsewhere;
# the user guide, which links it, is not this branch's to edit.
AWAITED = {("docs/user-guide.md", "docs/user-guide-review.md")}

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]+`")
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
# `docs/<file>.md` or `docs/<file>.md#<anchor>` in code, not inside a longer path or a URL.
CITATION = re.compile(r"(?<![\w/.-])(docs/[\w.-]+\.md)(?:#([\w-]+))?")


# --- (a) every variable settings.py reads is documented -------------------------------------


def variables_read_by(source: str) -> set[str]:
    """Names passed as a literal to carereg.env's env_*() readers, os.environ.get(), os.getenv()
    or os.environ[...]: what the module reads from the environment."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _reads_environment(node.func) and node.args:
            found |= _literal(node.args[0])
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            found |= _literal(node.slice)
    return found


def _reads_environment(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id.startswith("env_")
    return ast.unparse(func) in {"os.environ.get", "os.getenv", "os.environ.setdefault"}


def _literal(node: ast.expr) -> set[str]:
    return {node.value} if isinstance(node, ast.Constant) and isinstance(node.value, str) else set()


def test_the_reader_finds_every_kind_of_environment_read():
    source = """
import os
A = env_int("ONE", 1)
B = os.environ.get("TWO")
C = os.getenv(
    "THREE"
)
D = os.environ["FOUR"]
E = other("FIVE")
"""

    assert variables_read_by(source) == {"ONE", "TWO", "THREE", "FOUR"}


def documented_variables() -> set[str]:
    """Names written as code in docs/configuration.md (`NAME`, or `NAME=value` in the text)."""
    spans = INLINE_CODE.findall((DOCS / "configuration.md").read_text())
    return {name for span in spans for name in re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", span)}


def test_every_environment_variable_settings_reads_is_in_configuration_md():
    read = variables_read_by((REPO / "carereg" / "settings.py").read_text())

    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY"} <= read  # the reader sees settings.py
    assert sorted(read - documented_variables()) == []


def test_every_variable_the_commands_scripts_and_gunicorn_read_is_in_configuration_md():
    python = [
        *REPO.glob("carereg/*.py"),
        REPO / "deploy" / "gunicorn.conf.py",
        *REPO.glob("scripts/**/*.py"),
        *REPO.glob("*/management/commands/*.py"),
    ]
    read = set().union(*(variables_read_by(path.read_text()) for path in python))
    # A shell script's settings are the variables it gives a default: ${NAME:-default}.
    shell = [*REPO.glob("scripts/**/*.sh"), REPO / ".ci" / "run"]
    read |= {name for path in shell for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*):?-", path.read_text())}
    read |= set(re.findall(r"^([A-Z][A-Z0-9_]*)\s*\?=", (REPO / "Makefile").read_text(), re.MULTILINE))

    assert {"GUNICORN_WORKERS", "CAREREG_PASSWORD", "BACKUP_DIR", "PORT"} <= read
    assert sorted(read - documented_variables()) == []


# --- (b) links in README.md and docs/, (c) citations in the code -----------------------------


def github_anchor(heading: str) -> str:
    """GitHub's id for a heading: its text (links by their text) lowercased, punctuation other
    than - and _ removed, each space a hyphen."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors_of(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    anchors, seen = set(HTML_ANCHOR.findall(text)), {}
    for heading in HEADING.findall(text):
        anchor = github_anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")  # GitHub numbers repeats
    return anchors


def links_in(text: str) -> list[str]:
    """The targets of the markdown links outside code blocks and code spans."""
    text = INLINE_CODE.sub("code", FENCE.sub("", text))
    return LINK.findall(text)


def problem(source: Path, target: Path, anchor: str | None, what: str) -> str | None:
    """Why `what` (a link or citation in `source`) leads nowhere, or None when it resolves."""
    pair = (_relative(source), _relative(target))
    if pair in AWAITED and not target.exists():
        return None
    if not target.is_file():
        return f"{_relative(source)}: {what}: no file {_relative(target)}"
    if anchor and target.suffix == ".md" and anchor not in anchors_of(target):
        return f"{_relative(source)}: {what}: no heading #{anchor} in {_relative(target)}"
    return None


def _relative(path: Path) -> str:
    return os.path.relpath(path, REPO)


def link_problems(markdown: Path) -> list[str]:
    problems = []
    for href in links_in(markdown.read_text()):
        if re.match(r"[a-z][a-z0-9+.-]*:", href, re.IGNORECASE):  # http:, mailto:: not ours to check
            continue
        path, _, anchor = href.partition("#")
        target = (markdown.parent / path).resolve() if path else markdown
        found = problem(markdown, target, anchor, href)
        if found:
            problems.append(found)
    return problems


def markdown_files() -> list[Path]:
    return [REPO / "README.md", REPO / "deploy" / "README.md", *sorted(DOCS.glob("*.md"))]


def code_files() -> list[Path]:
    """Every Python file, every template, script and deployment file, the Makefile and CI."""
    found = [REPO / "Makefile", REPO / ".ci" / "run", REPO / "pytest.ini"]
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        here = Path(folder)
        whole_folder = here.relative_to(REPO).parts[:1] in {("templates",), ("scripts",), ("deploy",)}
        found += [here / name for name in files if name.endswith(".py") or (whole_folder and name != "README.md")]
    return [path for path in found if path.is_file() and path != Path(__file__)]  # not its own examples


def citation_problems(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:  # a binary file has no citations
        return []
    problems = []
    for cited, anchor in CITATION.findall(text):
        found = problem(path, REPO / cited, anchor, f"{cited}#{anchor}" if anchor else cited)
        if found:
            problems.append(found)
    return problems


def test_github_anchors_are_computed_as_github_does():
    assert github_anchor("Flags at 100,000 patients") == "flags-at-100000-patients"
    assert github_anchor("E-mail CareReg sends") == "e-mail-carereg-sends"
    assert github_anchor("`make prod-check` and `CAREREG_HTTPS`") == "make-prod-check-and-carereg_https"
    assert github_anchor("The [proxy](deployment.md), in short: why?") == "the-proxy-in-short-why"


def test_links_in_code_blocks_and_spans_are_not_links(tmp_path):
    text = "See [a](a.md#x) and `[b](b.md)`.\n\n```\n[c](c.md)\n# Not a heading\n```\n[d\nmore](d.md)\n"

    assert links_in(text) == ["a.md#x", "d.md"]


def test_a_link_to_a_missing_file_or_heading_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    (tmp_path / "guide.md").write_text("# Guide\n\n## Two words\n\n```\n## Inside code\n```\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](guide.md#two-words) [file](gone.md) [heading](guide.md#inside-code) [here](#nowhere)\n")

    assert link_problems(page) == [
        "page.md: gone.md: no file gone.md",
        "page.md: guide.md#inside-code: no heading #inside-code in guide.md",
        "page.md: #nowhere: no heading #nowhere in page.md",
    ]


def test_every_relative_link_in_the_documentation_leads_to_a_file_and_heading():
    files = markdown_files()
    links = sum(len(links_in(path.read_text())) for path in files)

    assert links > 100  # the scan reads the links; it cannot pass by finding none
    assert [found for path in files for found in link_problems(path)] == []


def test_every_docs_citation_in_the_code_leads_to_a_file_and_heading():
    files = code_files()
    cited = sum(len(CITATION.findall(path.read_text(errors="ignore"))) for path in files)

    assert cited > 50  # the scan finds the citations; it cannot pass by finding none
    assert [found for path in files for found in citation_problems(path)] == []


# --- (d) the documentation is the only home of the rules --------------------------------------

# A pointer to a text users never see: the private rules file ("clinical-rules 3",
# "clinical-rules.md"), the seed's duty list ("duty 2", "duties 4 and 11", "shared/seed"), or the
# tracker ("issue 5", "issue #6"). Each rule is written in docs/ and cited there instead.
OUTSIDE_REFERENCE = re.compile(r"clinical-rules|shared/seed|\b(?:issues?|dut(?:y|ies))\s+#?\d+", re.IGNORECASE)

# (file, what it mentions): why it may. None today; a reason is required for each one.
ALLOWED_OUTSIDE_REFERENCES: dict[tuple[str, str], str] = {}


def source_files() -> list[Path]:
    """The code files, the own JavaScript and CSS (not the vendored libraries) and the browser tests'."""
    own_static = [
        path
        for path in [*REPO.glob("static/**/*.js"), *REPO.glob("static/**/*.css")]
        if "vendor" not in path.relative_to(REPO).parts
    ]
    return [*code_files(), *own_static]


def outside_references(path: Path) -> list[str]:
    """`file:line: mention` for each pointer outside the documentation that is not allowed."""
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for mention in OUTSIDE_REFERENCE.findall(line):
            if (_relative(path), mention) not in ALLOWED_OUTSIDE_REFERENCES:
                found.append(f"{_relative(path)}:{number}: {mention}")
    return found


def test_pointers_outside_the_documentation_are_found(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    source = tmp_path / "module.py"
    source.write_text(
        '"""Flags (clinical-rules 6), see /work/shared/seed/x.txt."""\n'
        "# Added for Issue 5 and issue #12; the plan (duty 2), its changes (duties 4 and 11).\n"
        "# Fine: docs/clinical-definitions.md#flags, a tissue 3 cm, issued 5 days ago, the duty roster.\n"
    )

    assert outside_references(source) == [
        "module.py:1: clinical-rules",
        "module.py:1: shared/seed",
        "module.py:2: Issue 5",
        "module.py:2: issue #12",
        "module.py:2: duty 2",
        "module.py:2: duties 4",
    ]


def test_code_templates_scripts_and_tests_cite_the_docs_not_rules_files_duties_or_issues():
    files = source_files()
    names = {_relative(path) for path in files}

    # The scan covers every kind of file it is meant to: code, tests, templates, scripts, JS, CSS.
    assert {"registry/flags.py", "tests/test_access.py", "Makefile"} <= names
    assert any(name.startswith("templates/") for name in names)
    assert any(name.startswith("scripts/") for name in names)
    assert any(name.endswith(".js") for name in names) and any(name.endswith(".css") for name in names)
    assert not any("vendor" in name.split("/") for name in names)  # the libraries' own comments are theirs
    assert [found for path in files for found in outside_references(path)] == []
