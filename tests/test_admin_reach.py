"""No clinic admin reaches past her clinics through the Django admin, by any of its URLs.

Generated from the admin registry: for every registered ModelAdmin, every URL it serves
(changelist, add, change, history, a past version and its revert, delete, password, the
"view on site" shortcut) and every bulk action, tried with GET and POST by a clinic admin of
North (staff, with every permission there is, as a real clinic admin is set up) against:
South's rows, an account shared by North and South, North's staff and superuser accounts,
a superuser of no clinic, and her own account. A ModelAdmin registered later is walked the
same way without anyone adding it here; a row to try it on is found through its clinic path
(the test fails, saying so, if South has none).

What passes:
- a page of a row that is not North's: 302 (the admin's "not found" redirect), 403 or 404, and
  none of South's patient's identity in the answer;
- a page of an account that is North's but not hers to manage (shared, staff, superuser, her
  own): the same, or 200 when the page shows it read-only (no save, no revert);
- a changelist: South's rows are not in it; its actions on them change nothing;
- an add form given South's clinic: refused (403) or shown again with its errors (200);
- and after every request of a model's walk, not one row of the database changed (every
  table is compared before and after; only the access log, which records the attempts, and
  sessions may grow).
"""

import datetime
import hashlib
import re
from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.urls import URLPattern, reverse
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

from accounts.admin_scoping import ClinicScopedAdmin, SuperuserOnlyAdmin
from accounts.models import Clinic, Role, User
from audit.models import AccessEvent, EmergencyAccess
from fhirapi.clients import issue_api_client
from fhirapi.models import ApiCallLog, ApiClient
from interchange.models import ExportRun, ImportRun
from registry.models import FlagDigest, RegistrySettings
from tests.admin_forms import posted_values
from tests.factories import UserFactory
from tests.test_access import ClinicRecords, clinic_with_records, secrets_of

pytestmark = pytest.mark.django_db

REGISTRY = dict(admin.site._registry)
NOT_COMPARED = {AccessEvent, Session}  # the log of these very attempts; the sessions' messages
NEW_PASSWORD = "a-new-pass-phrase-for-them-99"


@dataclass
class World:
    north: ClinicRecords
    south: ClinicRecords
    dana: User  # clinic admin of North
    shared: User  # psychiatric consultant of North and South
    north_staff: User
    north_root: User
    root: User  # superuser of no clinic


def _south_extras(south: ClinicRecords, north: ClinicRecords) -> None:
    """South's rows of the models clinic_with_records does not make."""
    for records in (north, south):
        RegistrySettings.objects.get_or_create(clinic=records.clinic)
    now = timezone.now()
    FlagDigest.objects.create(
        recipient=south.care_manager, sent_on=now.date(), covers_since=now, sent_at=now, flag_count=2
    )
    client = ApiClient(name="South EHR", clinic=south.clinic, scope=ApiClient.Scope.WRITE)
    issue_api_client(client=client, by=None)
    ApiCallLog.objects.create(client=client, method="GET", path="/fhir/Patient/1", status_code=200)
    AccessEvent.objects.create(
        method="GET", url_name="patients:detail", kind="record", outcome="allowed", status_code=200, clinic=south.clinic
    )
    EmergencyAccess.objects.create(
        user=north.care_manager,
        patient=south.patient,
        reason="Seen in the emergency room",
        expires_at=now + datetime.timedelta(hours=4),
    )
    ImportRun.objects.create(by_username="south-cm", how="upload", succeeded=True).clinics.set([south.clinic])
    ExportRun.objects.create(by_username="south-cm", how="download", patient_count=1).clinics.set([south.clinic])
    common = {"user_agent": "Firefox", "ip_address": "203.0.113.9", "username": "south-cm", "http_accept": "*/*"}
    AccessAttempt.objects.create(**common, path_info="/login/", get_data="", post_data="", failures_since_start=2)
    AccessLog.objects.create(**common, path_info="/login/")
    AccessFailureLog.objects.create(**common, path_info="/login/", locked_out=False)
    Group.objects.create(name="South data managers").permissions.set(Permission.objects.all()[:3])


