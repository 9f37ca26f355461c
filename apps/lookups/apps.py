from django.apps import AppConfig


class LookupsConfig(AppConfig):
    name = "apps.lookups"
    label = "lookups"
    verbose_name = "Online look-ups"

    def ready(self) -> None:
        from apps.records.services import AFTER_WRITE_HOOKS

        from .indexing import index_written

        if index_written not in AFTER_WRITE_HOOKS:
            AFTER_WRITE_HOOKS.append(index_written)
