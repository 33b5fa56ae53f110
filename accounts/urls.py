from django.urls import path

from accounts import account_views, mfa_views

app_name = "accounts"

urlpatterns = [
    path("", account_views.account, name="account"),
    path("password/", account_views.PasswordChange.as_view(), name="password_change"),
    path("two-factor/backup-codes/new/", account_views.renew_backup_codes, name="renew_backup_codes"),
    path("two-factor/", mfa_views.verify, name="mfa_verify"),
    path("two-factor/set-up/", mfa_views.setup, name="mfa_setup"),
    path("two-factor/backup-codes/", mfa_views.backup_codes, name="mfa_backup_codes"),
]
