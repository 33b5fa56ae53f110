"""What the care app adds to the apps below it (docs/architecture.md#layering), registered when
Django is ready (care/apps.py)."""

from accounts.models import Clinic
from accounts.provisioning import on_clinic_set_up
from care.forms import TreatmentForms
from care.services import ensure_starter_library
from registry.visits import VISIT_PARTS


@on_clinic_set_up
def starter_library(clinic: Clinic) -> str:
    added = ensure_starter_library(clinic)
    return f"Added {added} starter education topics." if added else ""


def treatment_given(data, *, episode) -> TreatmentForms:
    """Medication reports, intervention sessions, a referral and education, on the record-contact page."""
    return TreatmentForms(data, episode=episode)


VISIT_PARTS.append(treatment_given)
