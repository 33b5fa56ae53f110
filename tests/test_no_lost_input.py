"""Nothing typed is ever lost (docs/user-guide.md#nothing-typed-is-lost).

Every view of the project that takes a POST with a form is found from the URLconf (its code, or
a helper it calls, reads the POST: a view added later is found too). Each is either covered
below or exempt with its reason; a new one that is neither fails the first test.

A covered view's form is read from the page that shows it, as a browser would: every text field
gets a marker of its own (MARKER-<field>), the other fields keep what the page offered, and one
field is made invalid. The answer must be the page again (not a redirect) with every marker in
it and an error shown, and not one row of the database may have changed.
"""

import dis
import html
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.forms import BaseForm
from django.urls import URLResolver, get_resolver, resolve, reverse

from accounts.models import Role
from consults import notes
from consults.models import CaseReview
from patients import services as patient_services
from selfreport import services as self_report_services
from selfreport.views import VERIFIED
from tests.factories import UserFactory
from tests.test_access import clinic_with_records, days_ago, kwargs_for
from tests.url_patterns import named_patterns

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "audit", "care", "carereg", "consults", "fhirapi", "interchange", "patients"}
PROJECT_APPS |= {"registry", "selfreport"}
READS_A_POST = re.compile(r"request\.POST|request\.FILES|request\.method|require_POST")

# --- Which views take a POST --------------------------------------------------------------


def takes_a_post(view) -> bool:
    """A class-based view with post(), or a function whose code (or a project function it calls
    by name, a few levels down) reads the POST or the method."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post")
    return _reads_a_post(inspect.unwrap(view), depth=0, seen=set())


def _reads_a_post(func, depth: int, seen: set) -> bool:
    if func in seen or depth > 3 or not inspect.isfunction(func):
        return False
    seen.add(func)
    if READS_A_POST.search(inspect.getsource(func)):
        return True
    called = {i.argval for i in dis.get_instructions(func) if i.opname == "LOAD_GLOBAL"}
    helpers = (func.__globals__.get(name) for name in called)
    return any(
        _reads_a_post(inspect.unwrap(h), depth + 1, seen)
        for h in helpers
        if inspect.isfunction(h) and h.__module__.split(".")[0] in PROJECT_APPS
    )


# Whole URL namespaces that are not pages of forms typed by people.
EXEMPT_NAMESPACES = {
    "admin": "Django's ModelAdmin draws an invalid add/change form again with its errors itself; "
    "tests/test_admin_reach.py and accounts/tests/ cover the admin's own forms.",
    "fhirapi": "An API for programs (JSON in, OperationOutcome out): nothing is typed into a page.",
}

EXEMPT = {
    "logout": "A button: nothing typed, no invalid state.",
    "accounts:mfa_verify": "One code field; a wrong code is answered on the same page with 400 "
    "(accounts/tests/test_mfa.py). A verified session, as every client here, is sent on.",
    "accounts:mfa_setup": "As mfa_verify: one code field, refused on the same page (accounts/tests/test_mfa.py).",
    "consults:start_note": "A button (start a note): nothing typed.",
    "consults:build_now": "A button (build this week's agendas): nothing typed.",
    "consults:remove_item": "A button on the agenda page: nothing typed.",
    "consults:restore_item": "A button on the agenda page: nothing typed.",
    "consults:move_item": "A button on the agenda page: nothing typed.",
    "consults:set_question": "The one-row question address of agenda pages drawn before the rows were "
    "saved together: today's page posts its questions to save_questions (covered); an invalid one here "
    "draws the whole agenda again (consults/tests/test_live_agenda.py).",
    "consults:reorder": "The agenda's drag and keyboard reordering posts the whole order as JSON: nothing "
    "typed; a stale or foreign order is answered 409/400 and changes nothing (consults/tests/test_live_agenda.py).",
    "consults:hold_meeting": "A button that posts the agenda's form (form=agenda-form), which save_questions "
    "covers here: the questions are saved with it or drawn again (consults/tests/test_live_agenda.py).",
    "consults:notification_read": "A button (mark one notice read): nothing typed.",
    "consults:notifications_read": "A button (mark every notice read): nothing typed.",
    "patients:plan_change_from_recommendation": "A button (record the implemented recommendation as a plan "
    "change): nothing typed.",
    "patients:discharge_for_no_contact": "A confirmation button: nothing typed.",
    "registry:mark_flags_seen": "A button (mark the new flags the page showed seen): nothing typed.",
    "registry:dashboard": "The caseload's search box posts so that the text (PHI) stays out of the URL; "
    "the text is kept in the session and shown back (registry/tests/test_caseload_views.py).",
    "registry:caseload_columns": "Check boxes only: nothing typed; a tampered choice is answered 400 with the form.",
    "selfreport:cancel": "A button (cancel a link): nothing typed.",
    "selfreport:stop": "A button (stop a schedule): nothing typed.",
    "selfreport:text_withdraw": "A button (withdraw consent to texts): nothing typed.",
    "selfreport:language": "Language buttons of the patient's pages: nothing typed.",
    "selfreport:sms_inbound": "Twilio's signed webhook, not a page.",
    "selfreport:sms_status": "Twilio's signed webhook, not a page.",
}


def every_pattern(resolver=None, namespace: str = "", prefix: str = ""):
    """(name, pattern) for every URL pattern, recursively; one without a name goes by its route."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from every_pattern(entry, inner, prefix + str(entry.pattern))
        else:
            yield (f"{namespace}{entry.name}" if entry.name else f"{namespace}/{prefix}{entry.pattern}"), entry


