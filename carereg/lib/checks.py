"""A model's check constraints evaluated in Python, for a form that validates them on every save.

Django validates each CheckConstraint of a model form's instance with a query of its own
(`SELECT 1 WHERE <condition>`, in a savepoint inside a transaction). The conditions of
CareReg's constraints are plain comparisons of the row's fields, which Python evaluates with
the database's meaning (SQL's three-valued logic: a comparison with NULL is unknown, and a
CHECK passes unless its condition is false). A condition this module does not know is asked of
the database as before. carereg/tests/test_checks.py compares the two on many rows.
"""

import operator
from collections.abc import Callable, Collection, Iterable

from django.core.exceptions import ValidationError
from django.db import models, router
from django.db.models import F, Q

COMPARISONS: dict[str, Callable] = {
    "exact": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


class NotEvaluated(Exception):
    """The condition uses a lookup or an expression left to the database."""


def validate_constraints(instance: models.Model, exclude: Iterable[str] | None = None) -> None:
    """Model.validate_constraints(), with the check constraints this module can evaluate
    evaluated in Python; the same errors, keyed the same way."""
    exclude = set(exclude or ())
    errors: dict = {}
    for model_class, constraints in instance.get_constraints():
        for constraint in constraints:
            try:
                _validate(constraint, model_class, instance, exclude)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


class ChecksInPython(models.Model):
    """For a model saved through forms many times a day: its check constraints validated by
    validate_constraints() above wherever Django validates them (its model forms, the admin,
    full_clean), not by a query each."""

    class Meta:
        abstract = True

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        validate_constraints(self, exclude)


def _validate(constraint, model_class, instance: models.Model, exclude: set[str]) -> None:
    if isinstance(constraint, models.CheckConstraint) and isinstance(constraint.condition, Q):
        try:
            values = _field_values(instance, constraint.condition, exclude)
            passes = holds(constraint.condition, values) is not False
        except NotEvaluated:
            pass
        else:
            if not passes:
                raise ValidationError(constraint.get_violation_error_message(), code=constraint.violation_error_code)
            return
    constraint.validate(
        model_class, instance, exclude=exclude, using=router.db_for_write(model_class, instance=instance)
    )


def _field_values(instance: models.Model, condition: Q, exclude: set[str]) -> dict:
    names = _names_in(condition)
    if names & exclude:
        raise NotEvaluated  # as Django skips a constraint on a field left out of the check
    fields = {field.name: field for field in instance._meta.concrete_fields}
    if not names <= fields.keys():
        raise NotEvaluated
    return {name: getattr(instance, fields[name].attname) for name in names}


def _names_in(condition) -> set[str]:
    names: set[str] = set()
    for child in condition.children:
        if isinstance(child, Q):
            names |= _names_in(child)
        elif isinstance(child, tuple) and len(child) == 2 and isinstance(child[0], str):
            lookup, value = child
            names.add(lookup.split("__")[0])
            if isinstance(value, F):
                names.add(value.name)
    return names


def holds(condition: Q, values: dict) -> bool | None:
    """The condition's truth for a row with these field values: True, False, or None (unknown)."""
    results = [
        holds(child, values) if isinstance(child, Q) else _compare(child, values) for child in condition.children
    ]
    if condition.connector == Q.AND:
        result = False if False in results else (None if None in results else True)
    else:
        result = True if True in results else (None if None in results else False)
    if condition.negated and result is not None:
        return not result
    return result


def _compare(child, values: dict) -> bool | None:
    if not (isinstance(child, tuple) and len(child) == 2 and isinstance(child[0], str)):
        raise NotEvaluated  # an expression as a condition
    lookup, value = child
    name, _, kind = lookup.partition("__")
    kind = kind or "exact"
    if "__" in kind or name not in values:
        raise NotEvaluated
    if kind == "isnull" or (kind == "exact" and value is None):  # Django reads `=None` as IS NULL
        return (values[name] is None) == (bool(value) if kind == "isnull" else True)
    if hasattr(value, "resolve_expression") and not (isinstance(value, F) and kind in COMPARISONS):
        raise NotEvaluated
    left = values[name]
    right = values[value.name] if isinstance(value, F) else value
    if left is None:
        return None
    if kind == "in":
        choices = list(right)
        return True if left in choices else (None if None in choices else False)
    if kind not in COMPARISONS:
        raise NotEvaluated
    if right is None:
        return None
    try:
        return COMPARISONS[kind](left, right)
    except TypeError:  # values Python cannot compare (a date and a datetime): the database decides
        raise NotEvaluated from None
