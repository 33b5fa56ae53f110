"""FHIR R4 search as clients send it (docs/fhir.md#search): parameters read against a resource's
declared ones, lenient or strict handling, `_count` pages over a stable order, `_sort`,
`_summary=count`, and date prefixes (http://hl7.org/fhir/R4/search.html).

Lenient handling is the default: a parameter we do not know or support is ignored, and the
Bundle's `self` link lists only what was applied, so a client can see what was left out.
With `Prefer: handling=strict` each such parameter is a 400 naming it. A value we cannot use
(a malformed date, `_count=ten`) is a 400 either way: it cannot be ignored without guessing.
Values are never echoed in errors: an identifier searched for may be an MRN.
"""

import datetime
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from fhirapi.responses import FhirError, Issue

# Parameters of every interaction, never filters: accepted and left out of the self link.
FORMAT_PARAMETERS = {"_format", "_pretty"}
RESULT_PARAMETERS = {"_count", "_offset", "_sort", "_summary"}
DATE_PREFIXES = ("eq", "ge", "le", "gt", "lt")
UNSUPPORTED_DATE_PREFIXES = ("ne", "sa", "eb", "ap")
DATE_VALUE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # FHIR search parameter type: token, reference, date, uri
    documentation: str
    repeatable: bool = False  # several are ANDed (date ranges); others must come once


@dataclass(frozen=True)
class SearchSpec:
    """A resource type's search: its parameters, and the `_sort` keys with the fields they order
    by (the primary key is added last, so that pages never overlap or skip a row)."""

    resource_type: str
    parameters: tuple[Parameter, ...]
    sorts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default_order: tuple[str, ...] = ("pk",)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


@dataclass
class Query:
    """A search as it will be applied: the filters' values, paging, order and summary."""

    values: dict[str, list[str]]
    count: int
    offset: int = 0
    order: tuple[str, ...] = ()
    sort: list[str] = field(default_factory=list)
    summary_count: bool = False

    def get(self, name: str) -> str | None:
        return self.values[name][0] if name in self.values else None


def prefers(request: HttpRequest, token: str) -> bool:
    """Whether the Prefer header (RFC 7240) holds the preference, e.g. handling=strict."""
    preferences = {part.strip().lower() for part in request.headers.get("Prefer", "").replace(";", ",").split(",")}
    return token in preferences


def read_query(request: HttpRequest, query: QueryDict, spec: SearchSpec) -> Query:
    strict = prefers(request, "handling=strict")
    issues = []
    known = {p.name for p in spec.parameters} | RESULT_PARAMETERS | FORMAT_PARAMETERS
    unknown = [name for name in query if name not in known]
    if strict:
        issues += [_unsupported(name, spec) for name in unknown]
    values = {name: query.getlist(name) for name in query if spec.parameter(name) is not None}
    values = {name: found for name, found in values.items() if any(v != "" for v in found)}
    issues += [
        Issue(f"Give search parameter {name!r} once.", "invalid")
        for name, found in values.items()
        if len(found) > 1 and not spec.parameter(name).repeatable
    ]
    search = Query(values=values, count=_count(query, issues))
    search.offset = _whole_number(query, "_offset", 0, issues)
    search.summary_count = _summary_count(query, strict, issues) or search.count == 0
    search.sort, search.order = _sort(query, spec, strict, issues)
    if issues:
        raise FhirError(400, issues)
    return search


def _unsupported(name: str, spec: SearchSpec) -> Issue:
    supported = ", ".join(sorted(p.name for p in spec.parameters))
    return Issue(
        f"Search parameter {name!r} is not supported on {spec.resource_type} (supported: {supported}, "
        "_count, _sort, _summary). Without Prefer: handling=strict it is ignored.",
        "not-supported",
    )


def _whole_number(query: QueryDict, name: str, default: int, issues: list[Issue]) -> int:
    value = query.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit():
        issues.append(Issue(f"{name} is a whole number of 0 or more.", "invalid"))
        return default
    return int(value)


