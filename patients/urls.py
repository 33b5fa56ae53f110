from django.urls import path

from patients import views

app_name = "patients"
urlpatterns = [
    path("enroll/", views.enroll, name="enroll"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/episodes/<int:episode_pk>/", views.detail, name="episode"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/status/", views.change_status, name="change_status"),
    path("<int:pk>/enroll-again/", views.reenroll, name="reenroll"),
]
