"""Everything the consultant needs about one patient, on one page (the review workspace and
the note page share it). A handful of queries whatever the history's length."""

import datetime
from collections import Counter

from django.db.models import Prefetch
from django.utils import timezone

from care.panels import medications_with_latest_report
from consults.models import CaseReview, Recommendation
from patients.models import Episode, PlanChange, TreatmentPlan
from registry.caseload import with_registry_columns
from registry.charts import episode_charts
from registry.models import Contact, Flag, Intervention, Measurement


def review_panel(episode: Episode, *, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    summary = with_registry_columns(
        Episode.objects.filter(pk=episode.pk).select_related(
            "patient__clinic", "patient__care_manager", "patient__pcp", "patient__psychiatric_consultant"
        ),
        today,
    ).get()
    patient = summary.patient
    signed = list(
        CaseReview.objects.filter(episode=episode, signed_at__isnull=False)
        .select_related("consultant")
        .prefetch_related("amendments", Prefetch("recommendations", queryset=Recommendation.objects.order_by("pk")))
    )
    last_review = signed[0] if signed else None
    since = last_review.reviewed_on if last_review else episode.enrolled_on
    contacts = list(
        Contact.objects.valid()
        .filter(episode=episode, contact_date__gte=since)
        .prefetch_related(Prefetch("measurements", queryset=Measurement.objects.valid().order_by("instrument")))
    )
    measurements = list(Measurement.objects.valid().filter(episode=episode))
    interventions = Counter(
        code for contact in Contact.objects.valid().filter(episode=episode) for code in contact.interventions
    )
    return {
        "patient": patient,
        "summary": summary,
        "age": patient.age_on(today),
        "today": today,
        "never_reviewed": not signed,
        "diagnoses": last_review.diagnosis_labels() if last_review else [],
        "charts": episode_charts(episode, measurements),
        "contacts_since_review": contacts,
        # Self-reports and imports come without a contact: an item 9 answered there counts as much.
        "scores_since_review": [m for m in measurements if m.contact_id is None and m.taken_on >= since],
        "interventions": [
            (Intervention(code).label, n) for code, n in interventions.most_common() if code in Intervention.values
        ],
        "current_medications": medications_with_latest_report(episode, current_only=True),  # two queries
        "previous_notes": signed,
        "recommendations": [r for note in signed for r in note.recommendations.all()],
        "treatment_plan": TreatmentPlan.objects.filter(episode=episode).first(),
        "plan_changes": list(PlanChange.objects.filter(episode=episode, entered_in_error_at__isnull=True)[:3]),
        "open_flags": sorted(
            Flag.objects.filter(episode=episode, resolved_at__isnull=True), key=lambda flag: flag.priority
        ),
    }
