from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


def ensure_primary_site(**kwargs: Any) -> None:
    """Site 1 is the primary. The first migration creates it; this puts it back after a database flush
    (which test runs with real transactions do), since nothing else would."""
    from .models import PRIMARY_SITE_ID, Site

    Site.objects.get_or_create(id=PRIMARY_SITE_ID, defaults={"name": "primary", "is_active": True})


def create_cache_tables(using: str = "default", **kwargs: Any) -> None:
    """The database cache (the default, syncserver/settings.py) needs its table: `migrate` makes it, so
    a fresh clone, the demo and the tests have it. Tables that exist are left alone."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class SitesConfig(AppConfig):
    name = "apps.sites"
    label = "sites"
    verbose_name = "Sites, stores and users"

    def ready(self) -> None:
        from .authentication import forget_site
        from .models import Site

        post_migrate.connect(ensure_primary_site, sender=self)
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="sites.create_cache_tables")
        from . import checks  # noqa: F401  (registers the system checks)

        def forget(sender: type, instance: Site, **kwargs: Any) -> None:
            forget_site(instance.name)

        # A saved or deleted site must not stay cached for authentication.
        post_save.connect(forget, sender=Site, weak=False, dispatch_uid="sites.forget_saved_site")
        post_delete.connect(forget, sender=Site, weak=False, dispatch_uid="sites.forget_deleted_site")
