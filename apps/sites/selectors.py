"""Reads about sites, stores and users that the API needs, each scoped so a site sees only its own."""

from __future__ import annotations

from .models import Site, Store, SyncUser


def store_is_active_on_site(*, site: Site, store_id: str) -> bool:
    return Store.objects.filter(pk=store_id, site=site).exists()


def site_of_store(*, store_id: str) -> Site | None:
    """The site where the store is active, if any (a user's login is logged under that site)."""
    store = Store.objects.select_related("site").filter(pk=store_id).first()
    return store.site if store is not None else None


def active_user_of_site(*, site: Site, username: str) -> SyncUser | None:
    """The active user named `username` who may use at least one store active on `site`.

    A user of other sites only is None, exactly like an unknown name, so a site cannot learn who
    exists elsewhere.
    """
    users = SyncUser.objects.filter(username=username, is_active=True, stores__site=site).distinct()
    return users.first()


def active_users_of_store(*, store_id: str, limit: int = 2) -> list[SyncUser]:
    """Up to `limit` active users of the store: two are enough to tell one user from several."""
    return list(SyncUser.objects.filter(stores__pk=store_id, is_active=True).order_by("username")[:limit])


def user_may_use_store(*, user: SyncUser, store_id: str) -> bool:
    return user.stores.filter(pk=store_id).exists()


def site_by_id(*, site_id: int) -> Site | None:
    return Site.objects.filter(pk=site_id).first()
