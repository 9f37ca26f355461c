"""Authentication of sites and users by the SHA-256 hex of their password, and of API keys.

How credentials arrive (headers, the v1 legacy options) is the API's business (apps/api/authentication.py).

The slow salted hash is checked once; a success is then remembered in this process for a short time
(the `verified_credentials` cache), keyed by an HMAC of the credential and the stored hash. Changing the
password changes the stored hash and so invalidates the remembered success at once in every process:
the site row it is checked against is read fresh (or from the shared default cache, which every change
of a site clears). Failed logins are
counted per name and client address in the database and refused with 429 for a while (lockout.py).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.core.cache import cache, caches
from django.utils import timezone

from .lockout import TooManyFailures, check_not_locked, record_failure
from .models import ApiKey, Site, SyncUser

# Every API key starts with this, so a leaked one is recognisable (and secret scanners can match it).
API_KEY_PREFIX = "ssk_"

__all__ = ["AuthenticationFailed", "HardwareMismatch", "TooManyFailures", "site_authenticate"]


class AuthenticationFailed(Exception):
    """Credentials missing, malformed or wrong: 401."""

    challenge = 'Basic realm="sync"'


class ApiKeyRefused(AuthenticationFailed):
    """An API key missing, unknown, revoked or without the scope the API needs: 401."""

    challenge = 'Bearer realm="api"'


class HardwareMismatch(Exception):
    """The request comes from another device than the one the site is bound to."""


def _success_key(kind: str, username: str, secret: str, password_hash: str) -> str:
    message = "\0".join((kind, username, secret, password_hash)).encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"auth-ok:{digest}"


@functools.cache
def _dummy_hash(hasher: str) -> str:
    return make_password("no account has this password", hasher=hasher)


def spend_the_cost_of_a_check(secret: str) -> None:
    """Run the slow hash against a dummy, so an unknown or inactive name costs what a real one does
    and response times do not tell which names exist."""
    check_password(secret, _dummy_hash(get_hasher().algorithm))


def refuse(*, name: str, address: str, message: str) -> AuthenticationFailed:
    record_failure(name=name, address=address)
    return AuthenticationFailed(message)


def verify_secret(*, account: Site | SyncUser, kind: str, username: str, secret: str) -> bool:
    """True when `secret` matches the account's stored hash; cached after the first slow check."""
    if not account.password_hash:
        spend_the_cost_of_a_check(secret)
        return False
    key = _success_key(kind, username, secret, account.password_hash)
    verified = caches["verified_credentials"]
    if verified.get(key):
        return True
    if account.check_password_sha256(secret):
        verified.set(key, True, timeout=settings.SYNC_AUTH_CACHE_SECONDS)
        return True
    return False


def site_authenticate(
    *,
    username: str,
    secrets: Sequence[str],
    hardware_id: str | None,
    check_hardware: bool = True,
    address: str = "unknown",
) -> Site:
    """The site named `username`, when one of `secrets` (forms of its password's SHA-256 hex that the
    protocol version accepts) matches, after its hardware binding is checked."""
    check_not_locked(name=username, address=address)
    site = load_site(username)
    refused = "Unknown or inactive site, or wrong password."
    if site is None or not site.is_active or site.is_primary:
        spend_the_cost_of_a_check(secrets[0])
        raise refuse(name=username, address=address, message=refused)
    if not any(verify_secret(account=site, kind="site", username=site.name, secret=s) for s in secrets):
        raise refuse(name=username, address=address, message=refused)
    if check_hardware:
        # The online look-ups (/api/v4) send no device header: they read, and name only the caller's
        # own store, so the binding is checked by the sync calls alone.
        bind_hardware(site=site, hardware_id=hardware_id)
    touch_last_seen(site)
    return site


def _site_key(name: str) -> str:
    return "auth-site:" + hashlib.sha256(name.encode()).hexdigest()


def load_site(name: str) -> Site | None:
    """The site row, from the cache for up to SYNC_AUTH_SITE_CACHE_SECONDS.

    Every sync request needs it; with a memory cache in CACHE_URL, caching it saves a query on each.
    Every change of a site through the ORM or the services forgets the cached copy (apps.py), so a new
    password, a deactivation or a reset binding apply on the next request in every worker: the default
    cache is shared by all of them (the database cache), and so must any CACHE_URL be.
    """
    if settings.SYNC_AUTH_SITE_CACHE_SECONDS <= 0:
        return _site_named(name)
    key = _site_key(name)
    site = cache.get(key)
    if site is None:
        site = _site_named(name)
        if site is not None:
            remember_site(site)
    return site


def _site_named(name: str) -> Site | None:
    # Written out (the name is unique): building the ORM's query took twice as long as running it.
    return next(iter(Site.objects.raw(f"SELECT * FROM {Site._meta.db_table} WHERE name = %s", [name])), None)


