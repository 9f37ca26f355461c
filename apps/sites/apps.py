from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_primary_site(**kwargs: Any) -> None:
    """Site 1 is the primary. The first migration creates it; this puts it back after a database flush
    (which test runs with real transactions do), since nothing else would."""
    from .models import PRIMARY_SITE_ID, Site

    Site.objects.get_or_create(id=PRIMARY_SITE_ID, defaults={"name": "primary", "is_active": True})


class SitesConfig(AppConfig):
    name = "apps.sites"
    label = "sites"
    verbose_name = "Sites, stores and users"

    def ready(self) -> None:
        post_migrate.connect(ensure_primary_site, sender=self)
