from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Clinic, User
from accounts.scoping import in_users_clinics


class ClinicScopedAdmin(SimpleHistoryAdmin):
    """Admin lists and pages show only the rows of the staff member's clinics (404 otherwise)."""

    clinic_path = "clinic"

    def get_queryset(self, request):
        return in_users_clinics(super().get_queryset(request), request.user, self.clinic_path).distinct()


class ReadOnlyClinicalAdmin(ClinicScopedAdmin):
    """Clinical rows change only through the app's services (scoring, safety and summaries
    live there) and are never deleted; the admin shows them and their history."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Clinic)
class ClinicAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "timezone", "population"]
    search_fields = ["code", "name"]
    list_filter = ["population"]

    def get_queryset(self, request):
        return in_users_clinics(super().get_queryset(request), request.user, "pk")


@admin.register(User)
class StaffAdmin(UserAdmin, ClinicScopedAdmin):
    clinic_path = "clinics"
    list_display = ["username", "first_name", "last_name", "role", "fte", "is_active", "is_staff"]
    list_filter = ["role", "clinics", "is_active", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = UserAdmin.fieldsets + (("CareReg", {"fields": ["role", "fte", "clinics"]}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("CareReg", {"fields": ["role", "fte", "clinics"]}),)
    filter_horizontal = ["clinics", "groups", "user_permissions"]
