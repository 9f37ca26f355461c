"""Operator actions on sites, stores and users, shared by the management commands and the admin."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction
from django.db.models import ForeignObjectRel
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


def sync_user_set_password(*, user: SyncUser, password: str) -> None:
    """A verified old password is never accepted again: the remembered success is keyed by the hash."""
    if not password:
        raise SiteError("The password must not be empty.")
    user.set_password_sha256(password_to_sha256(password))
    user.save(update_fields=["password_hash"])


def site_get(*, site_id: int) -> Site:
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        raise SiteError(f"There is no site {site_id}.")
    return site


def site_set_active(*, site_id: int, active: bool) -> Site:
    """Let a site sync again, or refuse it from its next request on (in every worker: apps.py forgets
    the cached row). A deactivated site keeps its queue, log and records."""
    site = site_get(site_id=site_id)
    if site.is_primary:
        raise SiteError("Site 1 is the primary itself; it is always active and never logs in.")
    if site.is_active != active:
        site.is_active = active
        site.save(update_fields=["is_active"])
    return site


def site_delete_refusal(*, site: Site) -> str | None:
    """Why the site may not be deleted, or None.

    A site that has synced is deactivated instead: its records name it as their source, and deleting it
    would also throw away its queue and sync log, millions of rows on a busy primary.
    """
    if site.is_primary:
        return "Site 1 is the primary itself: every record's history names it, so it can never be deleted."
    if site.last_seen_at is not None or site.hardware_id or site_is_named_by_records(site=site):
        return (
            f"Site {site} has synced: its records name it as their source, and its queue and sync log "
            "would go with it. Deactivate it instead: it is then refused at its next sync and keeps "
            "its history."
        )
    return None


def site_is_named_by_records(*, site: Site) -> bool:
    """Whether any row protects the site from deletion (records it created or changed last). Each test is
    one indexed EXISTS, whatever the size of the tables; the apps that hold such rows are not named here,
    so sites does not depend on them."""
    # include_hidden: the records' links to their sites have no reverse name (related_name="+").
    for relation in Site._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel) or not (relation.one_to_many and relation.auto_created):
            continue
        model = relation.related_model
        if relation.on_delete is not models.PROTECT or model is Store or not isinstance(model, type):
            continue
        if model._base_manager.filter(**{relation.field.name: site}).exists():
            return True
    return False


@transaction.atomic
def site_delete(*, site_id: int) -> None:
    """Delete a site that never synced (with its queue); refused in words for one that did."""
    site = site_get(site_id=site_id)
    refusal = site_delete_refusal(site=site)
    if refusal:
        raise SiteError(refusal)
    stores = list(site.stores.values_list("pk", flat=True))
    if stores:
        raise SiteError(
            f"Site {site} has store(s) {', '.join(stores)} active on it: move them to another site "
            "or remove them from it first."
        )
    site.delete()


def site_reset_hardware(*, site_id: int) -> Site:
    site = site_get(site_id=site_id)
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
