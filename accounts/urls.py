from django.urls import path

from accounts import mfa_views

app_name = "accounts"

urlpatterns = [
    path("two-factor/", mfa_views.verify, name="mfa_verify"),
    path("two-factor/set-up/", mfa_views.setup, name="mfa_setup"),
    path("two-factor/backup-codes/", mfa_views.backup_codes, name="mfa_backup_codes"),
]