def views_taking_a_post() -> dict[str, object]:
    return {
        name: pattern
        for name, pattern in every_pattern()
        if name.split(":")[0] not in EXEMPT_NAMESPACES and takes_a_post(pattern.callback)
    }


# --- The covered views ----------------------------------------------------------------------


@dataclass
class Case:
    """How to reach a form view: who posts, with which URL arguments, from which page.

    setup(world, client, name) -> (post URL, page URL) when the generic kwargs (tests/test_access.py)
    and the view's own page do not do. invalid: fields given an invalid value by hand, where the
    generic spoiling (_spoil) would not make the form invalid. already_invalid: the page's own
    form is invalid as offered (a required radio with none chosen, a password not known).
    extra: fields a browser adds, such as the button pressed. spoil: the start of the names of the
    fields to spoil one of, where the page's form also carries fields of other views.
    """

    user: str | None = "care_manager"
    setup: Callable | None = None
    invalid: dict = field(default_factory=dict)
    already_invalid: bool = False
    extra: dict = field(default_factory=dict)
    spoil: str = ""


def _on_page(page: str, **page_kwargs) -> Callable:
    """The view's form is shown on another page (the patient page, the note page...)."""

    def setup(world, client, name):
        return own_url(name, world), reverse(page, kwargs={k: v(world) for k, v in page_kwargs.items()})

    return setup


def _on_agenda_page(world, client, name):
    """The agenda page holds one form for its questions, the patient to add and the meeting."""
    url = own_url(name, world)
    return url, reverse("consults:agenda", args=[resolve(url).kwargs["pk"]])


def _draft_note(world, client, name):
    episode = world.records.episode
    draft = notes.start_note(episode=episode, consultant=world.consultant, by=world.consultant)
    return reverse(name, args=[draft.pk]), reverse("consults:note", args=[draft.pk])


def _signed_note(world, client, name):
    note = CaseReview.objects.filter(episode=world.records.episode, signed_at__isnull=False).latest("pk")
    return reverse(name, args=[note.pk]), reverse("consults:note", args=[note.pk])


def _discharged_patient(world, client, name):
    records = world.records
    patient = patient_services.enroll_patient(
        clinic=records.clinic,
        enrolled_on=days_ago(90),
        by=records.care_manager,
        mrn="NORTH-0002",
        first_name="Dana",
        last_name="Okoye",
        birth_date=days_ago(365 * 40),
        sex="female",
    )
    patient_services.change_status(
        episode=patient.episodes.get(),
        status="discharged",
        on=days_ago(10),
        by=records.care_manager,
        discharge_reason="moved",
    )
    return reverse(name, args=[patient.pk]), reverse("patients:detail", args=[patient.pk])


def _link(world):
    _, token = self_report_services.send_invitation(
        episode=world.records.episode,
        instruments=["PHQ9"],
        language="en",
        email="p@example.org",
        by=world.records.care_manager,
    )
    return token


def _patients_start_page(world, client, name):
    url = reverse(name, args=[_link(world)])
    return url, url


