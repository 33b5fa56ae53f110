from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter as RelatedOnly

from accounts.admin_scoping import ClinicScopedHistoryAdmin, ReadOnlyClinicalAdmin
from care.models import EducationGiven, EducationTopic, InterventionSession, Medication, MedicationReport, Referral
from patients.admin import EpisodeChildAdmin


@admin.register(Medication)
class MedicationAdmin(EpisodeChildAdmin):
    list_display = ["episode", "name", "dose", "started_on", "stopped_on", "prescriber", "recorded_by"]
    list_filter = [("stopped_on", admin.EmptyFieldListFilter), ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "prescriber", "recorded_by"]
    search_fields = EpisodeChildAdmin.search_fields + ["name"]
    date_hierarchy = "started_on"


@admin.register(MedicationReport)
class MedicationReportAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "contact__episode__patient__clinic"
    list_display = ["medication", "contact", "adherence", "side_effect_severity", "effectiveness", "recorded_by"]
    list_filter = [
        "adherence",
        "side_effect_severity",
        "effectiveness",
        ("contact__episode__patient__clinic", RelatedOnly),
    ]
    list_select_related = ["medication", "contact", "recorded_by"]
    search_fields = ["contact__episode__patient__mrn", "contact__episode__patient__last_name", "medication__name"]


@admin.register(InterventionSession)
class InterventionSessionAdmin(EpisodeChildAdmin):
    list_display = ["episode", "intervention", "session_number", "planned_sessions", "contact", "recorded_by"]
    list_filter = ["intervention", ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "contact", "recorded_by"]


@admin.register(Referral)
class ReferralAdmin(EpisodeChildAdmin):
    list_display = ["episode", "kind", "to_whom", "status", "sent_on", "scheduled_for", "closed_on", "recorded_by"]
    list_filter = ["status", "kind", ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "recorded_by"]
    search_fields = EpisodeChildAdmin.search_fields + ["to_whom"]
    date_hierarchy = "sent_on"


@admin.register(EducationGiven)
class EducationGivenAdmin(EpisodeChildAdmin):
    list_display = ["episode", "topic", "given_on", "how", "given_by"]
    list_filter = ["how", ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "topic", "given_by"]
    date_hierarchy = "given_on"


@admin.register(EducationTopic)
class EducationTopicAdmin(ClinicScopedHistoryAdmin):
    """The library is edited here or in the app (Education library); history keeps each wording."""

    list_display = ["title", "category", "language", "active", "clinic"]
    list_filter = ["category", "active", ("clinic", RelatedOnly)]
    list_select_related = ["clinic"]
    search_fields = ["title", "handout_text"]

    def has_delete_permission(self, request, obj=None):
        return False  # education given points at it: retire a topic with "active" instead
