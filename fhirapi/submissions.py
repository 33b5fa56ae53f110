"""A checked QuestionnaireResponse recorded through the registry's own service, so that it is
scored by the same code as the web form and item 9 raises the safety flag at once.

A response sent again (a client's retry) is recorded once: its identifier is kept with the
score (ResponseIdentifier, unique per clinic), and a conditional create (If-None-Exist) is
given the score stored before.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.permissions import can_write_clinical
from fhirapi.models import ApiClient, ResponseIdentifier
from fhirapi.parse import Identifier, IdentifierSearch, Parsed
from fhirapi.responses import FhirError, Issue, not_found
from patients.models import Episode, Patient
from registry import services
from registry.models import Measurement, RegistrySettings


def patient_of_client(client: ApiClient, pk: int | None) -> Patient:
    """A patient of the token's clinic; any other (another clinic's, or none) is a 404."""
    patient = Patient.objects.filter(clinic=client.clinic, pk=pk).first() if pk else None
    if patient is None:
        raise not_found(f"Patient/{pk}" if pk else "The patient")
    return patient


def record_questionnaire_response(
    *, client: ApiClient, parsed: Parsed, if_none_exist: IdentifierSearch | None = None
) -> tuple[Measurement, bool]:
    """The score, and True when this post stored it; False when `if_none_exist` found the one
    stored before (http://hl7.org/fhir/R4/http.html#ccreate: one match, 200, nothing stored)."""
    identifier = _identifier_to_keep(parsed, if_none_exist)
    search = if_none_exist or (_exactly(identifier) if identifier else None)
    found = stored_response(client=client, search=search) if search else None
    if found is None:
        try:
            return _check_and_record(client, parsed, identifier), True
        except IntegrityError:
            # A post with the same identifier stored its score between our look and our insert:
            # answered as if it had come first.
            found = stored_response(client=client, search=_exactly(identifier)) if identifier else None
            if found is None:
                raise
    if if_none_exist is None:
        raise _duplicate(found)
    return found, False


def stored_response(*, client: ApiClient, search: IdentifierSearch) -> Measurement | None:
    """The score of the client's clinic whose identifier the search matches, if one does."""
    rows = ResponseIdentifier.objects.filter(clinic=client.clinic, value=search.value)
    if search.system is not None:
        rows = rows.filter(system=search.system)
    found = list(rows.select_related("measurement__episode")[:2])
    if len(found) > 1:  # only a search without a system can match two: the key holds the system
        issue = Issue(
            "If-None-Exist matches more than one QuestionnaireResponse: give the system too.", "multiple-matches"
        )
        raise FhirError(412, [issue])
    if not found:
        return None
    measurement = found[0].measurement
    if measurement.is_entered_in_error:  # not served (a 404 when read), and not to be stored again
        raise FhirError(
            409,
            [
                Issue(
                    "The QuestionnaireResponse with this identifier was marked entered in error: "
                    "send it with a new identifier to record it again.",
                    "duplicate",
                    "identifier",
                )
            ],
        )
    return measurement


def _exactly(identifier: Identifier) -> IdentifierSearch:
    return IdentifierSearch(identifier.system, identifier.value)


def _identifier_to_keep(parsed: Parsed, if_none_exist: IdentifierSearch | None) -> Identifier | None:
    """The resource's identifier, which the If-None-Exist search must match (else a retry of this
    post would store it again); a resource without one keeps the search's, so that it does."""
    if if_none_exist is None:
        return parsed.identifier
    if parsed.identifier is None:
        return Identifier(if_none_exist.system or "", if_none_exist.value)
    if not if_none_exist.matches(parsed.identifier):
        issue = Issue("The If-None-Exist search does not match the resource's identifier.", "invalid", "identifier")
        raise FhirError(400, [issue])
    return parsed.identifier


def _duplicate(measurement: Measurement) -> FhirError:
    """A plain create with an identifier already stored is refused, not stored twice. R4's create
    (http://hl7.org/fhir/R4/http.html#create) does not say to answer with the existing resource;
    only conditional create does (#ccreate). So: 409 with R4's issue type for it ("duplicate",
    http://hl7.org/fhir/R4/codesystem-issue-type.html), and a pointer to If-None-Exist."""
    return FhirError(
        409,
        [
            Issue(
                f"QuestionnaireResponse/{measurement.pk} has this identifier already: nothing was stored. "
                "To retry a post safely, send it with If-None-Exist: identifier=system|value.",
                "duplicate",
                "identifier",
            )
        ],
    )


def _check_and_record(client: ApiClient, parsed: Parsed, identifier: Identifier | None) -> Measurement:
    """The new score; IntegrityError (all of it rolled back) when the identifier is stored already."""
    if parsed.patient_id is None or parsed.instrument is None:
        raise FhirError(422, parsed.issues)
    patient = patient_of_client(client, parsed.patient_id)
    clinic_settings = RegistrySettings.for_clinic(client.clinic)
    if parsed.instrument.code not in {i.code for i in clinic_settings.offered_instruments()}:
        parsed.issues.append(Issue(f"This clinic does not use the {parsed.instrument.name}.", "business-rule"))
    episode = _check_episode(patient, parsed, clinic_settings.baseline_lookback_days)
    if parsed.issues:
        raise FhirError(422, parsed.issues)
    if not can_write_clinical(client.service_user):
        raise FhirError(403, [Issue("This client's service account may not record scores.", "forbidden")])
    # Sent by the patient's own app (source = the patient): a self-report; from an EHR: imported.
    source = Measurement.Source.SELF_REPORT if parsed.self_reported else Measurement.Source.IMPORT
    try:
        with transaction.atomic():
            measurement = services.record_measurement(
                episode=episode,
                answers=parsed.to_answers(),
                taken_on=parsed.authored,
                by=client.service_user,
                source=source,
            )
            if identifier is not None:  # the unique key: of two posts at once, the second rolls back here
                ResponseIdentifier.objects.create(
                    measurement=measurement, clinic=client.clinic, system=identifier.system, value=identifier.value
                )
    except ValidationError as error:  # a rule the service holds and we did not check first
        raise FhirError(422, [Issue(message, "business-rule") for message in error.messages]) from None
    return measurement


def _check_episode(patient: Patient, parsed: Parsed, lookback_days: int) -> Episode | None:
    """The registry's rule: an open episode, and a day from the screening look-back before
    enrollment (docs/clinical-definitions.md#baseline-latest-and-change) to today. Checked here so
    that every problem is listed at once."""
    episode = patient.current_episode()
    if episode is None:
        parsed.issues.append(
            Issue("The patient has no open episode of care: enroll them again to record scores.", "business-rule")
        )
        return None
    earliest = episode.earliest_score_on(lookback_days)
    if parsed.authored and parsed.authored < earliest:
        parsed.issues.append(
            Issue(f"authored is before this episode of care began ({earliest:%Y-%m-%d}).", "business-rule", "authored")
        )
    return episode