@pytest.fixture
def world() -> World:
    north = clinic_with_records("north", "NORTH-0001", "Aurelio", "Zanetti")
    south = clinic_with_records("south", "SOUTH-0001", "Bertha", "Quimby")
    _south_extras(south, north)
    dana = UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[north.clinic])
    dana.user_permissions.set(Permission.objects.all())
    both = [north.clinic, south.clinic]
    return World(
        north=north,
        south=south,
        dana=dana,
        shared=UserFactory(username="shared", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=both),
        north_staff=UserFactory(
            username="north-staff", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[north.clinic]
        ),
        north_root=UserFactory(
            username="north-root", role="", fte=None, is_staff=True, is_superuser=True, clinics=[north.clinic]
        ),
        root=UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True),
    )


def only(clinic: Clinic):
    """The clinic as a lookup value that fits every clinic path ("clinic", "clinics", "pk")."""
    return Clinic.objects.filter(pk=clinic.pk)


def targets(model_admin, world: World) -> list:
    """The rows of this admin that the North clinic admin must not change: South's (one is
    enough: the rule is per row, not per kind of row), and for accounts every kind of account
    out of her reach."""
    model = model_admin.model
    if isinstance(model_admin, SuperuserOnlyAdmin):
        rows = list(model._default_manager.order_by("pk")[:1])
    else:
        south_rows = model._default_manager.filter(**{f"{model_admin.clinic_path}__in": only(world.south.clinic)})
        rows = list(south_rows.order_by("pk")[:1])
    if model is User:
        rows = [world.south.care_manager, world.shared, world.north_staff, world.north_root, world.root, world.dana]
    assert rows, f"Make a South row of {model.__name__} in tests/test_admin_reach.py (_south_extras)."
    return rows


def touches_north(model_admin, obj, world: World) -> bool:
    """Whether the row is North's at all (then the page may show it, read-only): by the plain
    clinic path, not by the code under test."""
    if isinstance(model_admin, SuperuserOnlyAdmin):
        return False
    filters = {"pk": obj.pk, f"{model_admin.clinic_path}__in": only(world.north.clinic)}
    return model_admin.model._default_manager.filter(**filters).exists()


# --- The URLs, from each ModelAdmin's own URL patterns --------------------------------------


def _fill(pattern: URLPattern, obj, version) -> str:
    values = {"object_id": obj.pk, "id": obj.pk}
    if isinstance(pattern.pattern, RoutePattern):
        route = str(pattern.pattern)

        def value(match):
            if match.group(1) not in values:
                pytest.fail(f"Say in tests/test_admin_reach.py what {match.group(1)} is in admin URL {route}")
            return str(values[match.group(1)])

        return re.sub(r"<(?:\w+:)?(\w+)>", value, route)
    assert isinstance(pattern.pattern, RegexPattern)
    regex = str(pattern.pattern).removeprefix("^").removesuffix("$")
    groups = iter([obj.pk, version])
    return re.sub(r"\([^)]*\)", lambda _: str(next(groups)), regex)


def admin_urls(model_admin, obj) -> dict[str, str]:
    """Every URL of this ModelAdmin that names a row, filled in for obj, by view name."""
    opts = model_admin.model._meta
    base = reverse("admin:index") + f"{opts.app_label}/{opts.model_name}/"
    history = getattr(obj, "history", None)
    version = history.order_by("history_id").first().history_id if hasattr(history, "model") else None
    urls = {}
    for pattern in model_admin.get_urls():
        if not isinstance(pattern, URLPattern) or not (pattern.pattern.converters or pattern.pattern.regex.groups):
            continue  # changelist and add: model pages, walked below
        name = (pattern.name or "redirect").removeprefix(f"{opts.app_label}_{opts.model_name}_")
        name = name.removeprefix("auth_user_")  # UserAdmin names its password page as auth's
        urls[name] = base + _fill(pattern, obj, version)
    urls["view_on_site"] = reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(obj).pk, obj.pk])
    return urls


def test_the_walk_covers_every_kind_of_admin_url(world):
    views = set(admin_urls(REGISTRY[User], world.shared))

    assert {"change", "history", "simple_history", "delete", "password_change", "redirect", "view_on_site"} <= views
    assert len(REGISTRY) >= 30


# --- The database, compared before and after --------------------------------------------------


def snapshot() -> dict[str, str]:
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        if model in NOT_COMPARED:
            continue
        fields = [f.attname for f in model._meta.concrete_fields]
        rows = model._default_manager.order_by("pk").values_list(*fields)
        tables[model._meta.label] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return tables


