from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"
    verbose_name = "Sync API"

    def ready(self) -> None:
        from django.core.signals import request_finished

        import syncserver.checks  # noqa: F401 - registers the deploy checks

        from . import openapi  # noqa: F401 - registers the OpenAPI descriptions of the views
        from .synclog import write_pending_logs

        request_finished.connect(write_pending_logs, dispatch_uid="api.write_pending_logs")