def _count(query: QueryDict, issues: list[Issue]) -> int:
    """The page size: the server's default without _count, and never more than its maximum
    (a larger _count is lowered, as R4 allows; the self link shows the size used)."""
    wanted = _whole_number(query, "_count", settings.CAREREG_FHIR_PAGE_SIZE, issues)
    return min(wanted, settings.CAREREG_FHIR_MAX_COUNT)


def _summary_count(query: QueryDict, strict: bool, issues: list[Issue]) -> bool:
    value = query.get("_summary")
    if value in (None, "", "false"):
        return False
    if value == "count":
        return True
    if strict:
        issues.append(Issue("Only _summary=count (or false) is supported.", "not-supported"))
    return False


def _sort(query: QueryDict, spec: SearchSpec, strict: bool, issues: list[Issue]) -> tuple[list[str], tuple]:
    applied, order = [], []
    for key in ",".join(query.getlist("_sort")).split(","):
        name = key.strip().removeprefix("-")
        if not name:
            continue
        if name not in spec.sorts:
            if strict:
                keys = ", ".join(sorted(spec.sorts)) or "none"
                issues.append(Issue(f"_sort by {name!r} is not supported (supported: {keys}).", "not-supported"))
            continue
        descending = key.strip().startswith("-")
        applied.append(key.strip())
        order += [f"-{f}" if descending else f for f in spec.sorts[name]]
    if not applied:
        return [], spec.default_order
    # The primary key last, in the direction of the first key: a total, stable order.
    tie_breaker = "-pk" if applied[0].startswith("-") else "pk"
    return applied, (*order, tie_breaker)


# --- Dates --------------------------------------------------------------------------------


def date_filter(field_name: str, value: str, tz: datetime.tzinfo) -> Q:
    """A date search on a DateField (a calendar day, in the clinic's time zone), by R4's rules:
    a search value is a range (a year, a month, a day, or an instant), the day stored is a
    range too, and the prefix says how the two must meet (http://hl7.org/fhir/R4/search.html#date)."""
    prefix, start, end = parse_date_value(value, tz)
    first_after_start = _day(start, tz) if _is_midnight(start, tz) else _day(start, tz) + _ONE_DAY
    last_before_start = _day(start, tz) - _ONE_DAY if _is_midnight(start, tz) else _day(start, tz)
    day_of_end = _day(end, tz)  # `end` is exclusive: the first day not wholly inside is this one
    if prefix == "eq":  # the search range holds the whole day
        return Q(**{f"{field_name}__gte": first_after_start, f"{field_name}__lt": day_of_end})
    if prefix == "gt":  # the day reaches past the search range
        return Q(**{f"{field_name}__gte": day_of_end})
    if prefix == "lt":  # the day begins before the search range
        return Q(**{f"{field_name}__lte": last_before_start})
    if prefix == "ge":  # gt, or eq
        return Q(**{f"{field_name}__gte": min(first_after_start, day_of_end)})
    return Q(**{f"{field_name}__lte": max(last_before_start, day_of_end - _ONE_DAY)})  # le: lt, or eq


_ONE_DAY = datetime.timedelta(days=1)


def _day(instant: datetime.datetime, tz) -> datetime.date:
    return instant.astimezone(tz).date()


def _is_midnight(instant: datetime.datetime, tz) -> bool:
    return instant.astimezone(tz).time() == datetime.time(0)


