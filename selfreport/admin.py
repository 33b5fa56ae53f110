from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter as RelatedOnly

from accounts.admin_scoping import ReadOnlyClinicalAdmin
from selfreport.models import Invitation, Schedule


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "episode__patient__clinic"
    list_display = ["episode", "instruments", "language", "origin", "sent_by", "sent_at", "expires_at", "used_at"]
    list_filter = ["origin", "language", ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "sent_by"]
    search_fields = ["episode__patient__mrn", "episode__patient__last_name"]
    exclude = ["token_hash"]
    date_hierarchy = "sent_at"


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "episode__patient__clinic"
    list_display = ["episode", "every_days", "instruments", "language", "next_due_on", "active", "created_by"]
    list_filter = ["active", ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "created_by"]
    search_fields = ["episode__patient__mrn", "episode__patient__last_name"]
