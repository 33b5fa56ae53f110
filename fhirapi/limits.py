"""What the interface accepts before it does any work: the size and depth of a body, and how
many requests a client and an address may make a minute (docs/fhir.md#limits).

Each refusal is a FhirError, so it is answered with an OperationOutcome and logged like any
other call. The rate counters live in Django's cache, which settings.CACHES makes a store
every web process shares (Redis in production), so the limit holds across processes.
"""

import json
import math
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from fhirapi.responses import FhirError, Issue

WINDOW_SECONDS = 60
# A JSON string (escapes included), and the brackets outside strings.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def checked_body(request: HttpRequest) -> bytes:
    """The request's body, refused (413) when over the cap: Content-Length is looked at first,
    so an oversized body is never read into memory."""
    limit = settings.CAREREG_FHIR_MAX_BODY_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        raise FhirError(400, [Issue("Content-Length is not a number.", "structure")]) from None
    if declared > limit:
        raise _too_large(limit)
    try:
        body = request.body
    except RequestDataTooBig:
        raise _too_large(limit) from None
    if len(body) > limit:
        raise _too_large(limit)
    return body


def _too_large(limit: int) -> FhirError:
    return FhirError(413, [Issue(f"The body is larger than {limit:,} bytes.", "too-costly")])


def parse_json(body: bytes):
    """JSON within the depth cap, checked before parsing, so that no parser recursion is ever
    deep enough to fail; 400 for anything that is not JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FhirError(400, [Issue("The body is not UTF-8 text.", "structure")]) from None
    limit = settings.CAREREG_FHIR_MAX_JSON_DEPTH
    if json_depth(text) > limit:
        raise FhirError(400, [Issue(f"The JSON is nested more than {limit} levels deep.", "too-costly")])
    try:
        return json.loads(text)
    except ValueError:
        raise FhirError(400, [Issue("The body is not valid JSON.", "structure")]) from None


def json_depth(text: str) -> int:
    """How deep arrays and objects nest, counting brackets outside strings (linear time, no
    recursion). Not a validator: text that is not JSON is refused by the parser afterwards."""
    deepest = depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        if bracket.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_rate(kind: str, key: str, limit: int) -> None:
    """Count one request for `key` in this minute's window; 429 with Retry-After beyond `limit`.

    A fixed window: the counter's name holds the minute, so it starts again at zero each minute
    and expires by itself. On Redis `incr` is atomic; on the file cache of a one-host set-up
    two processes at the same instant can lose a count, which only makes the limit a little
    more generous."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    name = f"fhir-rate:{kind}:{key}:{window}"
    cache.add(name, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr: this request starts the window
        cache.set(name, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        issue = Issue(f"More than {limit} requests a minute from this {kind}: try again later.", "throttled")
        raise FhirError(429, [issue], {"Retry-After": str(retry_after)})
