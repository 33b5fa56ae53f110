from django.urls import path

from interchange import views

app_name = "interchange"
urlpatterns = [
    path("import/", views.upload, name="import"),
    path("import/jobs/<int:pk>/", views.import_job, name="import_job"),
    path("export.csv", views.download, name="export_csv"),
]
