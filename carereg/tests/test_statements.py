"""A statement the ORM wrote is kept by key and sent again as written, with fresh rows each time."""

import pytest
from django.contrib.auth.models import Group
from django.db.models import Count

from carereg.lib.statements import KeptStatements

pytestmark = pytest.mark.django_db


def count_groups(calls: list) -> dict:
    calls.append(1)
    return Group.objects.aggregate(groups=Count("pk"))


def test_the_first_run_goes_through_the_orm_and_later_ones_send_its_statement():
    kept, calls = KeptStatements(), []

    first, none = kept.first_row("clinics", "default", lambda: count_groups(calls))
    Group.objects.create(name="another")
    skipped, row = kept.first_row("clinics", "default", lambda: count_groups(calls))

    assert (none, skipped, len(calls)) == (None, None, 1)
    assert row == {"groups": first["groups"] + 1}  # the statement is kept, never the rows


def test_a_run_of_several_statements_is_not_kept():
    kept, calls = KeptStatements(), []

    def twice() -> dict:
        count_groups(calls)
        return count_groups(calls)

    kept.first_row("twice", "default", twice)
    result, row = kept.first_row("twice", "default", twice)

    assert row is None and result == {"groups": 0} and len(calls) == 4


def test_only_the_most_recently_used_statements_are_kept():
    kept, calls = KeptStatements(size=2), []
    for key in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" comes
        kept.first_row(key, "default", lambda: count_groups(calls))
    assert len(calls) == 3

    kept.first_row("a", "default", lambda: count_groups(calls))
    kept.first_row("b", "default", lambda: count_groups(calls))
    assert len(calls) == 4
