from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RecordsConfig(AppConfig):
    name = "apps.records"
    label = "records"
    verbose_name = "Records"

    def ready(self) -> None:
        from .registry_sync import sync_registry_after_migrate

        post_migrate.connect(sync_registry_after_migrate, sender=self)
