from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter as RelatedOnly
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from accounts.admin_scoping import ClinicScopedAdmin, ClinicScopedHistoryAdmin, ReadOnlyAdmin
from fhirapi.clients import issue_api_client, revoke_api_client
from fhirapi.models import ApiCallLog, ApiClient

ISSUED_FIELDS = ["client_id", "service_account", "created_by", "created_at", "last_used_at", "revoked_at"]


@admin.register(ApiClient)
class ApiClientAdmin(ClinicScopedHistoryAdmin):
    """Issue a client here: its token is shown once, on the page after saving, and never again."""

    revertible = False  # a past version would bring a revoked token back to life

    list_display = ["name", "clinic", "scope", "uses_keys", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter), ("clinic", RelatedOnly)]
    list_select_related = ["clinic", "created_by"]
    search_fields = ["name"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        # A key set is registered when the client is added, and replaced (rotated) later only
        # on a client that has one: a static-token client stays one.
        if obj is None:
            return ["name", "clinic", "scope", "jwks"]
        return ["name", "clinic", "scope"] + (["jwks"] if obj.uses_keys else []) + ISSUED_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["clinic", *ISSUED_FIELDS]

    @admin.display(boolean=True, description="SMART keys")
    def uses_keys(self, obj: ApiClient) -> bool:
        return obj.uses_keys

    @admin.display(description="Service account")
    def service_account(self, obj: ApiClient) -> str:
        # Plain text, not a link: the user admin leaves service accounts out, so no page to open.
        return obj.service_user.username if obj.service_user_id else self.get_empty_value_display()

    def save_model(self, request, obj, form, change):
        if change:
            obj._history_user = request.user
            obj.save()
        else:
            request.issued_token = issue_api_client(client=obj, by=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "client": obj,
            "token": request.issued_token,
            "token_url": request.build_absolute_uri(reverse("fhirapi:token")),
            "title": "API token issued" if request.issued_token else "API client registered",
        }
        response = TemplateResponse(request, "fhirapi/token_issued.html", context)
        add_never_cache_headers(response)
        return response

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the client's calls stay on record

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Revoke the selected clients' tokens", permissions=["change"])
    def revoke(self, request, queryset):
        for client in queryset:
            revoke_api_client(client=client, by=request.user)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")


@admin.register(ApiCallLog)
class ApiCallLogAdmin(ReadOnlyAdmin, ClinicScopedAdmin):
    """Every API call: read-only; a clinic admin sees the calls of their clinics' clients."""

    clinic_path = "client__clinic"
    list_display = ["at", "client", "method", "path", "parameters", "status_code", "remote_addr"]
    list_filter = ["status_code", "method", "resource_type"]
    list_select_related = ["client__clinic"]
    date_hierarchy = "at"
