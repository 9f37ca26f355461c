from django.apps import AppConfig
from django.db.models.signals import post_save


class QueueConfig(AppConfig):
    name = "apps.queue"
    label = "queue"
    verbose_name = "Sync queues"

    def ready(self) -> None:
        from apps.sites.models import Store

        from .stores import write_store_record

        post_save.connect(write_store_record, sender=Store, dispatch_uid="queue.write_store_record")
