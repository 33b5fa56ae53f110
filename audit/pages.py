"""Which pages read patient data, of what kind, and whose record each page's id names.

Every named URL of the project must be listed here (audit/tests/test_pages.py checks it
against the URLconf), so a page added later cannot be forgotten by the access log. A page
listed as NOT_LOGGED shows no patient data (a settings form, the login page).
"""

from dataclasses import dataclass
from functools import cache

from audit.models import Kind
from audit.paths import patient_path

NOT_LOGGED = None


@dataclass(frozen=True)
class Page:
    kind: Kind
    model: str | None = None  # "app_label.Model" the URL's id belongs to
    kwarg: str = "pk"


RECORD = Page(Kind.RECORD, "patients.Patient")
BY_PATIENT_PK = Page(Kind.RECORD, "patients.Patient", "patient_pk")
LIST = Page(Kind.LIST)
REPORT = Page(Kind.REPORT)
EXPORT = Page(Kind.EXPORT)
API = Page(Kind.API)
SELF_REPORT = Page(Kind.SELF_REPORT)

PAGES: dict[str, Page | None] = {
    "login": NOT_LOGGED,
    "logout": NOT_LOGGED,
    # accounts: the user's own sign-in and second factor
    "accounts:mfa_verify": NOT_LOGGED,
    "accounts:mfa_setup": NOT_LOGGED,
    "accounts:mfa_backup_codes": NOT_LOGGED,
    "accounts:account": NOT_LOGGED,
    "accounts:password_change": NOT_LOGGED,
    "accounts:renew_backup_codes": NOT_LOGGED,
    # patients
    "patients:enroll": NOT_LOGGED,  # a blank form; the new patient's page is logged next
    "patients:detail": RECORD,
    "patients:episode": RECORD,
    "patients:edit": RECORD,
    "patients:change_status": RECORD,
    "patients:reenroll": RECORD,
    "patients:initial_assessment": RECORD,
    "patients:treatment_plan": RECORD,
    "patients:plan_change": RECORD,
    "patients:plan_change_entered_in_error": Page(Kind.RECORD, "patients.PlanChange"),
    "patients:plan_change_from_recommendation": Page(Kind.RECORD, "consults.Recommendation"),
    "patients:relapse_plan": RECORD,
    "patients:relapse_plan_print": Page(Kind.PRINT, "patients.Episode"),
    "patients:suggested_discharges": LIST,
    "patients:discharge_for_no_contact": RECORD,
    # registry
    "registry:home": NOT_LOGGED,  # a redirect to the role's home page
    "registry:dashboard": LIST,  # a POST to it is a search (see kind_of)
    "registry:today": LIST,
    "registry:caseload_columns": NOT_LOGGED,  # the user's own column choice: no patient in it
    "registry:program": REPORT,
    "registry:record_contact": BY_PATIENT_PK,
    "registry:record_measurement": BY_PATIENT_PK,
    "registry:resolve_flag": Page(Kind.RECORD, "registry.Flag"),
    "registry:request_review": BY_PATIENT_PK,
    "registry:mark_flags_seen": BY_PATIENT_PK,
    "registry:reengagement": LIST,
    "registry:settings": NOT_LOGGED,
    "registry:contact_entered_in_error": Page(Kind.RECORD, "registry.Contact"),
    "registry:measurement_entered_in_error": Page(Kind.RECORD, "registry.Measurement"),
    "registry:billing_index": REPORT,
    "registry:billing": REPORT,
    "registry:billing_csv": EXPORT,
    "registry:outcomes": REPORT,
    "registry:outcomes_csv": EXPORT,
    "registry:outcomes_monthly_csv": EXPORT,
    "registry:caseload_size": REPORT,
    # consults
    "consults:agendas": LIST,
    "consults:build_now": LIST,
    "consults:agenda": LIST,
    "consults:add_item": LIST,
    "consults:remove_item": Page(Kind.RECORD, "consults.AgendaItem", "item_pk"),
    "consults:restore_item": Page(Kind.RECORD, "consults.AgendaItem", "item_pk"),
    "consults:move_item": Page(Kind.RECORD, "consults.AgendaItem", "item_pk"),
    "consults:set_question": Page(Kind.RECORD, "consults.AgendaItem", "item_pk"),
    "consults:record_review": BY_PATIENT_PK,
    "consults:update_session": LIST,
    "consults:save_questions": LIST,
    "consults:reorder": LIST,
    "consults:hold_meeting": LIST,
    "consults:notifications": LIST,  # the user's notices name patients
    "consults:notification_read": LIST,
    "consults:notifications_read": LIST,
    "consults:workspace": Page(Kind.RECORD, "consults.AgendaItem", "item_pk"),
    "consults:note": Page(Kind.RECORD, "consults.CaseReview"),
    "consults:save_note": Page(Kind.RECORD, "consults.CaseReview"),
    "consults:amend_note": Page(Kind.RECORD, "consults.CaseReview"),
    "consults:print_note": Page(Kind.PRINT, "consults.CaseReview"),
    "consults:start_note": BY_PATIENT_PK,
    "consults:recommendations": LIST,
    "consults:communicate": Page(Kind.RECORD, "consults.Recommendation"),
    "consults:respond": Page(Kind.RECORD, "consults.Recommendation"),
    "consults:implemented": Page(Kind.RECORD, "consults.Recommendation"),
    "consults:report": REPORT,
    "consults:pcp_home": LIST,
    # care
    "care:add_medication": BY_PATIENT_PK,
    "care:edit_medication": Page(Kind.RECORD, "care.Medication"),
    "care:stop_medication": Page(Kind.RECORD, "care.Medication"),
    "care:medication_entered_in_error": Page(Kind.RECORD, "care.Medication"),
    "care:add_referral": BY_PATIENT_PK,
    "care:referral_status": Page(Kind.RECORD, "care.Referral"),
    "care:referral_entered_in_error": Page(Kind.RECORD, "care.Referral"),
    "care:referrals_to_follow_up": LIST,
    "care:give_education": BY_PATIENT_PK,
    "care:education_given_entered_in_error": Page(Kind.RECORD, "care.EducationGiven"),
    "care:topics": NOT_LOGGED,  # the clinic's handout library: no patient in it
    "care:add_topic": NOT_LOGGED,
    "care:edit_topic": NOT_LOGGED,
    "care:print_topic": Page(Kind.PRINT),  # a blank handout, printed for a patient
    # selfreport: staff pages, then the patient's own (no account: the link's token)
    "selfreport:send": BY_PATIENT_PK,
    "selfreport:cancel": Page(Kind.RECORD, "selfreport.Invitation"),
    "selfreport:stop": Page(Kind.RECORD, "selfreport.Schedule"),
    "selfreport:start": SELF_REPORT,
    "selfreport:language": SELF_REPORT,
    "selfreport:questions": SELF_REPORT,
    "selfreport:done": SELF_REPORT,
    "selfreport:text_consent": BY_PATIENT_PK,
    "selfreport:text_withdraw": BY_PATIENT_PK,
    "selfreport:settings": NOT_LOGGED,  # a clinic's quiet hours: no patient in it
    "selfreport:sms_inbound": NOT_LOGGED,  # Twilio's call: no one reads patient data (consent history keeps STOP)
    "selfreport:sms_status": NOT_LOGGED,  # Twilio's delivery report: kept on the message itself
    # interchange
    "interchange:import": NOT_LOGGED,  # a write: ImportRun records it
    "interchange:import_job": NOT_LOGGED,  # the uploader's own background import: ImportRun records it
    "interchange:export_csv": EXPORT,  # ExportRun keeps the filters and row count beside it
    # fhirapi: ApiCallLog keeps the client and parameters' names; this log adds the patient
    "fhirapi:metadata": NOT_LOGGED,
    "fhirapi:patient_search": API,
    "fhirapi:patient_search_post": API,
    "fhirapi:patient": Page(Kind.API, "patients.Patient"),
    "fhirapi:patient_everything": Page(Kind.API, "patients.Patient"),
    "fhirapi:observation_search": API,
    "fhirapi:observation": Page(Kind.API, "registry.Measurement"),
    "fhirapi:questionnaire_responses": API,
    "fhirapi:questionnaire_response": Page(Kind.API, "registry.Measurement"),
    "fhirapi:smart_configuration": NOT_LOGGED,  # discovery: no patient in it
    "fhirapi:token": NOT_LOGGED,  # the token endpoint: ApiCallLog keeps each request
    "fhirapi:patient_export": EXPORT,  # the clinic's population, written by a worker
    "fhirapi:group_export": EXPORT,
    "fhirapi:export_status": NOT_LOGGED,  # progress and the manifest: file URLs, no patient data
    "fhirapi:export_file": EXPORT,  # each download of an export's file
    "fhirapi:unknown": NOT_LOGGED,  # an OperationOutcome saying there is no such endpoint
    # audit
    "audit:patient_access": REPORT,
    "audit:user_access": REPORT,
    "audit:emergency_list": REPORT,
    "audit:emergency": NOT_LOGGED,  # the view logs each attempt, against the patient its POST body names
    "audit:patient_history": Page(Kind.RECORD, "patients.Patient"),
}


def page_of(view_name: str, method: str) -> Page | None:
    """The page's entry; Django admin pages are found by their model (admin:<app>_<model>_<view>)."""
    if view_name.startswith("admin:"):
        return _admin_page(view_name.removeprefix("admin:"))
    page = PAGES.get(view_name)
    if page is not None and view_name == "registry:dashboard" and method == "POST":
        return Page(Kind.SEARCH)
    return page


@cache
def _admin_page(name: str) -> Page | None:
    from django.apps import apps

    for model in apps.get_models():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix) and patient_path(model) is not None:
            return Page(Kind.ADMIN, model._meta.label, "object_id")
    return None
