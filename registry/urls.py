from django.urls import path, register_converter

from registry import billing_views, outcome_views, views

register_converter(billing_views.MonthConverter, "month")

app_name = "registry"
urlpatterns = [
    path("", views.home, name="home"),
    path("caseload/", views.dashboard, name="dashboard"),
    path("caseload/today/", views.today_list, name="today"),
    path("caseload/columns/", views.caseload_columns, name="caseload_columns"),
    path("program/", views.program, name="program"),
    path("patients/<int:patient_pk>/contacts/new/", views.record_contact, name="record_contact"),
    path("patients/<int:patient_pk>/scores/<str:instrument>/new/", views.record_measurement, name="record_measurement"),
    path("flags/<int:pk>/resolve/", views.resolve_flag, name="resolve_flag"),
    path("patients/<int:patient_pk>/request-review/", views.request_review, name="request_review"),
    path("patients/<int:patient_pk>/flags/seen/", views.mark_flags_seen, name="mark_flags_seen"),
    path("re-engagement/", views.reengagement, name="reengagement"),
    path("settings/", views.registry_settings, name="settings"),
    path("contacts/<int:pk>/entered-in-error/", views.contact_entered_in_error, name="contact_entered_in_error"),
    path("scores/<int:pk>/entered-in-error/", views.measurement_entered_in_error, name="measurement_entered_in_error"),
    path("billing/", billing_views.billing_index, name="billing_index"),
    path("billing/<month:month>/", billing_views.billing_report, name="billing"),
    path("billing/<month:month>/csv/", billing_views.billing_csv, name="billing_csv"),
    path("reports/outcomes/", outcome_views.outcomes, name="outcomes"),
    path("reports/outcomes.csv", outcome_views.outcomes_csv, name="outcomes_csv"),
    path("reports/outcomes-monthly.csv", outcome_views.outcomes_monthly_csv, name="outcomes_monthly_csv"),
    path("caseload-size/", billing_views.caseload_size_report, name="caseload_size"),
]
