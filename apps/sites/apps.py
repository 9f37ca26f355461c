from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


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
        from .authentication import forget_site
        from .models import Site

        post_migrate.connect(ensure_primary_site, sender=self)

        def forget(sender: type, instance: Site, **kwargs: Any) -> None:
            forget_site(instance.name)

        # A saved or deleted site must not stay cached for authentication.
        post_save.connect(forget, sender=Site, weak=False, dispatch_uid="sites.forget_saved_site")
        post_delete.connect(forget, sender=Site, weak=False, dispatch_uid="sites.forget_deleted_site")
