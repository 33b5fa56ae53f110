from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        # Connects the login-time receiver before any login, including tests' force_login.
        from accounts import sessions  # noqa: F401
