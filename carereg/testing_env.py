"""Loaded by pytest (-p, see pytest.ini) before Django reads its settings.

Tests run the production code paths (DEBUG off) over plain HTTP, with a fixed secret key.
The database comes from DATABASE_URL as everywhere else: PostgreSQL in CI, SQLite otherwise.
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("CAREREG_HTTPS", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
# Threads of the tests (live server, Celery worker) must not keep connections that would stop
# the test database from being dropped.
os.environ.setdefault("DB_CONN_MAX_AGE", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from that
# thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
