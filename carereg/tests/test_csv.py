"""The one CSV writer: text that a spreadsheet would run is defused; numbers stay numbers."""

import csv
import datetime
import io
from decimal import Decimal

import pytest

from carereg.lib import csv as csv_file


@pytest.mark.parametrize("text", ['=HYPERLINK("//evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_that_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert csv_file.cell(text) == f"'{text}"


@pytest.mark.parametrize("text", ["N-1", "Zanetti", "99492;99494x2", "", "a=b", "2026-03"])
def test_ordinary_text_is_written_as_it_is(text):
    assert csv_file.cell(text) == text


@pytest.mark.parametrize(
    ("value", "written"),
    [(-20, "-20"), (0, "0"), (-0.5, "-0.5"), (Decimal("-1.25"), "-1.25"), (12, "12")],
)
def test_numbers_stay_numbers_even_when_negative(value, written):
    assert csv_file.cell(value) == written


def test_no_value_dates_and_yes_no():
    assert csv_file.cell(None) == ""
    assert csv_file.cell(datetime.date(2026, 3, 2)) == "2026-03-02"
    assert (csv_file.cell(True), csv_file.cell(False)) == ("yes", "no")


def test_the_writer_writes_rfc_4180_lines_with_quoting_where_needed():
    out = io.StringIO()

    csv_file.Writer(out).writerows([["mrn", "note", "change"], ["=1+1", 'said "hi", left', -20]])

    assert out.getvalue() == 'mrn,note,change\r\n\'=1+1,"said ""hi"", left",-20\r\n'
    read_back = list(csv.reader(io.StringIO(out.getvalue())))
    assert read_back == [["mrn", "note", "change"], ["'=1+1", 'said "hi", left', "-20"]]


def test_a_download_is_utf8_csv_an_attachment_and_never_cached():
    response = csv_file.response("x.csv", [["name"], ["Zoë"]])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response["Cache-Control"] == "no-store"
    assert response.content.decode("utf-8") == "name\r\nZoë\r\n"


def test_a_streamed_download_writes_the_same_lines():
    rows = [["name"], ["-Zoë"]]

    streamed = b"".join(csv_file.streaming_response("x.csv", rows).streaming_content)

    assert streamed == csv_file.response("x.csv", rows).content
