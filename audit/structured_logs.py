"""Structured logs: one JSON object a line, each with the request's id; paths without query
strings or self-report tokens (docs/access-log.md#what-never-reaches-a-log).

The request id is a uuid4 made for each request, or the caller's X-Request-ID when that is
a valid UUID (a proxy's, so one id follows the request through both logs); it goes back in
the response's X-Request-ID header. Query strings may hold what someone typed (a name), so
every message is stripped of them before it is written: Django's django.server logger
writes the full request line, and other code may log a full URL. A self-report link's token
is its path (/r/<token>/): whoever reads it can answer as the patient, so it is masked too.
"""

import contextvars
import datetime
import json
import logging
import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver

HEADER = "X-Request-ID"
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# A "?" right after a URL or path character, and what follows it up to a space or quote.
QUERY_STRING = re.compile(r"(?<=[\w/.%\-])\?[^\s\"'<>]+")
# The path segment after /r/ (selfreport/urls.py), in a request line, a path or a full URL.
LINK_TOKEN = re.compile(r"(?<=/r/)[^/\s\"'<>?#]+")
MASK = "***"


def current_request_id() -> str:
    return _request_id.get()


def valid_request_id(value: str) -> str | None:
    try:
        return str(uuid.UUID(value)) if value and len(value) <= 36 else None
    except ValueError:
        return None


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = valid_request_id(request.headers.get(HEADER, "")) or str(uuid.uuid4())
        request.request_id = request_id
        # Kept until the response is closed, not just until this returns: Django logs a 4xx
        # or 5xx (django.request) after the middleware chain has answered.
        _request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished)
def _forget_request_id(**kwargs) -> None:
    _request_id.set("-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class _RewritingFilter(logging.Filter):
    """Rewrites the record's message and its traceback text with `clean`."""

    def clean(self, text: str) -> str:
        raise NotImplementedError

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        return True


class NoQueryStringFilter(_RewritingFilter):
    """Every message without query strings."""

    def clean(self, text: str) -> str:
        return QUERY_STRING.sub("", text)


class NoLinkTokenFilter(_RewritingFilter):
    """Every message with the self-report links' tokens masked: /r/***/."""

    def clean(self, text: str) -> str:
        return LINK_TOKEN.sub(MASK, text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _request_id.get()),
        }
        status = getattr(record, "status_code", None)
        if isinstance(status, int):
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)  # exc_text: as filtered
        return json.dumps(entry, ensure_ascii=False)
