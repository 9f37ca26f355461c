from django.apps import AppConfig


class TableSyncConfig(AppConfig):
    name = "apps.tablesync"
    label = "tablesync"
    verbose_name = "Table sync"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
