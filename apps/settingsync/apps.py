from django.apps import AppConfig


class SettingsSyncConfig(AppConfig):
    name = "apps.settingsync"
    label = "settingsync"
    verbose_name = "Settings documents"
