from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter as RelatedOnly

from accounts.admin_scoping import ReadOnlyClinicalAdmin
from selfreport.models import Delivery, Invitation, Schedule, TextConsent


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "episode__patient__clinic"
    list_display = [
        "episode",
        "instruments",
        "language",
        "channel",
        "origin",
        "sent_by",
        "sent_at",
        "expires_at",
        "used_at",
    ]
    list_filter = ["origin", "channel", "language", ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "sent_by"]
    search_fields = ["episode__patient__mrn", "episode__patient__last_name"]
    date_hierarchy = "sent_at"


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "episode__patient__clinic"
    list_display = ["episode", "every_days", "instruments", "channel", "next_due_on", "active", "created_by"]
    list_filter = ["active", "channel", ("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "created_by"]
    search_fields = ["episode__patient__mrn", "episode__patient__last_name"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "invitation__episode__patient__clinic"
    list_display = ["invitation", "kind", "channel", "status", "send_after", "sent_at", "attempts", "detail"]
    list_filter = ["status", "channel", "kind", ("invitation__episode__patient__clinic", RelatedOnly)]
    list_select_related = ["invitation"]
    search_fields = ["invitation__episode__patient__mrn", "invitation__episode__patient__last_name"]
    exclude = ["token_hash"]
    date_hierarchy = "created_at"


@admin.register(TextConsent)
class TextConsentAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "patient__clinic"
    list_display = ["patient", "status", "source", "changed_at", "changed_by"]
    list_filter = ["status", "source", ("patient__clinic", RelatedOnly)]
    list_select_related = ["patient", "changed_by"]
    search_fields = ["patient__mrn", "patient__last_name"]
