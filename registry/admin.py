from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter as RelatedOnly

from accounts.admin import ReadOnlyClinicalAdmin
from registry.models import Contact, Flag, Measurement, SafetyAssessment


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
