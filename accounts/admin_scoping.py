"""Who may do what in the Django admin: one set of rules, used by every app's admin.

Every registered ModelAdmin derives from ClinicScopedAdmin or SuperuserOnlyAdmin (a test
checks), so a page added later is scoped without anyone remembering to. The rules, as
docs/security.md#admin-permissions tells them to admins:

- a staff member sees the rows of her clinics only; another clinic's row is not found;
- she changes and deletes only rows wholly inside her clinics (an account that also works in
  another clinic is shown, read-only), and bulk actions run on such rows or not at all;
- a choice of clinic or person in a form offers only what she could open herself;
- writing a past version back ("revert") is a superuser's act, and some models (accounts)
  never allow it;
- the search box posts, and the text is kept in the session: names and MRNs never reach a URL,
  where servers, proxies and browsers write them down.
"""

import functools

from django.contrib import admin, messages
from django.contrib.admin.utils import lookup_spawns_duplicates, unquote
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from accounts.scoping import in_users_clinics, wholly_in_users_clinics

SEARCH_BUTTON = "_search"
CLEAR_BUTTON = "_clear_search"
SEARCH_MAX_LENGTH = 200


def _search_key(opts) -> str:
    return f"admin-search:{opts.label_lower}"


class PostedSearchChangeList(ChangeList):
    """The list filtered by the term kept in the session, not by one in the URL."""

    def get_queryset(self, request, exclude_parameters=None):
        self.query = request.session.get(_search_key(self.opts), "")
        return super().get_queryset(request, exclude_parameters)


class PostedSearchAdmin(admin.ModelAdmin):
    """The changelist's search box posts its text; the list keeps it until cleared."""

    change_list_template = "admin/carereg/change_list.html"

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and (SEARCH_BUTTON in request.POST or CLEAR_BUTTON in request.POST):
            term = "" if CLEAR_BUTTON in request.POST else request.POST.get(SEARCH_VAR, "").strip()
            request.session[_search_key(self.opts)] = term[:SEARCH_MAX_LENGTH]
            return HttpResponseRedirect(request.get_full_path())
        if SEARCH_VAR in request.GET:
            # Already written down on its way here; at least the admin does not act on it, so
            # no link, bookmark or history entry of a search by name is worth keeping.
            rest = request.GET.copy()
            del rest[SEARCH_VAR]
            return HttpResponseRedirect(f"{request.path}?{rest.urlencode()}" if rest else request.path)
        return super().changelist_view(request, extra_context)

    def get_changelist(self, request, **kwargs):
        return PostedSearchChangeList


class SuperuserOnlyAdmin(PostedSearchAdmin):
    """Pages about every clinic at once (sign-in lockouts, permission groups): superusers only."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class ClinicScopedAdmin(PostedSearchAdmin):
    """Rows of the staff member's clinics (404 otherwise); changes to rows wholly inside them.

    clinic_path leads from the model to Clinic ("clinic", "episode__patient__clinic",
    "clinics", "pk" for Clinic itself).
    """

    clinic_path = "clinic"

    def get_queryset(self, request):
        queryset = in_users_clinics(super().get_queryset(request), request.user, self.clinic_path)
        return queryset.distinct() if lookup_spawns_duplicates(self.opts, self.clinic_path) else queryset

    def manageable(self, request, queryset):
        """The rows of queryset this staff member may change, delete or act on."""
        return wholly_in_users_clinics(queryset, request.user, self.clinic_path)

    def may_manage(self, request, obj) -> bool:
        if request.user.is_superuser:
            return True
        return self.manageable(request, self.get_queryset(request).filter(pk=obj.pk)).exists()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self.may_manage(request, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or self.may_manage(request, obj))

    def get_field_queryset(self, db, db_field, request):
        """A form's choice of clinic or person: only what the staff member's own pages list."""
        related = self.admin_site._registry.get(db_field.remote_field.model)
        if isinstance(related, ClinicScopedAdmin):
            return related.get_queryset(request).using(db)
        return super().get_field_queryset(db, db_field, request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.is_superuser:
            return actions
        return {name: (self._on_manageable_rows_only(func), name, text) for name, (func, _, text) in actions.items()}

    def _on_manageable_rows_only(self, action):
        @functools.wraps(action)
        def guarded(model_admin, request, queryset):
            if queryset.exclude(pk__in=self.manageable(request, queryset).values("pk")).exists():
                self.message_user(
                    request,
                    "Nothing was done: some of the selected rows also belong to another clinic or "
                    "to a staff account, and only a superuser may change those.",
                    messages.ERROR,
                )
                return None
            return action(model_admin, request, queryset)

        return guarded


class ClinicScopedHistoryAdmin(ClinicScopedAdmin, SimpleHistoryAdmin):
    """Scoped, with django-simple-history's pages: each version, who and when.

    simple-history's pages look rows up in the history table, past get_queryset, and its
    "revert" writes a past version over the row: both are held to the rules here.
    """

    revertible = True  # False: no past version is ever written back, not even by a superuser

    def has_change_history_permission(self, request, obj=None):
        return self.revertible and request.user.is_superuser and self.has_change_permission(request, obj)

    def history_view(self, request, object_id, extra_context=None):
        self._get_in_clinics_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._get_in_clinics_or_404(request, object_id)
        if request.method == "POST" and not self.has_change_history_permission(request, obj):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _get_in_clinics_or_404(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such record in your clinics.")
        return obj


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown in the admin, never added, changed or deleted there (logs, clinical rows, runs).
    Put it first among the bases, before the scoped admin it narrows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyClinicalAdmin(ReadOnlyAdmin, ClinicScopedHistoryAdmin):
    """Clinical rows change only through the app's services (scoring, safety and summaries
    live there) and are never deleted; the admin shows them and their history."""
