"""A posted QuestionnaireResponse, checked and turned into the registry's `Answers`.

Two passes: the FHIR R4B model (fhir.resources) says whether it is a QuestionnaireResponse at
all (400 otherwise); then our rules say whether it is a complete questionnaire of an exchanged
instrument, PHQ-9, GAD-7, ... (fhirapi/codes.py FHIR_INSTRUMENTS; 422 with one
issue per problem). The If-None-Exist header of a conditional create is read here too. Nothing
here touches the database.
"""

import datetime
import re
from dataclasses import dataclass, field

import pydantic
from django.http import QueryDict
from django.utils import timezone
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from fhirapi import codes
from fhirapi.responses import FhirError, Issue
from registry.instruments.base import Instrument
from registry.services import Answers

PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/(\d+)$")
SEVERAL = "several"  # marks a linkId sent more than once
IDENTIFIER_LENGTH = 255  # of system and of value, as ResponseIdentifier keeps them


@dataclass(frozen=True)
class Identifier:
    """QuestionnaireResponse.identifier; `system` is "" when none was sent."""

    system: str
    value: str


@dataclass(frozen=True)
class IdentifierSearch:
    """`identifier=[system|]value`, a FHIR token search: system None matches any system, "" none."""

    system: str | None
    value: str

    def matches(self, identifier: Identifier) -> bool:
        return identifier.value == self.value and self.system in (None, identifier.system)


@dataclass
class Parsed:
    instrument: Instrument | None = None
    patient_id: int | None = None
    authored: datetime.date | None = None
    answers: list[int | None] = field(default_factory=list)
    difficulty: int | None = None
    self_reported: bool = False
    identifier: Identifier | None = None
    issues: list[Issue] = field(default_factory=list)

    def to_answers(self) -> Answers:
        return Answers(self.instrument.code, self.answers, self.difficulty)


def parse_questionnaire_response(data) -> Parsed:
    resource = _validate_model(data)
    parsed = Parsed()
    _check_status(resource, parsed)
    parsed.instrument = _instrument(resource, parsed)
    parsed.patient_id = _patient_id(resource.subject, parsed, "QuestionnaireResponse.subject")
    parsed.authored = _authored(resource, parsed)
    source = resource.source.reference if resource.source and resource.source.reference else ""
    parsed.self_reported = bool(parsed.patient_id) and source.endswith(f"Patient/{parsed.patient_id}")
    parsed.identifier = _identifier(resource, parsed)
    if parsed.instrument:
        _read_items(resource, parsed)
    return parsed


def parse_if_none_exist(header: str | None) -> IdentifierSearch | None:
    """The If-None-Exist header of a conditional create (http://hl7.org/fhir/R4/http.html#ccreate):
    the part of a search URL after the "?". Only `identifier=[system|]value` is supported; any other
    search is refused (400), never ignored, since ignoring it would store what the client asked us
    to find. Issues name parameters, never their values."""
    if header is None:
        return None
    query = QueryDict(header.strip().removeprefix("QuestionnaireResponse?"))
    expected = "If-None-Exist supports one search only: identifier=system|value (or identifier=value)"
    unsupported = sorted(name for name in query if name != "identifier")
    if unsupported:
        names = ", ".join(repr(name) for name in unsupported)
        raise FhirError(400, [Issue(f"{expected}; not {names}.", "not-supported")])
    values = query.getlist("identifier")
    if len(values) != 1 or "," in values[0]:
        raise FhirError(400, [Issue(f"{expected}: give one identifier, once.", "invalid")])
    system, bar, value = values[0].rpartition("|")
    if not value:
        raise FhirError(400, [Issue(f"{expected}: the identifier's value is empty.", "invalid")])
    if len(system) > IDENTIFIER_LENGTH or len(value) > IDENTIFIER_LENGTH:
        raise FhirError(
            400, [Issue(f"{expected}: system and value are {IDENTIFIER_LENGTH} characters at most.", "too-long")]
        )
    return IdentifierSearch(system if bar else None, value)


def _validate_model(data) -> QuestionnaireResponse:
    if not isinstance(data, dict) or data.get("resourceType") != "QuestionnaireResponse":
        raise FhirError(400, [Issue("Send a QuestionnaireResponse resource as JSON.", "structure")])
    try:
        return QuestionnaireResponse.model_validate(data)
    except pydantic.ValidationError as error:
        raise FhirError(400, [_model_issue(e) for e in error.errors()]) from None


def _model_issue(error: dict) -> Issue:
    path = "QuestionnaireResponse" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
    return Issue(f"{path}: {error['msg']}", "structure", path)


def _check_status(resource: QuestionnaireResponse, parsed: Parsed) -> None:
    if resource.status != "completed":
        parsed.issues.append(
            Issue("Only a completed questionnaire can be scored: status must be 'completed'.", "value", "status")
        )


def _instrument(resource: QuestionnaireResponse, parsed: Parsed) -> Instrument | None:
    canonical = (resource.questionnaire or "").split("|")[0]
    instrument = codes.QUESTIONNAIRES.get(canonical)
    if instrument is None:
        known = " or ".join(codes.QUESTIONNAIRES)
        parsed.issues.append(
            Issue(f"Unknown questionnaire {canonical!r}: this server scores {known}.", "not-supported", "questionnaire")
        )
    return instrument


