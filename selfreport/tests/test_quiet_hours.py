"""Quiet hours, as pure code: when a text due at a moment may go (docs/sms.md#quiet-hours)."""

import datetime
import zoneinfo

import pytest

from selfreport.quiet_hours import quiet_until

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
NIGHT = {"start": datetime.time(20, 0), "end": datetime.time(8, 0), "zone": LA}


def at(day: str, time: str, zone=LA) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("moment", "until"),
    [
        (at("2026-06-10", "19:59"), None),
        (at("2026-06-10", "20:00"), at("2026-06-11", "08:00")),  # the start is quiet
        (at("2026-06-10", "23:30"), at("2026-06-11", "08:00")),
        (at("2026-06-11", "00:10"), at("2026-06-11", "08:00")),  # after midnight: the same night
        (at("2026-06-11", "07:59"), at("2026-06-11", "08:00")),
        (at("2026-06-11", "08:00"), None),  # the end is not
        (at("2026-06-11", "12:00"), None),
    ],
)
def test_overnight_quiet_hours(moment, until):
    assert quiet_until(moment, **NIGHT) == until


def test_the_clinics_own_time_counts_not_the_servers():
    utc_evening = datetime.datetime(2026, 6, 10, 22, 0, tzinfo=datetime.UTC)  # 15:00 in Los Angeles

    assert quiet_until(utc_evening, **NIGHT) is None
    assert quiet_until(utc_evening, **{**NIGHT, "zone": zoneinfo.ZoneInfo("Europe/Madrid")}) is not None


def test_quiet_hours_within_a_day():
    lunch = {"start": datetime.time(12, 0), "end": datetime.time(13, 30), "zone": LA}

    assert quiet_until(at("2026-06-10", "12:45"), **lunch) == at("2026-06-10", "13:30")
    assert quiet_until(at("2026-06-10", "11:59"), **lunch) is None
    assert quiet_until(at("2026-06-10", "20:00"), **lunch) is None


def test_the_same_start_and_end_means_no_quiet_hours():
    none = {"start": datetime.time(0, 0), "end": datetime.time(0, 0), "zone": LA}

    assert quiet_until(at("2026-06-10", "03:00"), **none) is None


def test_the_end_is_the_clinics_clock_across_a_daylight_saving_change():
    before_spring_forward = at("2026-03-07", "21:00")  # PST; clocks go forward that night

    until = quiet_until(before_spring_forward, **NIGHT)

    assert until.astimezone(LA).time() == datetime.time(8, 0)
    assert until.astimezone(datetime.UTC) == datetime.datetime(2026, 3, 8, 15, 0, tzinfo=datetime.UTC)  # PDT
    elapsed = until.astimezone(datetime.UTC) - before_spring_forward.astimezone(datetime.UTC)
    assert elapsed == datetime.timedelta(hours=10)  # one hour fewer than on other nights
