from django.apps import AppConfig


class CareConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "care"
    verbose_name = "Care: medications, interventions, referrals, education"

    def ready(self):
        from care import contributions  # noqa: F401  registers what care adds to the apps below it
