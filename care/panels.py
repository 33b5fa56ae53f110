"""What the patient page (and the consultant's panel) shows of the care app: a fixed number of
queries whatever the episode's length."""

from dataclasses import dataclass

from accounts.permissions import can_write_clinical
from care.models import EducationGiven, InterventionSession, Medication, MedicationReport, Referral
from registry.charts import Marker
from registry.models import Intervention


def medications_with_latest_report(episode, *, current_only: bool = False) -> list[Medication]:
    """The episode's medications, current first, each with `.latest_report` (or None). Two queries."""
    medications = Medication.objects.valid().filter(episode=episode).select_related("prescriber")
    if current_only:
        medications = medications.filter(stopped_on__isnull=True)
    medications = sorted(medications, key=lambda m: (not m.is_current, m.name.lower(), m.pk))
    reports = MedicationReport.objects.valid().filter(medication__in=[m.pk for m in medications])
    latest = {}
    for report in reports.select_related("contact").order_by("-contact__contact_date", "-pk"):
        latest.setdefault(report.medication_id, report)
    for medication in medications:
        medication.latest_report = latest.get(medication.pk)
    return medications


@dataclass
class InterventionSummary:
    intervention: str
    label: str
    done: int
    planned: int | None
    first_on: object
    last_on: object
    last_session: int


def intervention_summary(episode) -> list[InterventionSummary]:
    """Per intervention: sessions done / planned (as planned at the latest session), first and last date."""
    sessions = list(
        InterventionSession.objects.valid()
        .filter(episode=episode)
        .select_related("contact")
        .order_by("contact__contact_date", "session_number", "pk")
    )
    by_kind: dict[str, list[InterventionSession]] = {}
    for session in sessions:
        by_kind.setdefault(session.intervention, []).append(session)
    return [
        InterventionSummary(
            intervention=code,
            label=Intervention(code).label,
            done=len(rows),
            planned=rows[-1].planned_sessions,
            first_on=rows[0].contact.contact_date,
            last_on=rows[-1].contact.contact_date,
            last_session=max(r.session_number for r in rows),
        )
        for code, rows in sorted(by_kind.items(), key=lambda item: item[1][-1].contact.contact_date, reverse=True)
    ]


def care_panel(request, episode, context: dict) -> dict:
    """What the patient page shows of care (patients/panels.py), and its medications as chart markers."""
    care = care_context(episode, request.user)
    for medication in care["current_medications"] + care["stopped_medications"]:
        context["chart_markers"].append(
            Marker("medication", medication.started_on, f"started {medication.name} {medication.dose}")
        )
        if medication.stopped_on:
            context["chart_markers"].append(Marker("medication", medication.stopped_on, f"stopped {medication.name}"))
    return care


def care_context(episode, user) -> dict:
    medications = medications_with_latest_report(episode)
    return {
        "care_can_write": can_write_clinical(user) and episode.is_open,
        "current_medications": [m for m in medications if m.is_current],
        "stopped_medications": [m for m in medications if not m.is_current],
        "intervention_summary": intervention_summary(episode),
        "referrals": list(Referral.objects.valid().filter(episode=episode).select_related("recorded_by")),
        "education_given": list(
            EducationGiven.objects.valid().filter(episode=episode).select_related("topic", "given_by")
        ),
    }
