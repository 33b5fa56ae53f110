from django.contrib import admin

from accounts.admin import ClinicScopedAdmin, ReadOnlyClinicalAdmin
from patients.models import Episode, Patient
from patients.services import check_care_team


@admin.register(Patient)
class PatientAdmin(ClinicScopedAdmin):
    list_display = ["mrn", "last_name", "first_name", "birth_date", "clinic", "care_manager"]
    list_filter = ["clinic", "sex", "care_manager"]
    search_fields = ["mrn", "last_name", "first_name"]
    list_select_related = ["clinic", "care_manager"]
    autocomplete_fields = []
    raw_id_fields = ["pcp", "care_manager", "psychiatric_consultant"]
    readonly_fields = ["clinic", "created_at"]

    def has_add_permission(self, request):
        return False  # enrollment starts an episode: done in the app

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        check_care_team(obj.clinic, {f: getattr(obj, f) for f in ("care_manager", "pcp", "psychiatric_consultant")})
        super().save_model(request, obj, form, change)


@admin.register(Episode)
class EpisodeAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "patient__clinic"
    list_display = ["patient", "status", "enrolled_on", "discharged_on", "phq9_baseline", "phq9_latest"]
    list_filter = ["status", "discharge_reason", "patient__clinic"]
    search_fields = ["patient__mrn", "patient__last_name"]
    list_select_related = ["patient"]
    date_hierarchy = "enrolled_on"
