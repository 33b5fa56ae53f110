from django.urls import path

from registry import views

app_name = "registry"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("patients/<int:patient_pk>/contacts/new/", views.record_contact, name="record_contact"),
    path("patients/<int:patient_pk>/scores/<str:instrument>/new/", views.record_measurement, name="record_measurement"),
    path("flags/<int:pk>/resolve/", views.resolve_flag, name="resolve_flag"),
    path("patients/<int:patient_pk>/request-review/", views.request_review, name="request_review"),
    path("re-engagement/", views.reengagement, name="reengagement"),
    path("settings/", views.registry_settings, name="settings"),
    path("contacts/<int:pk>/entered-in-error/", views.contact_entered_in_error, name="contact_entered_in_error"),
    path("scores/<int:pk>/entered-in-error/", views.measurement_entered_in_error, name="measurement_entered_in_error"),
]