def changed(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]


# --- The walk --------------------------------------------------------------------------------


def form_data(client, url: str) -> dict:
    """What the superuser's form on this page holds (empty where there is no form)."""
    response = client.get(url)
    context = response.context or {}
    if response.status_code != 200 or "adminform" not in context:
        return {}
    return posted_values(context["adminform"].form)


def post_data(view: str, formed: dict) -> dict:
    if view == "password_change":
        return {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    if view == "delete":
        return {"post": "yes"}
    return formed


def read_only(response) -> bool:
    """A history page without its revert button, or a change page without its save."""
    context = response.context or {}
    if "revert_disabled" in context:
        return context["revert_disabled"]
    return context.get("has_change_permission") is False


@pytest.mark.parametrize("model", list(REGISTRY), ids=lambda m: m._meta.label)
def test_a_clinic_admin_reaches_no_row_past_her_clinic_through_any_admin_url(client, world, model):
    model_admin = REGISTRY[model]
    rows = targets(model_admin, world)
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    add = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    client.force_login(world.root)
    actions = [name for name in model_admin.get_actions(client.get(changelist).wsgi_request)]
    forms = {
        row.pk: {view: form_data(client, url) for view, url in admin_urls(model_admin, row).items()} for row in rows
    }
    add_data = forms[rows[0].pk].get("change", {})
    client.force_login(world.dana)
    before = snapshot()
    tried = []

    for row in rows:
        north_row = touches_north(model_admin, row, world)
        for view, url in admin_urls(model_admin, row).items():
            for method in ("get", "post"):
                data = post_data(view, forms[row.pk][view]) if method == "post" else {}
                response = getattr(client, method)(url, data)
                tried.append(f"{method.upper()} {url} -> {response.status_code}")
                allowed_here = north_row and view in {"change", "history", "simple_history", "redirect"}
                if response.status_code == 200 and allowed_here:
                    assert read_only(response), f"{method.upper()} {url} lets the North admin change {row!r}"
                else:
                    assert response.status_code in (302, 403, 404), tried[-1]
                assert all(secret not in response.content.decode() for secret in secrets_of(world.south)), tried[-1]
        for action in actions:
            posted = {"action": action, "_selected_action": [row.pk], "index": "0", "post": "yes"}
            response = client.post(changelist, posted)
            tried.append(f"action {action} on {row!r} -> {response.status_code}")
            assert response.status_code in (200, 302, 403), tried[-1]

    listed = client.get(changelist)
    added = client.post(add, add_data)
    after = snapshot()

    if listed.status_code == 200:
        shown = {row.pk for row in listed.context["cl"].result_list}
        assert not shown & {row.pk for row in rows if not touches_north(model_admin, row, world)}
    else:
        assert listed.status_code in (302, 403)
    assert added.status_code in (200, 302, 403, 404)
    if added.status_code == 200:
        assert added.context["adminform"].form.errors, "an add form given South's values was not refused"
    assert changed(before, after) == [], "\n".join(tried)


def test_every_admin_is_walked_with_a_row_out_of_reach(world):
    for model_admin in REGISTRY.values():
        assert isinstance(model_admin, ClinicScopedAdmin | SuperuserOnlyAdmin), type(model_admin).__name__
        assert targets(model_admin, world)


def test_the_snapshot_sees_a_change(world):
    before = snapshot()
    Clinic.objects.filter(pk=world.south.clinic.pk).update(name="Renamed")
    User.objects.filter(pk=world.shared.pk).update(is_superuser=True)

    assert changed(before, snapshot()) == ["accounts.Clinic", "accounts.User"]


def test_the_superuser_is_not_refused_the_same_pages(client, world):
    """The walk is not vacuous: the same URLs open for a superuser."""
    client.force_login(world.root)
    patient_admin = REGISTRY[world.south.patient.__class__]

    urls = admin_urls(patient_admin, world.south.patient)

    assert client.get(urls["change"]).status_code == 200
    assert client.get(urls["history"]).status_code == 200
    assert client.get(urls["simple_history"]).status_code == 200
    assert client.get(admin_urls(REGISTRY[User], world.shared)["password_change"]).status_code == 200
