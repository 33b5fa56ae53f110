from django.urls import path

from fhirapi import export_views, smart_views, views

app_name = "fhirapi"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path(".well-known/smart-configuration", smart_views.smart_configuration, name="smart_configuration"),
    path("auth/token", smart_views.token, name="token"),
    path("Patient", views.patient_search, name="patient_search"),
    path("Patient/_search", views.patient_search_post, name="patient_search_post"),
    path("Patient/<int:pk>", views.patient_read, name="patient"),
    path("Patient/<int:pk>/$everything", views.patient_everything, name="patient_everything"),
    path("Observation", views.observation_search, name="observation_search"),
    path("Observation/<int:pk>", views.observation_read, name="observation"),
    path("QuestionnaireResponse", views.questionnaire_responses, name="questionnaire_responses"),
    path("QuestionnaireResponse/<int:pk>", views.questionnaire_response_read, name="questionnaire_response"),
    path("Patient/$export", export_views.patient_export, name="patient_export"),
    path("Group/<str:code>/$export", export_views.group_export, name="group_export"),
    path("bulk-export/<uuid:key>", export_views.export_status, name="export_status"),
    path("bulk-export/<uuid:key>/<str:name>", export_views.export_file, name="export_file"),
    # Last: any other URL under the base is a logged OperationOutcome, not Django's HTML 404.
    path("<path:path>", views.unknown_endpoint, name="unknown"),
]
