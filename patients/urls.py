from django.urls import path

from patients import plan_views, views

app_name = "patients"
urlpatterns = [
    path("enroll/", views.enroll, name="enroll"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/episodes/<int:episode_pk>/", views.detail, name="episode"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/status/", views.change_status, name="change_status"),
    path("<int:pk>/enroll-again/", views.reenroll, name="reenroll"),
    path("<int:pk>/initial-assessment/", plan_views.initial_assessment, name="initial_assessment"),
    path("<int:pk>/treatment-plan/", plan_views.treatment_plan, name="treatment_plan"),
    path("<int:pk>/treatment-plan/changes/new/", plan_views.plan_change, name="plan_change"),
    path(
        "plan-changes/<int:pk>/entered-in-error/",
        plan_views.plan_change_entered_in_error,
        name="plan_change_entered_in_error",
    ),
    path(
        "recommendations/<int:pk>/plan-change/",
        plan_views.plan_change_from_recommendation,
        name="plan_change_from_recommendation",
    ),
    path("<int:pk>/relapse-prevention-plan/", plan_views.relapse_plan, name="relapse_plan"),
    path("episodes/<int:pk>/relapse-prevention-plan/print/", plan_views.relapse_plan_print, name="relapse_plan_print"),
    path("suggested-discharges/", plan_views.suggested_discharges, name="suggested_discharges"),
    path("<int:pk>/discharge-for-no-contact/", plan_views.discharge_for_no_contact, name="discharge_for_no_contact"),
]
