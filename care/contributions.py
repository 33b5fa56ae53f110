"""What the care app adds to the apps below it (docs/architecture.md#layering), registered when
Django is ready (care/apps.py)."""

from accounts.models import Clinic
from accounts.provisioning import on_clinic_set_up
from care.demo import seed_care_demo
from care.forms import TreatmentForms
from care.panels import care_panel
from care.services import ensure_starter_library
from patients.panels import register_panel
from registry.demo import SAVED_STEPS
from registry.visits import VISIT_PARTS


@on_clinic_set_up
def starter_library(clinic: Clinic) -> str:
    added = ensure_starter_library(clinic)
    return f"Added {added} starter education topics." if added else ""


def treatment_given(data, *, episode) -> TreatmentForms:
    """Medication reports, intervention sessions, a referral and education, on the record-contact page."""
    return TreatmentForms(data, episode=episode)


VISIT_PARTS.append(treatment_given)


def treatment_in_the_demo(rows, *, clinics, seed, today, by) -> None:
    seed_care_demo(rows, clinics=clinics, seed=seed, today=today)  # medications, sessions, referrals, education


SAVED_STEPS.append((20, treatment_in_the_demo))  # after the case reviews, before the plans that follow both

register_panel(40, care_panel)
