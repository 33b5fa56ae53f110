"""What the registry adds to the apps below it (docs/architecture.md#layering), registered when
Django is ready (registry/apps.py)."""

from patients.panels import register_panel
from patients.services import EPISODE_CHANGED
from registry.patient_page import charts_panel, registry_panel
from registry.services import queue_flag_refresh

EPISODE_CHANGED.append(queue_flag_refresh)  # an episode enrolled or moved: its flags are refreshed
register_panel(10, registry_panel)
register_panel(90, charts_panel)  # last: the other panels leave their chart markers first
