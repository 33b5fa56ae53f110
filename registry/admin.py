from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter as RelatedOnly

from accounts.admin import ClinicScopedAdmin, ReadOnlyClinicalAdmin
from accounts.scoping import in_users_clinics
from registry.models import Contact, Flag, FlagDigest, Measurement, RegistrySettings, SafetyAssessment


class EpisodeChildAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "episode__patient__clinic"
    search_fields = ["episode__patient__mrn", "episode__patient__last_name"]
    list_select_related = ["episode__patient"]


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
class RegistrySettingsAdmin(ClinicScopedAdmin):
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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "clinic":
            kwargs["queryset"] = request.user.visible_clinics()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(FlagDigest)
class FlagDigestAdmin(admin.ModelAdmin):
    """What each care manager was sent: counts only, never patients."""

    list_display = ["recipient", "sent_on", "flag_count", "sent_at"]
    list_select_related = ["recipient"]
    list_filter = ["sent_on"]
    search_fields = ["recipient__username"]

    def get_queryset(self, request):
        return in_users_clinics(super().get_queryset(request), request.user, "recipient__clinics").distinct()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
