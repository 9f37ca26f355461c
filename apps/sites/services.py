"""Operator actions on sites, stores and users, shared by the management commands and the admin."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from .authentication import API_KEY_PREFIX, api_key_secret_hash, forget_site
from .models import API_KEY_SCOPES, PRIMARY_SITE_ID, ApiKey, Site, Store, SyncUser


class SiteError(ValueError):
    """An operator request that cannot be carried out; the message says why."""


def password_to_sha256(password: str) -> str:
    """What a client sends instead of the password: SHA-256 of its UTF-8 bytes, lowercase hex."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


@transaction.atomic
def site_create(*, site_id: int, name: str, password: str) -> Site:
    if site_id == PRIMARY_SITE_ID:
        raise SiteError("Site 1 is the primary itself; satellites start at 2.")
    if site_id < 1:
        raise SiteError("A site id is a positive whole number.")
    if not name.strip():
        raise SiteError("A site needs a name: it is the user name the site logs in with.")
    if not password:
        raise SiteError("A site needs a password.")
    if Site.objects.filter(pk=site_id).exists():
        raise SiteError(f"Site {site_id} exists already.")
    if Site.objects.filter(name=name).exists():
        raise SiteError(f"A site named '{name}' exists already.")
    site = Site(id=site_id, name=name)
    site.set_password_sha256(password_to_sha256(password))
    site.save()
    return site


def site_set_password(*, site: Site, password: str) -> None:
    if not password:
        raise SiteError("The password must not be empty.")
    site.set_password_sha256(password_to_sha256(password))
    site.save(update_fields=["password_hash"])


def site_reset_hardware(*, site_id: int) -> Site:
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        raise SiteError(f"There is no site {site_id}.")
    Site.objects.filter(pk=site_id).update(hardware_id="")
    forget_site(site.name)
    site.hardware_id = ""
    return site


@transaction.atomic
def store_create(
    *,
    store_id: str,
    name: str,
    site_id: int | None,
    name_id: str,
    code: str = "",
    supplying_store_id: str | None = None,
) -> Store:
    if not store_id.strip() or not name_id.strip():
        raise SiteError("A store needs an id and a name_ID.")
    if Store.objects.filter(pk=store_id).exists():
        raise SiteError(f"Store {store_id} exists already.")
    site = None
    if site_id is not None:
        site = Site.objects.filter(pk=site_id).first()
        if site is None:
            raise SiteError(f"There is no site {site_id}; create it first with createsite.")
    supplying = None
    if supplying_store_id:
        supplying = Store.objects.filter(pk=supplying_store_id).first()
        if supplying is None:
            raise SiteError(f"There is no supplying store {supplying_store_id}.")
    return Store.objects.create(
        id=store_id, name=name, code=code, name_id=name_id, site=site, supplying_store=supplying
    )


@transaction.atomic
def sync_user_create(
    *, username: str, password: str, store_ids: list[str], is_admin: bool = False
) -> SyncUser:
    if not username.strip():
        raise SiteError("A user needs a user name.")
    if not password:
        raise SiteError("A user needs a password.")
    if SyncUser.objects.filter(username=username).exists():
        raise SiteError(f"A user named '{username}' exists already.")
    stores = list(Store.objects.filter(pk__in=store_ids))
    missing = sorted(set(store_ids) - {s.pk for s in stores})
    if missing:
        raise SiteError(f"There is no store {', '.join(missing)}.")
    user = SyncUser(username=username, is_admin=is_admin)
    user.set_password_sha256(password_to_sha256(password))
    user.save()
    user.stores.set(stores)
    return user


def apikey_clean_scopes(scopes: list[str] | str) -> list[str]:
    """The scopes as a sorted list without repeats; an unknown scope is refused in words."""
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    if not cleaned:
        raise SiteError("An API key needs at least one scope: " + ", ".join(sorted(API_KEY_SCOPES)) + ".")
    unknown = [s for s in cleaned if s not in API_KEY_SCOPES]
    if unknown:
        raise SiteError(
            f"Unknown API key scope {', '.join(unknown)}; known scopes: {', '.join(sorted(API_KEY_SCOPES))}."
        )
    return cleaned


def apikey_create(*, name: str, scopes: list[str] | str, owner: User | None = None) -> tuple[ApiKey, str]:
    """A new API key and its raw value `ssk_<prefix>_<secret>`: the only time the secret exists in clear."""
    if not name.strip():
        raise SiteError("An API key needs a name that says what it is for.")
    scope_list = apikey_clean_scopes(scopes)
    if owner is not None and not owner.is_active:
        raise SiteError(f"The owner '{owner}' is not an active account.")
    for _attempt in range(5):
        # 40 random bits of prefix: a collision is rare, and the unique index turns it into a retry.
        prefix = secrets.token_hex(5)
        secret = secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    name=name.strip(),
                    prefix=prefix,
                    secret_hash=api_key_secret_hash(secret),
                    scopes=",".join(scope_list),
                    owner=owner,
                )
        except IntegrityError:
            continue
        return key, f"{API_KEY_PREFIX}{prefix}_{secret}"
    raise SiteError("Could not find a free key prefix; try again.")


def apikey_revoke(*, key: ApiKey) -> ApiKey:
    """Refuse the key from now on; the row stays so the admin still shows who used what and when."""
    if key.revoked_at is None:
        now = timezone.now()
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
        key.refresh_from_db(fields=["revoked_at"])
    return key
