"""The application cannot change or delete the access log: the database refuses (both vendors)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit.models import AccessEvent, Kind, Outcome
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(care_manager):
    return AccessEvent.objects.create(
        user=care_manager,
        username=care_manager.username,
        method="GET",
        url_name="registry:dashboard",
        kind=Kind.LIST,
        outcome=Outcome.ALLOWED,
        status_code=200,
    )


def refused(action) -> bool:
    try:
        with transaction.atomic():
            action()
    except DatabaseError as error:
        assert "append-only" in str(error)
        return True
    return False


def test_an_event_cannot_be_changed_through_the_orm(event):
    event.outcome = Outcome.DENIED

    assert refused(event.save)
    assert refused(lambda: AccessEvent.objects.filter(pk=event.pk).update(username="someone-else"))
    assert AccessEvent.objects.get(pk=event.pk).outcome == Outcome.ALLOWED


def test_an_event_cannot_be_deleted_through_the_orm(event):
    assert refused(event.delete)
    assert refused(AccessEvent.objects.all().delete)
    assert AccessEvent.objects.filter(pk=event.pk).exists()


def test_an_event_cannot_be_changed_or_deleted_in_raw_sql(event):
    table = AccessEvent._meta.db_table

    def raw(sql):
        return lambda: connection.cursor().execute(sql, [event.pk])

    assert refused(raw(f"UPDATE {table} SET username = 'x' WHERE id = %s"))
    assert refused(raw(f"DELETE FROM {table} WHERE id = %s"))
    assert AccessEvent.objects.get(pk=event.pk).username == "cm"


@pytest.mark.postgresql  # TRUNCATE is PostgreSQL's: deselected on SQLite
def test_the_log_cannot_be_truncated(event):
    connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred FK check

    assert refused(lambda: connection.cursor().execute(f"TRUNCATE {AccessEvent._meta.db_table}"))


def test_new_events_can_still_be_added(event, care_manager):
    AccessEvent.objects.create(
        user=care_manager, method="GET", url_name="x", kind=Kind.LIST, outcome=Outcome.ALLOWED, status_code=200
    )

    assert AccessEvent.objects.count() == 2


def test_the_admin_shows_the_log_but_cannot_add_change_or_delete(client, event):
    root = UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True)
    client.force_login(root)

    listed = client.get(reverse("admin:audit_accessevent_changelist"))
    shown = client.get(reverse("admin:audit_accessevent_change", args=[event.pk]))
    added = client.get(reverse("admin:audit_accessevent_add"))
    changed = client.post(reverse("admin:audit_accessevent_change", args=[event.pk]), {"username": "x"})
    deleted = client.post(reverse("admin:audit_accessevent_delete", args=[event.pk]), {"post": "yes"})

    assert (listed.status_code, shown.status_code) == (200, 200)
    assert (added.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    assert "delete_selected" not in listed.context["cl"].model_admin.get_actions(listed.wsgi_request)
    assert AccessEvent.objects.get(pk=event.pk).username == "cm"


def test_a_clinic_admin_sees_in_the_admin_only_events_of_their_clinics(client, clinic, other_clinic, patient):
    from django.contrib.auth.models import Permission

    from accounts.models import Role

    north = AccessEvent.objects.create(
        method="GET",
        url_name="patients:detail",
        kind=Kind.RECORD,
        outcome="allowed",
        status_code=200,
        patient=patient,
        clinic=clinic,
    )
    south = AccessEvent.objects.create(
        method="GET",
        url_name="patients:detail",
        kind=Kind.RECORD,
        outcome="allowed",
        status_code=200,
        clinic=other_clinic,
    )
    admin = UserFactory(username="south-staff", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[other_clinic])
    admin.user_permissions.add(Permission.objects.get(codename="view_accessevent"))
    client.force_login(admin)

    listed = client.get(reverse("admin:audit_accessevent_changelist"))

    shown = {row.pk for row in listed.context["cl"].result_list}
    assert south.pk in shown and north.pk not in shown


@pytest.mark.django_db(transaction=True)
def test_a_test_databases_flush_still_empties_the_log_and_keeps_the_guard():
    """Tests that commit (live server, Celery worker) end with a flush of every table."""
    from django.core.management import call_command

    AccessEvent.objects.create(method="GET", url_name="x", kind=Kind.LIST, outcome="allowed", status_code=200)

    call_command("flush", interactive=False, verbosity=0)

    assert not AccessEvent.objects.exists()
    AccessEvent.objects.create(method="GET", url_name="x", kind=Kind.LIST, outcome="allowed", status_code=200)
    assert refused(AccessEvent.objects.all().delete)


def test_flush_lifts_the_guard_on_test_databases_only():
    from audit.management.commands.flush import _is_test_database

    class Production:
        settings_dict = {"NAME": "carereg", "TEST": {"NAME": None}}

    class Testing:
        settings_dict = {"NAME": "test_carereg", "TEST": {"NAME": None}}

    assert not _is_test_database(Production())
    assert _is_test_database(Testing())
