from django.apps import AppConfig


class PatientsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "patients"

    def ready(self):
        # In ready(): the plans' page imports models, which Django loads only after the apps.
        from patients.panels import register_panel
        from patients.plan_views import plans_panel

        register_panel(20, plans_panel)  # the page's own plans, between the registry's panel and the reviews
