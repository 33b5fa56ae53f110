from django.contrib import admin

from accounts.admin_scoping import ClinicScopedAdmin, ReadOnlyAdmin
from interchange.models import ExportRun, ImportRun


class RunAdmin(ReadOnlyAdmin, ClinicScopedAdmin):
    """Audit rows: read-only, and a clinic admin sees the runs that touched their clinics."""

    clinic_path = "clinics"
    date_hierarchy = "at"
    search_fields = ["by_username"]
    filter_horizontal = []

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("clinics")

    @admin.display(description="Clinics")
    def clinic_codes(self, run) -> str:
        return ", ".join(sorted(clinic.code for clinic in run.clinics.all()))


@admin.register(ImportRun)
class ImportRunAdmin(RunAdmin):
    list_display = [
        "at",
        "by_username",
        "how",
        "clinic_codes",
        "succeeded",
        "error_count",
        "rows_read",
        "patients_created",
        "episodes_created",
        "contacts_created",
        "measurements_created",
        "reviews_created",
    ]
    list_filter = ["succeeded", "how"]


@admin.register(ExportRun)
class ExportRunAdmin(RunAdmin):
    list_display = ["at", "by_username", "how", "clinic_codes", "patient_count", "filters"]
    list_filter = ["how"]