def _patient_id(subject, parsed: Parsed, path: str) -> int | None:
    match = PATIENT_REFERENCE.search(subject.reference or "") if subject else None
    if match is None:
        parsed.issues.append(Issue("subject must reference the patient as Patient/<id>.", "required", path))
        return None
    return int(match.group(1))


def _identifier(resource: QuestionnaireResponse, parsed: Parsed) -> Identifier | None:
    given = resource.identifier
    if given is None:
        return None
    identifier = Identifier(given.system or "", given.value or "")
    if not identifier.value:
        parsed.issues.append(Issue("identifier needs a value.", "required", "identifier.value"))
        return None
    if max(len(identifier.system), len(identifier.value)) > IDENTIFIER_LENGTH:
        parsed.issues.append(
            Issue(
                f"identifier's system and value are {IDENTIFIER_LENGTH} characters at most.", "too-long", "identifier"
            )
        )
        return None
    return identifier


def _authored(resource: QuestionnaireResponse, parsed: Parsed) -> datetime.date | None:
    authored = resource.authored
    if authored is None:
        parsed.issues.append(Issue("authored (the day it was answered) is required.", "required", "authored"))
        return None
    if isinstance(authored, datetime.datetime):
        # A time with an offset becomes a calendar day in the clinic's time zone; one without is taken as given.
        authored = timezone.localtime(authored).date() if timezone.is_aware(authored) else authored.date()
    if authored > timezone.localdate():
        parsed.issues.append(Issue(f"authored ({authored:%Y-%m-%d}) is in the future.", "value", "authored"))
    return authored


def _flatten(items, path: str):
    """(path, item) for each answered item; groups are looked into, not answered."""
    for index, item in enumerate(items or []):
        here = f"{path}.item[{index}]"
        if item.answer or not item.item:
            yield here, item
        if item.item:
            yield from _flatten(item.item, here)


def _read_items(resource: QuestionnaireResponse, parsed: Parsed) -> None:
    instrument = parsed.instrument
    positions = {code: n for n, code in enumerate(instrument.item_link_ids, start=1)}
    extras = {question.link_id: question for question in instrument.extra_questions}
    seen: dict[str, object] = {}
    for path, item in _flatten(resource.item, "QuestionnaireResponse"):
        link_id = item.linkId or ""
        if link_id in seen:
            parsed.issues.append(Issue(f"Item {link_id} is answered more than once.", "duplicate", path))
            seen[link_id] = SEVERAL
            continue
        if link_id in positions:
            number = positions[link_id]
            seen[link_id] = _answer(item, path, parsed, instrument.answer_codes_for(number), instrument.max_for(number))
        elif link_id in extras:
            question = extras[link_id]
            seen[link_id] = _answer(item, path, parsed, question.answer_loinc, question.max_answer)
        elif link_id == instrument.total_loinc:
            seen[link_id] = _total(item, path, parsed)
        else:
            parsed.issues.append(Issue(f"Unknown item {link_id!r} for the {instrument.name}.", "not-supported", path))
    parsed.answers = []
    for number, code in enumerate(instrument.item_link_ids, start=1):
        if code not in seen:
            parsed.issues.append(Issue(f"Item {number} ({code}) of the {instrument.name} is missing.", "required"))
        value = seen.get(code)
        parsed.answers.append(value if isinstance(value, int) else None)
    for question in extras.values():  # Parsed holds the one kept in the Measurement's difficulty column
        value = seen.get(question.link_id)
        setattr(parsed, question.field, value if isinstance(value, int) else None)
    total = seen.get(instrument.total_loinc)
    if isinstance(total, int) and None not in parsed.answers and total != sum(parsed.answers):
        parsed.issues.append(
            Issue(f"The total sent ({total}) is not the sum of the answers ({sum(parsed.answers)}).", "value")
        )


def _answer(item, path: str, parsed: Parsed, answer_codes: tuple[str, ...], highest: int) -> int | None:
    """The answer's number (0-highest), from a LOINC answer code or an integer."""
    expected = f"an integer 0-{highest}"
    if answer_codes:
        expected = f"one of {', '.join(answer_codes)} (system {codes.LOINC}) or {expected}"
    if len(item.answer or []) != 1:
        parsed.issues.append(Issue(f"Item {item.linkId} needs exactly one answer: {expected}.", "required", path))
        return None
    answer = item.answer[0]
    coding, number = answer.valueCoding, answer.valueInteger
    if coding is not None and coding.system == codes.LOINC and answer_codes and coding.code in answer_codes:
        return answer_codes.index(coding.code)
    if coding is None and number is not None and 0 <= number <= highest:
        return number
    parsed.issues.append(Issue(f"The answer to item {item.linkId} must be {expected}.", "code-invalid", path))
    return None


def _total(item, path: str, parsed: Parsed) -> int | None:
    values = [a.valueInteger if a.valueInteger is not None else a.valueDecimal for a in item.answer or []]
    if len(values) == 1 and values[0] is not None and values[0] == int(values[0]):
        return int(values[0])
    parsed.issues.append(Issue(f"The total ({item.linkId}) must be one whole number.", "value", path))
    return None
