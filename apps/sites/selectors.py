"""Reads about sites, stores and users that the API needs, each scoped so a site sees only its own."""

from __future__ import annotations

from .models import Site, Store, SyncUser


class UserLookupRefused(Exception):
    """A site's question about a user that cannot be answered, with the HTTP status it answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def first_store_of_site(*, site: Site) -> Store | None:
    """The site's first store (by id), with its supplying store: what the `site` call describes."""
    return site.stores.select_related("supplying_store").order_by("pk").first()


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


def user_a_site_asks_for(*, site: Site, store_id: str, username: str) -> SyncUser:
    """The user a site asks for: named, or the only active user of one of its stores.

    Nothing outside the site is revealed: another site's store answers like an unknown store, and a
    user of other sites only, an inactive user and an unknown name all get the same 404.
    """
    if store_id and not store_is_active_on_site(site=site, store_id=store_id):
        raise UserLookupRefused(403, f"Store {store_id} is not active on this site.")
    if username:
        user = active_user_of_site(site=site, username=username)
        if user is None:
            raise UserLookupRefused(404, f"There is no active user '{username}' on this site.")
        return user
    if not store_id:
        raise UserLookupRefused(
            400, "Name the store with ?store=<store id>, or the user with ?username=<user name>."
        )
    users = active_users_of_store(store_id=store_id)
    if not users:
        raise UserLookupRefused(404, f"Store {store_id} has no active user: an operator must give it one.")
    if len(users) > 1:
        raise UserLookupRefused(
            400, f"Store {store_id} has several active users: name one with ?username=<user name>."
        )
    return users[0]
