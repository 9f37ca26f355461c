from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "apps.imports"
    label = "imports"
    verbose_name = "Scheduled imports"

    def ready(self) -> None:
        # Hooks into purgesync and demodata (apps.queue sends the signals; it never imports this app).
        from . import receivers  # noqa: F401
