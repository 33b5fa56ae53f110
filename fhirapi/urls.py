from django.urls import path

from fhirapi import views

app_name = "fhirapi"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient", views.patient_search, name="patient_search"),
    path("Patient/_search", views.patient_search_post, name="patient_search_post"),
    path("Patient/<int:pk>", views.patient_read, name="patient"),
    path("Patient/<int:pk>/$everything", views.patient_everything, name="patient_everything"),
    path("Observation", views.observation_search, name="observation_search"),
    path("Observation/<int:pk>", views.observation_read, name="observation"),
    path("QuestionnaireResponse", views.questionnaire_response_create, name="questionnaire_responses"),
    path("QuestionnaireResponse/<int:pk>", views.questionnaire_response_read, name="questionnaire_response"),
]