def parse_date_value(value: str, tz) -> tuple[str, datetime.datetime, datetime.datetime]:
    """`[prefix]value` as (prefix, start, exclusive end). A value without a time zone is in the
    clinic's; 400 for an unsupported prefix or a value that is not a FHIR date or dateTime."""
    prefix = value[:2] if value[:2].isalpha() else "eq"
    text = value[2:] if value[:2].isalpha() else value
    if prefix in UNSUPPORTED_DATE_PREFIXES or prefix not in DATE_PREFIXES:
        supported = ", ".join(DATE_PREFIXES)
        raise FhirError(400, [Issue(f"Date prefix {prefix!r} is not supported (supported: {supported}).", "invalid")])
    match = DATE_VALUE.match(text)
    try:
        if match is None:
            raise ValueError
        return (prefix, *_range(match, tz))
    except ValueError:
        raise FhirError(
            400, [Issue("A date is YYYY, YYYY-MM, YYYY-MM-DD or a dateTime with a time zone.", "invalid")]
        ) from None


def _range(match: re.Match, tz) -> tuple[datetime.datetime, datetime.datetime]:
    parts = match.groupdict()
    year, month, day = int(parts["year"]), int(parts["month"] or 1), int(parts["day"] or 1)
    if parts["hour"] is not None:
        zone = _zone(parts["tz"], tz)
        start = datetime.datetime(
            year, month, day, int(parts["hour"]), int(parts["minute"]), int(parts["second"] or 0), tzinfo=zone
        )
        step = datetime.timedelta(seconds=1) if parts["second"] is not None else datetime.timedelta(minutes=1)
        return start, start + step
    first = datetime.date(year, month, day)
    if parts["day"] is not None:
        after = first + _ONE_DAY
    elif parts["month"] is not None:
        after = (first + datetime.timedelta(days=32)).replace(day=1)
    else:
        after = first.replace(year=year + 1)
    return _midnight(first, tz), _midnight(after, tz)


def _zone(text: str | None, tz) -> datetime.tzinfo:
    if text is None:
        return tz
    if text == "Z":
        return datetime.UTC
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes))


def _midnight(day: datetime.date, tz) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(0)), tz)


# --- Results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of results, with the Bundle links that lead to the others."""

    rows: list
    total: int
    links: list[dict]


def page(rows: QuerySet, search: Query, *, url: str, filters: list[tuple[str, str]], pageable: bool = True) -> Page:
    """The page `search` asks for, ordered stably; the count query is skipped when the first page
    holds every match. `url` is the search's own URL without its query; `filters` the filter
    parameters applied, which every link repeats."""
    rows = rows.order_by(*search.order)
    result_parameters = [("_sort", ",".join(search.sort))] if search.sort else []
    if search.summary_count:
        total = rows.count()
        link = _link(url, "self", filters + result_parameters + [("_summary", "count")])
        return Page([], total, [link])
    found = list(rows[search.offset : search.offset + search.count + 1])
    more = len(found) > search.count
    found = found[: search.count]
    total = len(found) if search.offset == 0 and not more else rows.count()
    links = [_link(url, "self", filters + result_parameters + _paging(search.count, search.offset))]
    if pageable:
        links += _paging_links(url, filters + result_parameters, search, total)
    return Page(found, total, links)


def _paging(count: int, offset: int) -> list[tuple[str, str]]:
    return [("_count", str(count))] + ([("_offset", str(offset))] if offset else [])


def _paging_links(url: str, parameters: list, search: Query, total: int) -> list[dict]:
    count, offset = search.count, search.offset
    last = max(0, (total - 1) // count * count) if total else 0
    links = [_link(url, "first", parameters + _paging(count, 0))]
    if offset > 0:
        links.append(_link(url, "previous", parameters + _paging(count, max(0, offset - count))))
    if offset + count < total:
        links.append(_link(url, "next", parameters + _paging(count, offset + count)))
    links.append(_link(url, "last", parameters + _paging(count, last)))
    return links


def _link(url: str, relation: str, parameters: list[tuple[str, str]]) -> dict:
    return {"relation": relation, "url": f"{url}?{urlencode(parameters, safe=':/,')}" if parameters else url}


def applied_filters(search: Query, names: list[str]) -> list[tuple[str, str]]:
    """The filter parameters that were used, in the order given, for the links."""
    return [(name, value) for name in names for value in search.values.get(name, [])]