def _patients_questions(world, client, name):
    token = _link(world)
    session = client.session
    session[VERIFIED] = [self_report_services.find_invitation(token).pk]
    session.save()
    url = reverse(name, args=[token])
    return url, url


PATIENT = {"pk": lambda world: world.records.patient.pk}

FORM_VIEWS = {
    "login": Case(user=None, already_invalid=True),  # a password that is not the user's
    "accounts:password_change": Case(already_invalid=True),
    "accounts:renew_backup_codes": Case(setup=_on_page("accounts:account")),
    "audit:patient_access": Case(user="admin"),
    "audit:emergency": Case(),
    "care:add_medication": Case(),
    "care:edit_medication": Case(),
    "care:stop_medication": Case(),
    "care:medication_entered_in_error": Case(),
    "care:add_referral": Case(),
    "care:referral_status": Case(),
    "care:referral_entered_in_error": Case(),
    "care:give_education": Case(),
    "care:education_given_entered_in_error": Case(),
    "care:add_topic": Case(user="admin"),
    "care:edit_topic": Case(user="admin"),
    "consults:record_review": Case(),
    "consults:save_note": Case(user="consultant", setup=_draft_note, extra={"save": ""}),
    "consults:amend_note": Case(user="consultant", setup=_signed_note, invalid={"text": ""}),
    "consults:add_item": Case(setup=_on_agenda_page),
    "consults:save_questions": Case(setup=_on_agenda_page, spoil="note-"),
    "consults:update_session": Case(setup=_on_agenda_page),
    "consults:communicate": Case(),
    "consults:respond": Case(),
    "consults:implemented": Case(),
    "interchange:import": Case(user="admin", already_invalid=True),
    "patients:enroll": Case(),
    "patients:edit": Case(),
    "patients:change_status": Case(setup=_on_page("patients:detail", **PATIENT)),
    "patients:reenroll": Case(setup=_discharged_patient),
    "patients:initial_assessment": Case(),
    "patients:treatment_plan": Case(),
    "patients:plan_change": Case(),
    "patients:plan_change_entered_in_error": Case(),
    "patients:relapse_plan": Case(),
    "registry:record_contact": Case(),
    "registry:record_measurement": Case(),
    "registry:resolve_flag": Case(),
    "registry:request_review": Case(),
    "registry:settings": Case(user="admin"),
    "registry:contact_entered_in_error": Case(),
    "registry:measurement_entered_in_error": Case(),
    "selfreport:send": Case(setup=_on_page("patients:detail", **PATIENT)),
    "selfreport:text_consent": Case(),
    "selfreport:settings": Case(user="admin"),
    "selfreport:start": Case(user=None, setup=_patients_start_page),
    "selfreport:questions": Case(user=None, setup=_patients_questions, already_invalid=True),
}


def test_every_view_that_takes_a_post_is_covered_or_exempt_with_a_reason():
    found = set(views_taking_a_post())

    assert found - FORM_VIEWS.keys() - EXEMPT.keys() == set(), "cover these form views here, or exempt them"
    assert FORM_VIEWS.keys() & EXEMPT.keys() == set()
    assert (FORM_VIEWS.keys() | EXEMPT.keys()) - found == set(), "no longer found: remove them here"
    assert all(len(reason) > 20 for reason in EXEMPT.values())


def test_the_finder_sees_posts_read_by_helpers_and_decorators_but_not_plain_pages():
    found = views_taking_a_post()

    assert {"consults:save_note", "care:medication_entered_in_error", "care:edit_topic", "login"} <= found.keys()
    assert not {"patients:detail", "consults:workspace", "registry:today", "consults:note"} & found.keys()
    assert "/admin/login/" in dict(every_pattern())  # patterns without a name are walked too


# --- Reading a page's form as a browser does ------------------------------------------------

TEXT_TYPES = {"text", "email", "tel", "url", "search"}


@dataclass
class Field:
    tag: str
    type: str
    name: str
    value: str = ""
    on: bool = False  # checked, or (for a select) the chosen values
    options: list = field(default_factory=list)
    chosen: list = field(default_factory=list)


