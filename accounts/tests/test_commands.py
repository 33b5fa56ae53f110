"""Provisioning commands that admins' scripts run, often more than once."""

import os
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Clinic, Role, User
from tests.factories import ClinicFactory

pytestmark = pytest.mark.django_db

STRONG = "tundra-violet-harbor-42"


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch):
    """The command prompts for a password on a terminal; a test must never wait on one."""
    monkeypatch.delenv("CAREREG_PASSWORD", raising=False)
    monkeypatch.setattr(os, "isatty", lambda fd: False)


@pytest.fixture
def north(db):
    return ClinicFactory(code="north", name="North Clinic")


def create_staff(*args, **options) -> str:
    out = StringIO()
    call_command("create_staff", *args, stdout=out, **options)
    return out.getvalue()


# --- create_clinic ------------------------------------------------------------------------


def test_create_clinic_creates_it(capsys):
    call_command("create_clinic", "east", name="Eastside Health", timezone="America/Chicago")

    clinic = Clinic.objects.get(code="east")
    assert (clinic.name, clinic.timezone) == ("Eastside Health", "America/Chicago")
    assert "Created clinic east" in capsys.readouterr().out


def test_create_clinic_run_again_updates_without_a_duplicate(capsys):
    call_command("create_clinic", "east", name="Eastside Health", timezone="America/Chicago")

    call_command("create_clinic", "east", name="Eastside Community Health")

    clinic = Clinic.objects.get(code="east")
    assert Clinic.objects.count() == 1
    assert clinic.name == "Eastside Community Health"
    assert clinic.timezone == "America/Chicago"  # not given the second time: kept
    assert "Updated clinic east" in capsys.readouterr().out


def test_create_clinic_refuses_an_unknown_time_zone():
    with pytest.raises(CommandError, match="time zone"):
        call_command("create_clinic", "east", name="Eastside Health", timezone="Mars/Olympus")

    assert not Clinic.objects.exists()


# --- create_staff -------------------------------------------------------------------------


def test_create_staff_creates_a_care_manager_with_the_password_from_the_environment(north, monkeypatch):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)

    out = create_staff(
        "maria", "--role=care_manager", "--clinic=north", "--fte=0.8", "--first-name=Maria", "--last-name=Lopez"
    )

    user = User.objects.get(username="maria")
    assert user.check_password(STRONG)
    assert user.role == Role.CARE_MANAGER
    assert str(user.fte) == "0.80"
    assert (user.first_name, user.last_name) == ("Maria", "Lopez")
    assert list(user.clinics.all()) == [north]
    assert not user.is_superuser
    assert "Created maria" in out


def test_create_staff_gives_a_care_manager_full_time_by_default(north, monkeypatch):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)

    create_staff("maria", role=Role.CARE_MANAGER, clinic="north")

    assert str(User.objects.get(username="maria").fte) == "1.00"


def test_create_staff_run_again_keeps_one_account_and_its_password(north, monkeypatch):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)
    create_staff("drchen", role=Role.PSYCHIATRIC_CONSULTANT, clinic="north")
    monkeypatch.delenv("CAREREG_PASSWORD")

    out = create_staff("drchen", role=Role.PSYCHIATRIC_CONSULTANT, clinic="north")

    user = User.objects.get(username="drchen")
    assert User.objects.filter(username="drchen").count() == 1
    assert user.clinics.count() == 1
    assert user.check_password(STRONG)
    assert "Updated drchen" in out


def test_create_staff_run_again_with_a_password_sets_it(north, monkeypatch):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)
    create_staff("drchen", role=Role.PSYCHIATRIC_CONSULTANT, clinic="north")
    monkeypatch.setenv("CAREREG_PASSWORD", "granite-lantern-meadow-7")

    create_staff("drchen", role=Role.PSYCHIATRIC_CONSULTANT, clinic="north")

    assert User.objects.get(username="drchen").check_password("granite-lantern-meadow-7")


