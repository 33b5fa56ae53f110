"""What the definitions' agreement tests share (docs/testing.md#property-tests): hypothesis
settings, generated episodes written to the test database in bulk, and one query that
evaluates a definition's ORM and SQL forms for every episode written.

Each example writes its rows inside a savepoint it rolls back, so the next starts from the
same empty registry without deleting anything.
"""

import contextlib
import datetime

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from patients.models import Episode, Patient

AGREEMENT = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TODAY = datetime.date(2026, 6, 30)

# A score of the instrument, or none yet; the definitions' edges drawn more often than chance would.
PHQ9_EDGES = [0, 1, 4, 5, 6, 9, 10, 11, 19, 20, 21, 27]
phq9_scores = st.one_of(st.none(), st.sampled_from(PHQ9_EDGES), st.integers(0, 27))


@contextlib.contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def write_episodes(clinics: list, rows: list[dict]) -> list[Episode]:
    """One patient and one episode per row (fields of Episode, summary columns included), the
    i-th in clinics[i % len(clinics)]: two INSERTs, whatever the number of rows."""
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinics[i % len(clinics)],
            mrn=f"GEN{i:05d}",
            first_name="Generated",
            last_name=f"Patient {i}",
            birth_date=datetime.date(1980, 1, 1),
            sex="female",
        )
        for i in range(len(rows))
    )
    episodes = []
    for patient, row in zip(patients, rows, strict=True):
        fields = {"enrolled_on": TODAY - datetime.timedelta(days=100), "status": Episode.Status.ACTIVE, **row}
        episodes.append(Episode(patient=patient, status_changed_on=fields["enrolled_on"], **fields))
    return Episode.objects.bulk_create(episodes)


def adapt(value):
    """A value as a raw query's parameter (SQLite keeps dates as text)."""
    return connection.ops.adapt_datefield_value(value) if isinstance(value, datetime.date) else value


def both_forms(episodes, orm: Q, sql: str, sql_params: list = (), **columns) -> dict[int, tuple[bool, bool]]:
    """Episode id -> (the ORM form holds, the SQL form holds), in one query.

    The ORM form is a CASE over the episodes queryset; the SQL form is evaluated around it over
    `columns` (alias -> field name or expression, read as s.<alias>), as registry.outcomes writes its SQL.
    """
    scope = (
        episodes.order_by()
        .annotate(orm_holds=Case(When(orm, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .values("orm_holds", eid=F("pk"), **{alias: F(c) if isinstance(c, str) else c for alias, c in columns.items()})
    )
    scope_sql, scope_params = scope.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.eid, s.orm_holds, CASE WHEN {sql} THEN 1 ELSE 0 END FROM ({scope_sql}) s",
            [*[adapt(p) for p in sql_params], *scope_params],  # in the order they appear
        )
        return {eid: (bool(orm_holds), bool(sql_holds)) for eid, orm_holds, sql_holds in cursor.fetchall()}
