"""Tests that need PostgreSQL itself (pg_terminate_backend, pg_dump, row locks between threads)
are marked `postgresql` and collected only when the suite runs on PostgreSQL: on SQLite they are
deselected (listed as "deselected", never skipped) by the root conftest.py. CI runs the suite on
both databases."""

import pytest


@pytest.fixture
def postgresql_params():
    """psycopg.connect() arguments for the test database, for a second, raw connection."""
    from django.db import connection

    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    return {key: value for key, value in {**params, "password": db["PASSWORD"]}.items() if value}
