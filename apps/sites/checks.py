"""A warning when a per-process cache would keep a changed site in some workers and not others."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register

PER_PROCESS_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register()
def check_site_cache_is_shared(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.SYNC_AUTH_SITE_CACHE_SECONDS > 0 and backend in PER_PROCESS_BACKENDS:
        return [
            Warning(
                f"SYNC_AUTH_SITE_CACHE_SECONDS is {settings.SYNC_AUTH_SITE_CACHE_SECONDS} with a cache of "
                "each process's own (CACHE_URL): a site deactivated, given a new password or a new device "
                "keeps its old row in the other workers for that long.",
                hint="Leave CACHE_URL unset (the database cache) or point it at memcached or redis, or set "
                "SYNC_AUTH_SITE_CACHE_SECONDS=0.",
                id="sites.W001",
            )
        ]
    return []
