from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter as RelatedOnly

from accounts.admin_scoping import ReadOnlyClinicalAdmin
from consults.models import Agenda, AgendaItem, CaseReview


@admin.register(CaseReview)
class CaseReviewAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "episode__patient__clinic"
    list_display = ["episode", "reviewed_on", "consultant", "recorded_by"]
    list_filter = [("episode__patient__clinic", RelatedOnly), ("consultant", RelatedOnly)]
    list_select_related = ["episode__patient", "consultant", "recorded_by"]
    search_fields = ["episode__patient__mrn", "episode__patient__last_name"]
    date_hierarchy = "reviewed_on"


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    fields = ["position", "episode", "reasons", "note", "added_by", "removed_at", "removed_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Agenda)
class AgendaAdmin(ReadOnlyClinicalAdmin):
    """Agendas are built and edited in the app (Caseload reviews); here they are read, with history."""

    list_display = ["week_of", "clinic", "care_manager", "consultant", "built_at"]
    list_filter = [("clinic", RelatedOnly), ("care_manager", RelatedOnly), ("consultant", RelatedOnly)]
    list_select_related = ["clinic", "care_manager", "consultant"]
    date_hierarchy = "week_of"
    search_fields = ["care_manager__last_name", "consultant__last_name", "items__episode__patient__mrn"]
    inlines = [AgendaItemInline]
