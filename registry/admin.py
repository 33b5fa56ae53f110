from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter as RelatedOnly

from accounts.admin_scoping import ClinicScopedAdmin, ClinicScopedHistoryAdmin, ReadOnlyAdmin
from patients.admin import EpisodeChildAdmin
from registry.models import Contact, Flag, FlagDigest, Measurement, RegistrySettings, SafetyAssessment


@admin.register(Contact)
class ContactAdmin(EpisodeChildAdmin):
    list_display = ["episode", "contact_date", "kind", "mode", "reached", "minutes", "recorded_by"]
    list_filter = ["kind", "mode", "reached", ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "recorded_by"]
    date_hierarchy = "contact_date"


@admin.register(Measurement)
class MeasurementAdmin(EpisodeChildAdmin):
    list_display = ["episode", "instrument", "taken_on", "total", "band", "source", "total_only"]
    list_filter = ["instrument", "band", "source", "total_only", ("episode__patient__clinic", RelatedOnly)]
    date_hierarchy = "taken_on"


@admin.register(Flag)
class FlagAdmin(EpisodeChildAdmin):
    list_display = ["episode", "kind", "raised_at", "raised_by", "resolved_at", "resolved_by"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter), ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "raised_by", "resolved_by"]


@admin.register(SafetyAssessment)
class SafetyAssessmentAdmin(EpisodeChildAdmin):
    list_display = ["episode", "assessed_at", "assessed_by", "risk_level"]
    list_filter = ["risk_level", ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "assessed_by"]


@admin.register(RegistrySettings)
class RegistrySettingsAdmin(ClinicScopedHistoryAdmin):
    """Thresholds change here or on the app's Settings page; every change is in the history."""

    list_display = [
        "clinic",
        "active_cadence_days",
        "relapse_prevention_cadence_days",
        "not_improving_after_days",
        "measurement_overdue_days",
        "agenda_weekday",
        "agenda_hour",
    ]
    list_select_related = ["clinic"]
    search_fields = ["clinic__name", "clinic__code"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FlagDigest)
class FlagDigestAdmin(ReadOnlyAdmin, ClinicScopedAdmin):
    """What each care manager was sent: counts only, never patients."""

    clinic_path = "recipient__clinics"
    list_display = ["recipient", "sent_on", "flag_count", "sent_at"]
    list_select_related = ["recipient"]
    list_filter = ["sent_on"]
    search_fields = ["recipient__username"]
