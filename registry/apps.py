from django.apps import AppConfig


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registry"

    def ready(self):
        from registry import contributions  # noqa: F401  registers what the registry adds to the apps below it
        from registry.figures_cache import forget_figures_on_saves

        forget_figures_on_saves()
