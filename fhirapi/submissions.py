"""A checked QuestionnaireResponse recorded through the registry's own service, so that it is
scored by the same code as the web form and item 9 raises the safety flag at once."""

from django.core.exceptions import ValidationError

from accounts.permissions import can_write_clinical
from fhirapi.models import ApiClient
from fhirapi.parse import Parsed
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


def record_questionnaire_response(*, client: ApiClient, parsed: Parsed) -> Measurement:
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
        return services.record_measurement(
            episode=episode,
            answers=parsed.to_answers(),
            taken_on=parsed.authored,
            by=client.service_user,
            source=source,
        )
    except ValidationError as error:  # a rule the service holds and we did not check first
        raise FhirError(422, [Issue(message, "business-rule") for message in error.messages]) from None


def _check_episode(patient: Patient, parsed: Parsed, lookback_days: int) -> Episode | None:
    """The registry's rule: an open episode, and a day from the screening look-back before
    enrollment (clinical-rules 4) to today. Checked here so that every problem is listed at once."""
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
