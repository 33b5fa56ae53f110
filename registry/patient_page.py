"""What the patient page shows of the registry (patients/panels.py): the summary, the timeline
of contacts and scores, the flags, the forms to record, and the charts."""

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone

from patients.models import Episode
from registry.caseload import with_registry_columns
from registry.charts import Marker, episode_charts
from registry.forms import ContactForm, ItemAnswersForm
from registry.models import Contact, Measurement, RegistrySettings
from registry.scoring import GAD7, PHQ9


def registry_panel(request: HttpRequest, episode: Episode, context: dict) -> dict:
    measurements = list(episode.measurements.select_related("recorded_by"))
    contacts = list(
        episode.contacts.select_related("recorded_by", "entered_in_error_by").prefetch_related(
            Prefetch("measurements", queryset=Measurement.objects.order_by("instrument"))
        )
    )
    flags = list(
        episode.flags.select_related("raised_by", "resolved_by", "measurement", "safety_assessment__assessed_by")
    )
    writer = context["can_write"]
    today = timezone.localdate()
    return {
        "summary": with_registry_columns(Episode.objects.filter(pk=episode.pk), today).get(),
        "timeline": _timeline(contacts, measurements),
        "open_flags": sorted((f for f in flags if f.is_open), key=lambda f: f.priority),
        "closed_flags": [f for f in flags if not f.is_open],
        # The care manager marks the new ones seen with a button: reading the page writes nothing.
        "new_flags": [f for f in flags if f.is_open and f.seen_at is None]
        if request.user.pk == episode.patient.care_manager_id and episode.is_open
        else [],
        "measurements": measurements,  # drawn by charts_panel once the treatment's markers are known
        "contact_form": ContactForm(auto_id="quick_%s") if writer else None,
        "score_forms": [
            ItemAnswersForm(instrument=PHQ9, required=False),
            ItemAnswersForm(instrument=GAD7, required=False),
        ]
        if writer
        else [],
        "instruments": RegistrySettings.for_clinic(episode.patient.clinic).offered_instruments(),
    }


def _timeline(contacts: list[Contact], measurements: list[Measurement]) -> list[dict]:
    """Contacts with the scores taken at them, and scores taken on their own, newest first."""
    entries = [{"date": c.contact_date, "contact": c, "measurements": list(c.measurements.all())} for c in contacts]
    entries += [
        {"date": m.taken_on, "contact": None, "measurements": [m]} for m in measurements if m.contact_id is None
    ]
    return sorted(entries, key=lambda e: (e["date"], e["contact"] is not None), reverse=True)


def charts_panel(request: HttpRequest, episode: Episode, context: dict) -> dict:
    """The charts, with the markers the other panels left (care's medications) and the plan's changes."""
    markers = list(context["chart_markers"])
    for change in context.get("plan_changes", []):
        if not change.is_entered_in_error:
            markers.append(Marker("plan", change.changed_on, f"plan changed: {change.what_changed}"))
    return {"charts": episode_charts(episode, context.pop("measurements"), markers)}
