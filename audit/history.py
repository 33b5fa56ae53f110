"""Every version of every clinical row of one patient, with what changed and who changed it."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import models

from audit.paths import clinical_history_models, patient_lookup
from patients.models import Patient


@dataclass
class Change:
    field: str
    old: object
    new: object


@dataclass(frozen=True)
class PersonRef:
    """A user id in a changed field, named once every version is read (one query for all)."""

    pk: int


@dataclass
class Version:
    model: str
    object_id: int
    label: str
    at: object
    by: object
    kind: str  # created, changed, deleted
    reason: str
    changes: list[Change] = field(default_factory=list)


KINDS = {"+": "created", "~": "changed", "-": "deleted"}


def patient_history(patient: Patient) -> list[Version]:
    """Newest first; one query per clinical model (a few dozen), however long the history."""
    versions: list[Version] = []
    for model in clinical_history_models():
        rows = model.history.filter(**{patient_lookup(model): patient.pk}).select_related("history_user")
        versions.extend(_versions_of(model, list(rows.order_by("id", "history_date", "history_id"))))
    versions.sort(key=lambda v: v.at, reverse=True)
    _name_people(versions)
    return versions


def _versions_of(model: type[models.Model], rows: list) -> list[Version]:
    found, previous = [], None
    for row in rows:
        earlier = previous if previous is not None and previous.id == row.id else None
        changes = []
        if earlier is not None:
            changes = _diff(model, earlier, row)
        found.append(
            Version(
                model=model._meta.verbose_name.capitalize(),
                object_id=row.id,
                label=f"{model._meta.verbose_name.capitalize()} #{row.id}",
                at=row.history_date,
                by=row.history_user,
                kind=KINDS.get(row.history_type, row.history_type),
                reason=row.history_change_reason or "",
                changes=changes,
            )
        )
        previous = row
    return found


def _diff(model, old, new) -> list[Change]:
    """Every tracked field that differs. Not simple-history's diff_against: it compares editable
    fields only, and the entered-in-error and resolution fields the services set are not."""
    return [
        Change(_label(model, f.name), _shown(f, getattr(old, f.attname)), _shown(f, getattr(new, f.attname)))
        for f in new.tracked_fields
        if getattr(old, f.attname) != getattr(new, f.attname)
    ]


def _shown(field: models.Field, value):
    """As a reader knows it: a choice's label, a person's name (filled in later), a row's "Episode #12"."""
    if value is None:
        return None
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.is_relation:
        if field.related_model is get_user_model():
            return PersonRef(value)
        return f"{field.related_model._meta.verbose_name.capitalize()} #{value}"
    return value


def _name_people(versions: list[Version]) -> None:
    refs = {value.pk for v in versions for c in v.changes for value in (c.old, c.new) if isinstance(value, PersonRef)}
    if not refs:
        return
    names = {user.pk: str(user) for user in get_user_model().objects.filter(pk__in=refs)}
    for version in versions:
        for change in version.changes:
            change.old, change.new = (
                names.get(value.pk, f"user #{value.pk}") if isinstance(value, PersonRef) else value
                for value in (change.old, change.new)
            )


def _label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name).capitalize()
    except Exception:
        return name