def test_create_staff_run_again_adds_a_second_clinic(north, monkeypatch):
    east = ClinicFactory(code="east")
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)
    create_staff("drchen", role=Role.PSYCHIATRIC_CONSULTANT, clinic="north")

    create_staff("drchen", role=Role.PSYCHIATRIC_CONSULTANT, clinic="east")

    assert set(User.objects.get(username="drchen").clinics.all()) == {north, east}


def test_create_staff_refuses_a_new_account_without_a_password(north):
    with pytest.raises(CommandError, match="needs a password"):
        create_staff("maria", role=Role.CARE_MANAGER, clinic="north")

    assert not User.objects.filter(username="maria").exists()


def test_create_staff_refuses_an_unknown_clinic(north, monkeypatch):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)

    with pytest.raises(CommandError, match="No clinic with code 'south'"):
        create_staff("maria", role=Role.CARE_MANAGER, clinic="south")

    assert not User.objects.filter(username="maria").exists()


@pytest.mark.parametrize("role", [Role.PSYCHIATRIC_CONSULTANT, Role.MEDICAL_PROVIDER, Role.CLINIC_ADMIN])
def test_create_staff_refuses_fte_for_anyone_but_a_care_manager(north, monkeypatch, role):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)

    with pytest.raises(CommandError, match="Only care managers have an FTE"):
        create_staff("drwells", f"--role={role}", "--clinic=north", "--fte=0.5")

    assert not User.objects.filter(username="drwells").exists()


@pytest.mark.parametrize("fte", ["0", "-0.5", "1.6", "2"])
def test_create_staff_refuses_an_fte_out_of_range(north, monkeypatch, fte):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)

    with pytest.raises(CommandError, match=r"FTE must be more than 0 and at most 1\.5"):
        create_staff("maria", "--role=care_manager", "--clinic=north", f"--fte={fte}")

    assert not User.objects.filter(username="maria").exists()


@pytest.mark.parametrize("fte", ["0.01", "1.5"])
def test_create_staff_accepts_an_fte_at_the_ends_of_the_range(north, monkeypatch, fte):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)

    create_staff("maria", "--role=care_manager", "--clinic=north", f"--fte={fte}")

    assert User.objects.get(username="maria").fte == Decimal(fte)


def test_create_staff_refuses_an_fte_that_is_not_a_number(north, monkeypatch):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)

    with pytest.raises(CommandError, match="--fte must be a number"):
        create_staff("maria", "--role", Role.CARE_MANAGER, "--clinic", "north", "--fte", "half")

    assert not User.objects.filter(username="maria").exists()


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("qwerty123456", "too common"),  # long enough, but on the common-password list
        ("short-pw1", "too short"),
        ("123456789012345", "entirely numeric"),
    ],
)
def test_create_staff_refuses_a_weak_password(north, monkeypatch, password, says):
    monkeypatch.setenv("CAREREG_PASSWORD", password)

    with pytest.raises(CommandError, match=says):
        create_staff("maria", role=Role.CARE_MANAGER, clinic="north")

    assert not User.objects.filter(username="maria").exists()


def test_create_staff_refuses_a_weak_new_password_for_an_existing_account(north, monkeypatch):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)
    create_staff("maria", role=Role.CARE_MANAGER, clinic="north")
    monkeypatch.setenv("CAREREG_PASSWORD", "qwerty123456")

    with pytest.raises(CommandError, match="too common"):
        create_staff("maria", role=Role.CARE_MANAGER, clinic="north")

    assert User.objects.get(username="maria").check_password(STRONG)


def test_create_staff_refuses_an_unknown_role(north, monkeypatch):
    monkeypatch.setenv("CAREREG_PASSWORD", STRONG)

    with pytest.raises(CommandError, match="invalid choice"):
        create_staff("maria", "--role", "nurse", "--clinic", "north")
