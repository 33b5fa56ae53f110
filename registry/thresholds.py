"""Thresholds of the registry's rules as SQL expressions, per clinic (RegistrySettings)."""

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from registry.models import RegistrySettings

DEFAULTS = {
    field.name: field.default
    for field in RegistrySettings._meta.concrete_fields
    if isinstance(field, models.PositiveSmallIntegerField)
}


def threshold(name: str, clinic_path: str = "patient__clinic"):
    """A threshold as a SQL expression joined from the row's clinic, defaulting when unset."""
    return Coalesce(F(f"{clinic_path}__registry_settings__{name}"), Value(DEFAULTS[name]))
