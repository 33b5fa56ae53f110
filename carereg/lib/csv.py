"""The one CSV writer: every CSV file CareReg writes goes through it (docs/data-formats.md#csv-files).

UTF-8, a header row first, CRLF line ends and minimal quoting (RFC 4180), dates as YYYY-MM-DD,
an empty cell for no value. A text cell that a spreadsheet would run as a formula (it starts
with = + - @, a tab or a carriage return) is written with a leading single quote, as OWASP's
CSV injection guidance says; numbers are written as numbers, so a change of -20 stays -20.
"""

import csv
import datetime
import decimal
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LINE_END = "\r\n"
CONTENT_TYPE = "text/csv; charset=utf-8"
NUMBERS = (int, float, decimal.Decimal)


def defuse(text: str) -> str:
    """Text a spreadsheet would run as a formula, with a leading quote so it is shown as typed."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell(value) -> str:
    """A value as its CSV cell: only text is defused; numbers, dates and yes/no are written as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, NUMBERS):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return defuse(str(value))


class Writer:
    """csv.writer over anything with a write method (a file, an HttpResponse, a command's stdout)."""

    def __init__(self, file):
        self._writer = csv.writer(file, lineterminator=LINE_END)

    def writerow(self, values: Iterable):
        return self._writer.writerow([cell(value) for value in values])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    """A file whose write returns the line, so the writer can feed a streamed response line by line."""

    def write(self, line: str) -> str:
        return line


def lines(rows: Iterable[Iterable]) -> Iterator[str]:
    """Each row as one CSV line (header first, as the rows come)."""
    writer = Writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


def _download_headers(response: HttpResponse | StreamingHttpResponse, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # patient data: no copies in browser or proxy caches
    return response


def response(filename: str, rows: Iterable[Iterable]) -> HttpResponse:
    """A CSV download written at once: rows is the header, then the data rows."""
    answer = _download_headers(HttpResponse(content_type=CONTENT_TYPE), filename)
    Writer(answer).writerows(rows)
    return answer


def streaming_response(filename: str, rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """A CSV download written as the rows are read, for files too large to hold in memory."""
    return _download_headers(StreamingHttpResponse(lines(rows), content_type=CONTENT_TYPE), filename)
