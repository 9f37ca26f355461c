"""The default cache is shared by every worker (the database cache), and its table comes with `migrate`."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from apps.sites.checks import check_site_cache_is_shared

pytestmark = pytest.mark.django_db


@pytest.mark.skipif("CACHE_URL" in os.environ, reason="CACHE_URL names another cache")
def test_the_default_cache_is_the_database_cache_and_migrate_makes_its_table(settings):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    table = settings.CACHES["default"]["LOCATION"]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
    assert table not in connection.introspection.table_names()
    call_command("migrate", verbosity=0)
    assert table in connection.introspection.table_names()
    cache.set("shared", "by every worker")
    assert cache.get("shared") == "by every worker"


def test_a_cached_site_row_in_a_cache_of_each_process_is_warned_about(settings):
    settings.SYNC_AUTH_SITE_CACHE_SECONDS = 5
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in check_site_cache_is_shared()] == ["sites.W001"]
    settings.SYNC_AUTH_SITE_CACHE_SECONDS = 0
    assert check_site_cache_is_shared() == []


def test_a_cached_site_row_in_a_shared_cache_is_fine(settings):
    settings.SYNC_AUTH_SITE_CACHE_SECONDS = 5
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "syncserver_cache"}
    }
    assert check_site_cache_is_shared() == []
