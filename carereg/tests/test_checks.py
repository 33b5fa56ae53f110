"""carereg/lib/checks.py evaluates check conditions in Python as the database does."""

import datetime
import itertools

import pytest
from django.db.models import CharField, DateField, F, IntegerField, Q, Value

from carereg.lib.checks import NotEvaluated, _names_in, holds

pytestmark = pytest.mark.django_db

KINDS = {"n": IntegerField(), "d1": DateField(), "d2": DateField(), "k": CharField(), "t": CharField()}
CONDITIONS = [
    Q(n__lte=600),
    Q(n__gt=0) & Q(n__lt=10),
    Q(n=None) | Q(n__gte=3),
    Q(d2__isnull=True) | Q(d2__gte=F("d1")),
    Q(d2__gt=F("d1")),
    Q(k__in=["a", "b"]),
    ~Q(k__in=["a"]),
    ~Q(t=""),
    ~(Q(t="x") & Q(n__lte=2)),
]
DAY = datetime.date(2026, 3, 1)
SAMPLES = {
    "n": [None, -1, 2, 600, 601],
    "d1": [None, DAY],
    "d2": [None, DAY - datetime.timedelta(days=1), DAY, DAY + datetime.timedelta(days=1)],
    "k": [None, "a", "c"],
    "t": [None, "", "x"],
}


def rows_for(condition: Q) -> list[dict]:
    """Every combination of the sample values of the fields the condition names."""
    names = sorted(_names_in(condition))
    return [dict(zip(names, row, strict=True)) for row in itertools.product(*(SAMPLES[name] for name in names))]


def database_says(condition: Q, row: dict) -> bool:
    """Django's own check: the condition in a query, NULL counting as passing, as in a CHECK."""
    return condition.check({name: Value(value, output_field=KINDS[name]) for name, value in row.items()})


@pytest.mark.parametrize("condition", CONDITIONS, ids=str)
def test_python_and_the_database_agree_on_every_row(condition):
    rows = rows_for(condition)
    disagreements = [row for row in rows if (holds(condition, row) is not False) != database_says(condition, row)]

    assert len(rows) >= 3
    assert disagreements == []


@pytest.mark.parametrize(
    "condition",
    [Q(t__startswith="x"), Q(d1__year=2026), Q(n__lte=F("n") + 1)],
    ids=["startswith", "transform", "expression"],
)
def test_what_python_does_not_evaluate_is_left_to_the_database(condition):
    with pytest.raises(NotEvaluated):
        holds(condition, {"n": 1, "d1": DAY, "t": "x"})
