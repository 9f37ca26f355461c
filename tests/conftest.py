import contextlib

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

from apps.sites.models import Site
from tests.support import SyncClient, client_for, make_site


@pytest.fixture(autouse=True)
def _fast_hashes_and_clean_cache(settings):
    # The slow production hash is exercised on purpose in tests/sites/test_authentication.py.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Before each test only: a test may leave the database unusable (a patched cursor) until its own
    # fixtures are undone.
    clear_caches()


def clear_caches() -> None:
    for alias in django_settings.CACHES:
        # The database cache, in a test without database access, refuses: it cannot have been used either.
        with contextlib.suppress(RuntimeError):
            caches[alias].clear()


@pytest.fixture(scope="session")
def _imports_root(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("imports")


@pytest.fixture(autouse=True)
def _imports_outside_the_checkout(settings, _imports_root):
    # The demo copies its example CSV under IMPORTS_FILE_ROOT: never into the checkout during tests.
    settings.IMPORTS_FILE_ROOT = _imports_root


# Shared by the behaviour suites: every v2/v3 test runs once per version, against site 2 (store STORE2)
# and, where a second satellite is needed, site 3 (store STORE3).
@pytest.fixture(params=["v2", "v3"])
def version(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def site2() -> Site:
    return make_site(2)


@pytest.fixture
def sat(site2: Site, version: str) -> SyncClient:
    return client_for(site2, version=version)


@pytest.fixture
def other(version: str) -> SyncClient:
    return client_for(make_site(3), version=version)
