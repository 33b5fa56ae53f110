from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "CareReg administration"
admin.site.site_title = "CareReg admin"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("patients/", include("patients.urls")),
    path("data/", include("interchange.urls")),
    path("reviews/", include("consults.urls")),
    path("care/", include("care.urls")),
    path("fhir/", include("fhirapi.urls")),
    path("", include("selfreport.urls")),
    path("", include("registry.urls")),
]
