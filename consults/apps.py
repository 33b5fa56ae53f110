from django.apps import AppConfig


class ConsultsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "consults"

    def ready(self):
        from consults import contributions  # noqa: F401  registers what consults adds to the apps below it
