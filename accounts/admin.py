import contextlib

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.admin_scoping import ClinicScopedHistoryAdmin, SuperuserOnlyAdmin
from accounts.mfa import reset_mfa
from accounts.models import Clinic, User

# django-otp's own device pages would show every account's authenticator secret to whoever
# may view devices; a second factor is reset with the action below instead, never copied.
for _model in (TOTPDevice, StaticDevice):
    with contextlib.suppress(NotRegistered):
        admin.site.unregister(_model)


# Permission groups apply in every clinic, and the lockout pages name every clinic's staff and
# the addresses they sign in from: superusers' pages, whatever permissions a clinic admin holds.
_SUPERUSERS_ONLY = {
    Group: GroupAdmin,
    AccessAttempt: axes_admin.AccessAttemptAdmin,
    AccessLog: axes_admin.AccessLogAdmin,
    AccessFailureLog: axes_admin.AccessFailureLogAdmin,
}
for _model, _admin_class in _SUPERUSERS_ONLY.items():
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
        admin.site.register(_model, type(_admin_class.__name__, (SuperuserOnlyAdmin, _admin_class), {}))


@admin.register(Clinic)
class ClinicAdmin(ClinicScopedHistoryAdmin):
    """A clinic admin keeps her clinics' names, time zones and population up to date; clinics
    are opened (manage.py create_clinic) and closed by superusers."""

    clinic_path = "pk"
    list_display = ["code", "name", "timezone", "population"]
    search_fields = ["code", "name"]
    list_filter = ["population"]

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(User)
class StaffAdmin(UserAdmin, ClinicScopedHistoryAdmin):
    """Accounts: a clinic admin manages those wholly inside her clinics that are not staff;
    the others (an account that also works elsewhere, any staff or superuser) she sees, read-only."""

    clinic_path = "clinics"
    # A past version of an account would bring back its privileges, password or ended sessions.
    revertible = False
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

    def manageable(self, request, queryset):
        queryset = super().manageable(request, queryset)
        return queryset if request.user.is_superuser else queryset.filter(is_staff=False, is_superuser=False)

    def has_delete_permission(self, request, obj=None):
        # An account is deactivated, never deleted, but by a superuser: its name stays on
        # everything it did.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

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

    # Only a superuser grants privileges: a clinic admin cannot make anyone (herself included)
    # staff or a superuser, nor give groups or permissions.
    PRIVILEGE_FIELDS = ["is_superuser", "is_staff", "groups", "user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else fields + self.PRIVILEGE_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not request.user.is_superuser and "clinics" in form.base_fields:
            # An account she manages stays in one of her clinics: one in none would be no
            # clinic admin's, only a superuser's.
            form.base_fields["clinics"].required = True
        return form
