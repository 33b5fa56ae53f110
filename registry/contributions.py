"""What the registry adds to the apps below it (docs/architecture.md#layering), registered when
Django is ready (registry/apps.py)."""

from patients.panels import register_panel
from patients.plans import DISCHARGE_AFTER_DAYS, SUICIDAL_IDEATION_RECORDED
from patients.services import EPISODE_CHANGED
from registry.models import Flag
from registry.patient_page import charts_panel, registry_panel
from registry.services import queue_flag_refresh, raise_flag
from registry.thresholds import threshold

EPISODE_CHANGED.append(queue_flag_refresh)  # an episode enrolled or moved: its flags are refreshed
register_panel(10, registry_panel)
register_panel(90, charts_panel)  # last: the other panels leave their chart markers first


def safety_flag_for_ideation(*, episode, by) -> None:
    raise_flag(
        episode=episode, kind=Flag.Kind.SAFETY, by=by, reason="Initial assessment: current suicidal ideation recorded."
    )


SUICIDAL_IDEATION_RECORDED.append(safety_flag_for_ideation)
DISCHARGE_AFTER_DAYS.append(lambda: threshold("no_contact_discharge_days"))
