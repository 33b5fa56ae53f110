from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from accounts import mfa_views
from accounts.middleware import mfa_not_required

# The admin needs a session verified with the second factor (django-otp), as every page does;
# its own login page gives way to the app's, which asks for the code.
admin.site.__class__ = OTPAdminSite

admin.site.site_header = "CareReg administration"
admin.site.site_title = "CareReg admin"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", mfa_not_required(auth_views.LogoutView.as_view()), name="logout"),
    path("account/", include("accounts.urls")),
    path("admin/login/", mfa_views.admin_login),
    path("admin/", admin.site.urls),
    path("patients/", include("patients.urls")),
    path("data/", include("interchange.urls")),
    path("reviews/", include("consults.urls")),
    path("care/", include("care.urls")),
    path("fhir/", include("fhirapi.urls")),
    path("audit/", include("audit.urls")),
    path("", include("selfreport.urls")),
    path("", include("registry.urls")),
]

# Drawn without the database; says what a save just before it saved (carereg/errors.py).
handler500 = "carereg.errors.server_error"
