"""Logs are JSON lines with the request's id, and never carry query strings (PHI may be typed there)."""

import datetime
import io
import json
import logging
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.structured_logs import NoLinkTokenFilter, NoQueryStringFilter
from selfreport import services as self_report_services
from selfreport.models import Invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What the configured console handler writes, one parsed JSON object a line."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)


def test_each_response_carries_a_new_request_id(cm_client):
    first = cm_client.get(reverse("registry:dashboard"))["X-Request-ID"]
    second = cm_client.get(reverse("registry:dashboard"))["X-Request-ID"]

    assert uuid.UUID(first).version == 4
    assert first != second


def test_an_incoming_request_id_is_kept_only_when_it_is_a_uuid(cm_client):
    theirs = str(uuid.uuid4())

    kept = cm_client.get(reverse("registry:dashboard"), HTTP_X_REQUEST_ID=theirs)
    refused = cm_client.get(reverse("registry:dashboard"), HTTP_X_REQUEST_ID="<script>SMITH</script>")

    assert kept["X-Request-ID"] == theirs
    assert refused["X-Request-ID"] != "<script>SMITH</script>"
    uuid.UUID(refused["X-Request-ID"])


def test_a_not_found_with_a_query_string_logs_the_path_only_with_the_request_id(cm_client, log_lines):
    response = cm_client.get("/patients/987654/", {"q": "SMITH"})

    assert response.status_code == 404
    lines = log_lines()
    (not_found,) = [line for line in lines if line["logger"] == "django.request"]
    assert not_found["message"] == "Not Found: /patients/987654/"
    assert not_found["request_id"] == response["X-Request-ID"]
    assert (not_found["level"], not_found["status"]) == ("WARNING", 404)
    assert all("SMITH" not in json.dumps(line) for line in lines)


def test_the_development_servers_request_line_loses_its_query_string():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /patients/?q=SMITH&x=1 HTTP/1.1", "200", "5"),
        None,
    )

    NoQueryStringFilter().filter(record)

    assert record.getMessage() == '"GET /patients/ HTTP/1.1" 200 5'


def test_messages_without_a_url_are_untouched():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "Done? %s rows", (3,), None)

    NoQueryStringFilter().filter(record)

    assert record.getMessage() == "Done? 3 rows"


# --- Self-report tokens: whoever reads one can answer as the patient ------------------------


@pytest.fixture
def token(care_manager, clinic):
    from tests.factories import EpisodeFactory, PatientFactory

    episode = EpisodeFactory(patient=PatientFactory(clinic=clinic, care_manager=care_manager))
    _, token = self_report_services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="en", email="p@example.org", by=care_manager
    )
    return token


def test_a_refused_self_report_link_is_logged_with_its_token_masked(client, token, log_lines):
    now = timezone.now()
    Invitation.objects.update(sent_at=now - datetime.timedelta(days=8), expires_at=now - datetime.timedelta(seconds=1))

    gone = client.get(reverse("selfreport:start", args=[token]))
    unknown = client.get(reverse("selfreport:questions", args=[token[::-1]]))

    assert (gone.status_code, unknown.status_code) == (410, 404)
    request_lines = [line["message"] for line in log_lines() if line["logger"] == "django.request"]
    assert request_lines == ["Gone: /r/***/", "Not Found: /r/***/questions/"]  # the path was /r/<token>/
    assert all(token not in json.dumps(line) and token[::-1] not in json.dumps(line) for line in log_lines())


def test_the_development_servers_request_line_loses_the_token(token):
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /r/{token}/language/?x=1 HTTP/1.1", 200, 5),
        None,
    )

    NoQueryStringFilter().filter(record)
    NoLinkTokenFilter().filter(record)

    assert record.getMessage() == '"GET /r/***/language/ HTTP/1.1" 200 5'


def test_a_traceback_that_names_the_link_is_masked_too(token, log_lines):
    link = "https://carereg.example.org" + reverse("selfreport:start", args=[token])
    try:
        raise RuntimeError(f"could not send {link}")
    except RuntimeError:
        logging.getLogger("selfreport").exception("Mail to %s failed", link)

    (line,) = [line for line in log_lines() if line["logger"] == "selfreport"]
    assert line["message"] == "Mail to https://carereg.example.org/r/***/ failed"
    assert "RuntimeError: could not send https://carereg.example.org/r/***/" in line["exception"]
    assert token not in json.dumps(line)
