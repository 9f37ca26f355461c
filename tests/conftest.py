import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fast_hashes_and_clean_cache(settings):
    # The slow production hash is exercised on purpose in tests/sites/test_authentication.py.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()
