from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter as RelatedOnly
from django.core.exceptions import ValidationError

from accounts.admin_scoping import ClinicScopedHistoryAdmin, ReadOnlyClinicalAdmin
from patients.forms import CARE_TEAM, CONTACT_DETAILS, DEMOGRAPHICS
from patients.models import Episode, InitialAssessment, Patient, PlanChange, RelapsePreventionPlan, TreatmentPlan
from patients.services import check_care_team


class PatientAdminForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = DEMOGRAPHICS + CONTACT_DETAILS + CARE_TEAM

    def clean(self):
        data = super().clean()
        try:
            check_care_team(self.instance.clinic, data)
        except ValidationError as error:
            self.add_error(None, error)
        return data


@admin.register(Patient)
class PatientAdmin(ClinicScopedHistoryAdmin):
    form = PatientAdminForm
    list_display = ["mrn", "last_name", "first_name", "birth_date", "clinic", "care_manager"]
    list_filter = [("clinic", RelatedOnly), "sex", ("care_manager", RelatedOnly)]
    search_fields = ["mrn", "last_name", "first_name"]
    list_select_related = ["clinic", "care_manager"]
    autocomplete_fields = []
    raw_id_fields = ["pcp", "care_manager", "psychiatric_consultant"]
    readonly_fields = ["clinic", "created_at"]

    def has_add_permission(self, request):
        return False  # enrollment starts an episode: done in the app

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Episode)
class EpisodeAdmin(ReadOnlyClinicalAdmin):
    clinic_path = "patient__clinic"
    list_display = ["patient", "status", "enrolled_on", "discharged_on", "phq9_baseline", "phq9_latest"]
    list_filter = ["status", "discharge_reason", ("patient__clinic", RelatedOnly)]
    search_fields = ["patient__mrn", "patient__last_name"]
    list_select_related = ["patient"]
    date_hierarchy = "enrolled_on"


class EpisodeChildAdmin(ReadOnlyClinicalAdmin):
    """A row of an episode (plans here; contacts, scores, flags, medications... in registry and
    care): written in the app, where the services check it; here it is read, with history."""

    clinic_path = "episode__patient__clinic"
    list_select_related = ["episode__patient"]
    search_fields = ["episode__patient__mrn", "episode__patient__last_name"]


@admin.register(InitialAssessment)
class InitialAssessmentAdmin(EpisodeChildAdmin):
    list_display = ["episode", "completed_on", "completed_by", "updated_at"]
    list_filter = [("episode__patient__clinic", RelatedOnly)]
    date_hierarchy = "completed_on"


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(EpisodeChildAdmin):
    list_display = ["episode", "target", "updated_by", "updated_at"]
    list_filter = [("episode__patient__clinic", RelatedOnly)]


@admin.register(PlanChange)
class PlanChangeAdmin(EpisodeChildAdmin):
    list_display = ["episode", "changed_on", "what_changed", "recommendation", "recorded_by", "entered_in_error_at"]
    list_filter = [("episode__patient__clinic", RelatedOnly)]
    list_select_related = ["episode__patient", "recommendation", "recorded_by"]
    date_hierarchy = "changed_on"


@admin.register(RelapsePreventionPlan)
class RelapsePreventionPlanAdmin(EpisodeChildAdmin):
    list_display = ["episode", "completed_on", "completed_by", "updated_at"]
    list_filter = [("episode__patient__clinic", RelatedOnly)]
    date_hierarchy = "completed_on"
