"""Dates as a clinic sees them, and the date input every form uses. Shared mechanics: imported by
every app, importing none (a clinic is anything with a ``timezone`` name)."""

import datetime
import zoneinfo
from typing import Protocol

from django import forms
from django.utils import timezone

# The browser's date picker; ISO format so the value round-trips whatever the locale.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class HasTimezone(Protocol):
    timezone: str


def clinic_today(clinic: HasTimezone, now: datetime.datetime | None = None) -> datetime.date:
    """Today at the clinic, not at the server: agendas and due dates turn over at its midnight."""
    return timezone.localtime(now or timezone.now(), timezone=zoneinfo.ZoneInfo(clinic.timezone)).date()
