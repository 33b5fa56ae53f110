from django.contrib import admin

from accounts.admin import ReadOnlyAdmin, ReadOnlyClinicalAdmin
from accounts.scoping import in_users_clinics
from audit.models import AccessEvent, EmergencyAccess


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    """View only: the database refuses changes and deletions anyway (audit/triggers.py)."""

    list_display = ["at", "username", "kind", "url_name", "patient_id", "outcome", "status_code", "remote_addr"]
    list_filter = ["kind", "outcome", "at"]
    search_fields = ["username", "url_name"]
    date_hierarchy = "at"
    show_full_result_count = False  # the log grows without end: no second COUNT(*) per page

    def get_queryset(self, request):
        return in_users_clinics(super().get_queryset(request), request.user, "clinic")


@admin.register(EmergencyAccess)
class EmergencyAccessAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "patient__clinic"
    list_display = ["granted_at", "expires_at", "user", "patient"]
    list_select_related = ["user", "patient"]
    date_hierarchy = "granted_at"
