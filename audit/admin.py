from django.contrib import admin

from accounts.admin_scoping import ClinicScopedAdmin, ReadOnlyAdmin, ReadOnlyClinicalAdmin
from audit.models import AccessEvent, EmergencyAccess


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin, ClinicScopedAdmin):
    """View only: the database refuses changes and deletions anyway (audit/triggers.py)."""

    clinic_path = "clinic"
    list_display = ["at", "username", "kind", "url_name", "patient_id", "outcome", "status_code", "remote_addr"]
    list_filter = ["kind", "outcome", "at"]
    search_fields = ["username", "url_name"]
    date_hierarchy = "at"
    show_full_result_count = False  # the log grows without end: no second COUNT(*) per page


@admin.register(EmergencyAccess)
class EmergencyAccessAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "patient__clinic"
    list_display = ["granted_at", "expires_at", "user", "patient"]
    list_select_related = ["user", "patient"]
    date_hierarchy = "granted_at"
