"""How any model's row leads to its patient, found from the models' own foreign keys."""

from collections import deque
from functools import cache

from django.apps import apps
from django.db import models

from patients.models import Patient


@cache
def patient_path(model: type[models.Model]) -> str | None:
    """The shortest lookup path (e.g. "contact__episode__patient") from model to Patient.

    "" for Patient itself, None when the model belongs to no patient (an agenda, a clinic).
    Only forward foreign keys are followed, at most three deep, so every step names one row.
    """
    queue = deque([(model, "")])
    seen = {model}
    while queue:
        current, path = queue.popleft()
        if current is Patient:
            return path.removesuffix("__")
        if path.count("__") >= 3:
            continue
        for field in current._meta.concrete_fields:
            target = field.related_model if isinstance(field, models.ForeignKey) else None
            if target is None or target in seen or field.name.endswith("_by") or target._meta.app_label == "accounts":
                continue
            seen.add(target)
            queue.append((target, f"{path}{field.name}__"))
    return None


def patient_lookup(model: type[models.Model]) -> str | None:
    """The filter keyword that selects the rows (or history rows) of one patient by id."""
    path = patient_path(model)
    if path is None:
        return None
    return path or "id"  # not "pk": a history row's pk is its history_id


def clinical_history_models() -> list[type[models.Model]]:
    """Every model with a django-simple-history manager whose rows belong to a patient."""
    found = []
    for model in apps.get_models():
        history = getattr(model, "history", None)
        if history is None or not hasattr(history, "model"):
            continue
        if patient_path(model) is not None:
            found.append(model)
    return sorted(found, key=lambda m: (m._meta.app_label, m._meta.model_name))
