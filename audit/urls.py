from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("who-accessed-a-patient/", views.patient_access, name="patient_access"),
    path("what-a-user-accessed/", views.user_access, name="user_access"),
    path("emergency-accesses/", views.emergency_list, name="emergency_list"),
    path("emergency-access/", views.emergency_access, name="emergency"),
    path("patients/<int:pk>/history/", views.patient_history, name="patient_history"),
]
