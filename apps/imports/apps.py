from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "apps.imports"
    label = "imports"
    verbose_name = "Scheduled imports"

    def ready(self) -> None:
        # Hooks into purgesync (apps.queue sends the signal; it never imports this app).
        from . import receivers  # noqa: F401
