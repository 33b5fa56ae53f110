"""Every URL pattern of the project, generated from the URLconf, with sample arguments to reverse it.

For tests that must cover every page, including pages added later (cache headers, CSV files).
"""

import datetime
import uuid
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter, UUIDConverter

from registry.billing_views import MonthConverter

ADMIN_APP_LABEL = "patients"  # the admin's one regular-expression argument is an app's label


def named_patterns(resolver: URLResolver | None = None, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    """(namespaced name, pattern) for every named URL, the admin site's included."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def sample_url(name: str, pattern: URLPattern, *, number: int, text: str = "PHQ9") -> str:
    """The URL with every argument filled: ids (the admin's object ids too) with `number`, months
    with this month, other text with `text`. A regular expression's unnamed groups are ids."""
    converters, regex = pattern.pattern.converters, pattern.pattern.regex
    if not converters and regex.groups > len(regex.groupindex):
        return reverse(name, args=[number] * regex.groups)
    arguments = converters or dict.fromkeys(regex.groupindex)
    return reverse(name, kwargs={key: _sample(converters.get(key), number, text) for key in arguments})


def _sample(converter, number: int, text: str):
    if isinstance(converter, IntConverter | PathConverter):
        return number
    if isinstance(converter, MonthConverter):
        return datetime.date.today().replace(day=1)
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    return text if converter is not None else ADMIN_APP_LABEL
