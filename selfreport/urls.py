from django.urls import path

from selfreport import views

app_name = "selfreport"

urlpatterns = [
    path("patients/<int:patient_pk>/self-report/send/", views.send, name="send"),
    path("self-report/links/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("self-report/schedules/<int:pk>/stop/", views.stop, name="stop"),
    # The patient's pages: the token is the path, never a query string.
    path("r/<str:token>/", views.start, name="start"),
    path("r/<str:token>/language/", views.switch_language, name="language"),
    path("r/<str:token>/questions/", views.questions, name="questions"),
    path("r/<str:token>/done/", views.done, name="done"),
]
