from django.urls import path

from care import views

app_name = "care"
urlpatterns = [
    path("patients/<int:patient_pk>/medications/new/", views.add_medication, name="add_medication"),
    path("medications/<int:pk>/edit/", views.edit_medication, name="edit_medication"),
    path("medications/<int:pk>/stop/", views.stop_medication, name="stop_medication"),
    path(
        "medications/<int:pk>/entered-in-error/",
        views.medication_entered_in_error,
        name="medication_entered_in_error",
    ),
    path("patients/<int:patient_pk>/referrals/new/", views.add_referral, name="add_referral"),
    path("referrals/<int:pk>/status/", views.referral_status, name="referral_status"),
    path("referrals/<int:pk>/entered-in-error/", views.referral_entered_in_error, name="referral_entered_in_error"),
    path("referrals/follow-up/", views.referrals_to_follow_up, name="referrals_to_follow_up"),
    path("patients/<int:patient_pk>/education/new/", views.give_education, name="give_education"),
    path(
        "education-given/<int:pk>/entered-in-error/",
        views.education_given_entered_in_error,
        name="education_given_entered_in_error",
    ),
    path("education/", views.topic_list, name="topics"),
    path("education/new/", views.add_topic, name="add_topic"),
    path("education/<int:pk>/edit/", views.edit_topic, name="edit_topic"),
    path("education/<int:pk>/handout/", views.print_topic, name="print_topic"),
]
