"""Strict readers for environment variables.

A misconfigured deployment must fail at start with the variable's name in the message,
not later with a stack trace from deep inside a library.
"""

import os
from typing import Any, overload

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value is not None else None


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return value if value else default


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = _raw(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, default: str, conn_max_age: int = 60) -> dict[str, Any]:
    url = env_str(name, default)
    if not url.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ImproperlyConfigured(
            f"{name} must be a postgresql:// or sqlite:// URL, not one starting {url.split(':')[0]!r}."
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several kinds; all mean the same to an operator
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} does not name a database.")
    return dict(config)


def env_redis_url(name: str) -> str | None:
    url = env_str(name)
    if url is not None and not url.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(f"{name} must be a redis:// or rediss:// URL.")
    return url


def env_owner_credentials(name: str, app_database: dict) -> dict | None:
    """USER and PASSWORD of the role migrations run as, from a URL naming the same PostgreSQL
    database as the app's; None when the variable is unset (one role does everything)."""
    if env_str(name) is None:
        return None
    owner = env_database(name, "")
    if not owner["ENGINE"].endswith("postgresql") or not app_database["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured(f"{name} is for PostgreSQL: it and DATABASE_URL must be postgresql:// URLs.")
    if any(owner.get(key) != app_database.get(key) for key in ("NAME", "HOST", "PORT")):
        raise ImproperlyConfigured(
            f"{name} must name the same database as DATABASE_URL (host, port and name), as another role."
        )
    return {"USER": owner["USER"], "PASSWORD": owner["PASSWORD"]}


def env_broker_url(name: str) -> str | None:
    """A Celery broker: Redis, or the embedded default's SQLite file named explicitly."""
    url = env_str(name)
    if url is not None and not url.startswith(("redis://", "rediss://", "sqla+sqlite:///")):
        raise ImproperlyConfigured(f"{name} must be a redis://, rediss:// or sqla+sqlite:/// URL.")
    return url