def remember_site(site: Site) -> None:
    if settings.SYNC_AUTH_SITE_CACHE_SECONDS > 0:
        cache.set(_site_key(site.name), site, timeout=settings.SYNC_AUTH_SITE_CACHE_SECONDS)


def forget_site(name: str) -> None:
    cache.delete(_site_key(name))


def user_authenticate(*, username: str, secret: str, address: str = "unknown") -> SyncUser:
    """A mobile user logging in with `username:sha256(password)`; failures count like a site's."""
    check_not_locked(name=username, address=address)
    user = SyncUser.objects.filter(username=username, is_active=True).first()
    if user is None:
        spend_the_cost_of_a_check(secret)
    if user is None or not verify_secret(account=user, kind="user", username=user.username, secret=secret):
        raise refuse(name=username, address=address, message="Unknown user or wrong password.")
    return user


def user_with_password(*, username: str, secret: str) -> SyncUser | None:
    """The active user named `username` when `secret` is their password, else None (nothing counted)."""
    user = SyncUser.objects.filter(username=username, is_active=True).first()
    if user is not None and verify_secret(account=user, kind="user", username=user.username, secret=secret):
        return user
    return None


def bind_hardware(*, site: Site, hardware_id: str | None) -> None:
    """Record the device on first use; refuse any other device until an operator resets the binding.

    A request without the header is let through only while the site is not yet bound, so curl sessions
    against a fresh demo work, while a bound site cannot be used by leaving the header out.
    """
    hardware_id = (hardware_id or "").strip()
    if site.hardware_id:
        if hardware_id != site.hardware_id:
            raise HardwareMismatch(
                "Site registration doesn't match. This site is registered to another device; "
                "ask the server administrator to reset its hardware binding."
            )
        return
    if not hardware_id:
        return
    # Conditional update: if two devices race for a fresh site, exactly one wins.
    claimed = Site.objects.filter(pk=site.pk, hardware_id="").update(hardware_id=hardware_id)
    forget_site(site.name)
    if not claimed:
        site.refresh_from_db(fields=["hardware_id"])
        if site.hardware_id != hardware_id:
            raise HardwareMismatch(
                "Site registration doesn't match. This site is registered to another device; "
                "ask the server administrator to reset its hardware binding."
            )
    site.hardware_id = hardware_id


def touch_last_seen(site: Site) -> None:
    """Write last-seen at most once a minute: a write on every request would serialise busy sites."""
    now = timezone.now()
    interval = settings.SYNC_LAST_SEEN_INTERVAL_SECONDS
    if site.last_seen_at is None or (now - site.last_seen_at).total_seconds() >= interval:
        Site.objects.filter(pk=site.pk).update(last_seen_at=now)
        site.last_seen_at = now
        remember_site(site)


def api_key_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _api_key_parts(raw_key: str) -> tuple[str, str] | None:
    if not raw_key.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = raw_key[len(API_KEY_PREFIX) :].partition("_")
    if not sep or not prefix or not secret or len(prefix) > 16:
        return None
    return prefix, secret


def apikey_authenticate(*, raw_key: str, scope: str, address: str = "unknown") -> ApiKey | None:
    """The live key `raw_key` names when it carries `scope`, else None (and the failure is counted).

    Failures are counted per key prefix exactly like failed site logins per name, so guessing is
    throttled with 429 (TooManyFailures). The secret is compared in constant time.
    """
    parts = _api_key_parts(raw_key)
    throttle_name = API_KEY_PREFIX + (parts[0] if parts else "malformed")
    check_not_locked(name=throttle_name, address=address)
    key = None
    if parts is not None:
        key = ApiKey.objects.select_related("owner").filter(prefix=parts[0]).first()
    offered = api_key_secret_hash(parts[1] if parts else raw_key)
    # Compare against a dummy when there is no such key, so timing does not tell prefixes apart.
    stored = key.secret_hash if key is not None else "0" * 64
    matches = hmac.compare_digest(stored.encode(), offered.encode())
    if key is None or not matches or key.is_revoked or not key.has_scope(scope):
        record_failure(name=throttle_name, address=address)
        return None
    if key.owner is not None and not key.owner.is_active:
        record_failure(name=throttle_name, address=address)
        return None
    _touch_last_used(key)
    return key


def _touch_last_used(key: ApiKey) -> None:
    """Like a site's last-seen time: written at most once per SYNC_LAST_SEEN_INTERVAL_SECONDS."""
    now = timezone.now()
    if (
        key.last_used_at is None
        or (now - key.last_used_at).total_seconds() >= settings.SYNC_LAST_SEEN_INTERVAL_SECONDS
    ):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
