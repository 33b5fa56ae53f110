import contextlib

from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from accounts.mfa import reset_mfa
from accounts.models import Clinic, User
from accounts.scoping import in_users_clinics

# django-otp's own device pages would show every account's authenticator secret to whoever
# may view devices; a second factor is reset with the action below instead, never copied.
for _model in (TOTPDevice, StaticDevice):
    with contextlib.suppress(NotRegistered):
        admin.site.unregister(_model)


class ClinicScopedAdmin(SimpleHistoryAdmin):
    """Admin lists and pages show only the rows of the staff member's clinics (404 otherwise)."""

    clinic_path = "clinic"

    def get_queryset(self, request):
        return in_users_clinics(super().get_queryset(request), request.user, self.clinic_path).distinct()

    # simple_history's history pages look rows up in the history table, past get_queryset and
    # has_change_permission: without these checks they show another clinic's records, and a
    # POST to a past version saves it (a "revert") even where the admin is read-only.
    def history_view(self, request, object_id, extra_context=None):
        self._get_in_clinics_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._get_in_clinics_or_404(request, object_id)
        if request.method == "POST" and not self.has_change_permission(request, obj):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _get_in_clinics_or_404(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such record in your clinics.")
        return obj


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown in the admin, never added, changed or deleted there (logs, clinical rows, runs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyClinicalAdmin(ReadOnlyAdmin, ClinicScopedAdmin):
    """Clinical rows change only through the app's services (scoring, safety and summaries
    live there) and are never deleted; the admin shows them and their history."""


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
    list_filter = ["role", ("clinics", admin.RelatedOnlyFieldListFilter), "is_active", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = UserAdmin.fieldsets + (("CareReg", {"fields": ["role", "fte", "clinics"]}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("CareReg", {"fields": ["role", "fte", "clinics"]}),)
    filter_horizontal = ["clinics", "groups", "user_permissions"]
    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        # API clients' service accounts (fhirapi ApiClient.service_user) are left out, their
        # pages and password page included: they never log in (no usable password), and a
        # password given here would be a login with the client's rights in its clinic. They are
        # issued and revoked with their client, on the API clients page.
        return super().get_queryset(request).filter(api_client__isnull=True)

    @admin.action(
        description="Reset two-factor authentication (lost phone): set up again at next login", permissions=["change"]
    )
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            reset_mfa(user=user, by=request.user, reason=f"reset in the admin by {request.user.username}")
        self.message_user(
            request,
            f"Reset the second factor of {queryset.count()} account(s); their sessions ended. "
            "They set up a new authenticator app at their next login.",
            messages.SUCCESS,
        )

    # Only a superuser grants privileges or clinics beyond their own: a staff clinic admin
    # cannot make anyone (themselves included) a superuser or move them into another clinic.
    PRIVILEGE_FIELDS = ["is_superuser", "is_staff", "groups", "user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else fields + self.PRIVILEGE_FIELDS

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "clinics" and not request.user.is_superuser:
            kwargs["queryset"] = request.user.clinics.all()
        return super().formfield_for_manytomany(db_field, request, **kwargs)