class FormReader(HTMLParser):
    """The page's POST forms: their action and fields."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[Field]]] = []
        self._fields: list[Field] | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._fields = []
            self.forms.append((a.get("action", ""), self._fields))
        if self._fields is not None and tag in ("button", "input") and "formaction" in a:
            # A button that posts its form elsewhere: the same fields, to another view.
            self.forms.append((a["formaction"], self._fields))
        if self._fields is None or ("name" not in a and tag != "option"):
            return
        if tag == "input":
            self._fields.append(
                Field("input", a.get("type", "text").lower(), a["name"], a.get("value", ""), "checked" in a)
            )
        elif tag == "textarea":
            self._textarea = Field("textarea", "textarea", a["name"])
            self._fields.append(self._textarea)
        elif tag == "select":
            self._select = Field("select", "select-multiple" if "multiple" in a else "select", a["name"])
            self._fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a:
                self._select.chosen.append(value)

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data


def form_posting_to(page: str, page_url: str, post_url: str) -> list[Field]:
    reader = FormReader()
    reader.feed(page)
    for action, fields in reader.forms:
        if urlsplit(urljoin(page_url, action or page_url)).path == urlsplit(post_url).path:
            return fields
    raise AssertionError(f"no form posting to {post_url} on {page_url}")


def marker(name: str) -> str:
    return f"MARKER-{name}"


def typed(fields: list[Field], case: Case) -> tuple[dict, list[str]]:
    """What a user sends: a marker in each text field, the rest as offered, one field spoiled."""
    data: dict[str, list[str]] = {}
    markers = []
    for f in fields:
        if f.type in TEXT_TYPES or f.tag == "textarea":
            value = marker(f.name)
            markers.append(value)
        elif f.type == "password":
            value = "MARKER-not-the-password"  # never drawn again, on purpose
        elif f.type in ("checkbox", "radio"):
            if not f.on:
                continue
            value = f.value or "on"
        elif f.tag == "select":
            values = f.chosen or f.options[:1]
            data.setdefault(f.name, []).extend(values if f.type == "select-multiple" else values[:1])
            continue
        elif f.type in ("submit", "button", "file", "reset", "image"):
            continue
        else:  # hidden, date, number...
            value = f.value
        data.setdefault(f.name, []).append(value)
    data.update({name: [value] for name, value in case.extra.items()})
    spoiled = case.invalid or ({} if case.already_invalid else _spoil(fields, case.spoil))
    assert spoiled or case.already_invalid, "say in FORM_VIEWS how to make this form invalid"
    for name, value in spoiled.items():
        data[name] = [value]
        markers = [m for m in markers if m != marker(name) or value.startswith(m)]
    return data, markers


def _spoil(fields: list[Field], only: str = "") -> dict[str, str]:
    """One invalid value: an impossible date, a number that is not one, a choice the form does not
    offer (as a stale page or a tampered post sends), or text longer than any field takes (the
    pages set no maxlength: the server refuses over-long text with a message, never cuts it)."""
    fields = [f for f in fields if f.name.startswith(only)]
    for kind, value in (("date", "2026-02-31"), ("datetime-local", "2026-02-31T10:00"), ("number", "many")):
        for f in fields:
            if f.type == kind:
                return {f.name: value}
    for f in fields:
        if f.tag == "select" or f.type == "radio":
            return {f.name: "not-a-choice"}
    for f in sorted(fields, key=lambda f: f.tag == "textarea"):  # a one-line field first: it has a limit
        if f.type in TEXT_TYPES or f.tag == "textarea":
            return {f.name: marker(f.name) + "x" * TOO_LONG}
    return {}


TOO_LONG = 20_000


# --- The database, to the row ---------------------------------------------------------------

# Written by any request, on purpose: the access log, sessions, login attempts (a failed login is
# recorded by django-axes), and the second factor's bookkeeping.
BOOKKEEPING = {"audit.AccessEvent", "sessions.Session", "otp_totp.TOTPDevice"}
BOOKKEEPING_APPS = {"axes"}


def every_row() -> dict[str, list]:
    return {
        model._meta.label: sorted(map(repr, model._base_manager.values_list()))
        for model in apps.get_models(include_auto_created=True)
        if model._meta.label not in BOOKKEEPING
        and model._meta.app_label not in BOOKKEEPING_APPS
        and model._meta.managed
    }


def changed_tables(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]


# --- The walk -------------------------------------------------------------------------------


@dataclass
class World:
    records: object
    consultant: object
    admin: object

    def user(self, who: str | None):
        return {"care_manager": self.records.care_manager, "consultant": self.consultant, "admin": self.admin}.get(who)


@pytest.fixture
def world():
    records = clinic_with_records("north", "NORTH-0001", "Aurelio", "Zanetti")
    consultant = CaseReview.objects.filter(episode=records.episode).exclude(consultant=None).first().consultant
    admin = UserFactory(username="north-admin", role=Role.CLINIC_ADMIN, fte=None, clinics=[records.clinic])
    return World(records, consultant, admin)


def attempt(client, world: World, name: str, case: Case) -> list[str]:
    """Post the form of `name` with markers and one invalid field; what went wrong, if anything."""
    client.logout()
    user = world.user(case.user)
    if user is not None:
        client.force_login(user)
    if case.setup:
        post_url, page_url = case.setup(world, client, name)
    else:
        post_url = page_url = own_url(name, world)
    shown = client.get(page_url)
    if shown.status_code != 200:
        return [f"its page {page_url} answered {shown.status_code}"]
    data, markers = typed(form_posting_to(shown.content.decode(), page_url, post_url), case)
    before = every_row()

    response = client.post(post_url, data)

    problems = []
    if response.status_code not in (200, 400):
        problems.append(f"answered {response.status_code} {response.get('Location', '')}".rstrip())
    page = html.unescape(response.content.decode())
    problems += [f"lost {m}" for m in markers if m not in page]
    if not any(isinstance(f, BaseForm) and f.is_bound and f.errors for f in _context_values(response)):
        problems.append("showed no form with its errors")
    problems += [f"changed {label}" for label in changed_tables(before, every_row())]
    return problems


def own_url(name: str, world: World) -> str:
    """The view's URL, with the objects tests/test_access.py gives each URL that takes ids."""
    takes_ids = dict(named_patterns())[name].pattern.converters
    return reverse(name, kwargs=kwargs_for(name, world.records) if takes_ids else None)


