from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"

    def ready(self):
        from audit import checks, contributions  # noqa: F401  registers the deploy checks, and what audit adds below
        from audit.dbroles import apply_grants_after_migrate

        # Once per migrate, after every app's migrations: still connected as the owner.
        post_migrate.connect(apply_grants_after_migrate, sender=self, dispatch_uid="audit.apply_grants")
