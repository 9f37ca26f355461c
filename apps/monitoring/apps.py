from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = "Sync health"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from apps.queue.signals import purge_requested, sync_call_logged

        from .receivers import count_admin_login_failure, count_call, purge_rollup

        sync_call_logged.connect(count_call, dispatch_uid="monitoring.count_call")
        purge_requested.connect(purge_rollup, dispatch_uid="monitoring.purge_rollup")
        user_login_failed.connect(count_admin_login_failure, dispatch_uid="monitoring.admin_login_failed")