def _context_values(response) -> list:
    if response.context is None:
        return []
    contexts = response.context if isinstance(response.context, list) else [response.context]
    values = [value for context in contexts for value in context.flatten().values()]
    # Forms in a list (the questionnaires), kept in a helper, or in a list of helpers (the parts
    # other apps add to the contact page: care's treatment forms) count too.
    items = [item for v in values for item in (v if isinstance(v, list) else [v])]
    inner = [*items, *(f for item in items for f in getattr(item, "forms", []))]
    return values + [f for f in inner if isinstance(f, BaseForm)]


def test_every_form_view_draws_its_page_again_with_everything_typed_and_saves_nothing(client, world):
    failures = {}
    for name, case in FORM_VIEWS.items():
        try:
            problems = attempt(client, world, name, case)
        except AssertionError as error:
            problems = [str(error)]
        if problems:
            failures[name] = problems

    assert not failures, "\n".join(f"{name}: {'; '.join(problems)}" for name, problems in failures.items())


def test_a_view_that_redirects_away_from_an_invalid_post_is_caught(client, world, monkeypatch):
    """The walk itself fails a view that sends the user away from a refused form."""
    from django.shortcuts import redirect

    from patients import views as patient_views

    drawn = patient_views._detail_page
    monkeypatch.setattr(
        patient_views,
        "_detail_page",
        lambda request, patient, *a, **forms: redirect("/") if forms else drawn(request, patient, *a),
    )

    problems = attempt(client, world, "patients:change_status", FORM_VIEWS["patients:change_status"])

    assert problems[0] == "answered 302 /"
    assert "lost MARKER-discharge_note" in problems


def test_markers_and_one_invalid_field_are_made_from_the_form_as_shown():
    fields = [
        Field("input", "text", "mrn"),
        Field("textarea", "textarea", "note"),
        Field("input", "date", "on", "2026-01-02"),
        Field("select", "select", "kind", options=["a", "b"], chosen=["b"]),
        Field("input", "checkbox", "agreed", "yes", on=False),
        Field("input", "hidden", "submission", "abc"),
    ]

    data, markers = typed(fields, Case())

    assert data == {
        "mrn": ["MARKER-mrn"],
        "note": ["MARKER-note"],
        "on": ["2026-02-31"],
        "kind": ["b"],
        "submission": ["abc"],
    }
    assert markers == ["MARKER-mrn", "MARKER-note"]
