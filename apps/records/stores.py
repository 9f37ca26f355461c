"""One source of truth for stores: the central `store` record and the `Store` the server routes by.

A `store` record written by any path (loadrecords, the admin, an import) updates the Store row: its
name, code, name_ID and the site it is active on (`sync_id_remote_site`; the primary's id, 1, or 0
means no satellite). The other direction, a Store created or edited by an operator writing the
record, lives in apps.queue.stores because the record must fan out. Rows are written here with
`update()`/`bulk_create`, which send no `post_save`, so the two directions never call each other.
"""

from __future__ import annotations

from apps.sites.models import PRIMARY_SITE_ID, Site, Store

from .canonical import CanonicalRecord

STORE_RECORD_TYPE = "store"
SITE_FIELD = "sync_id_remote_site"


def site_of_store_record(fields: CanonicalRecord) -> int | None:
    """The satellite a store record puts its store on; None for the primary or no site."""
    text = fields.get(SITE_FIELD).strip()
    if not text.isdigit() or int(text) in (0, PRIMARY_SITE_ID):
        return None
    return int(text)


def store_record_refusal(fields: CanonicalRecord, *, known_site_ids: set[int]) -> str | None:
    site_id = site_of_store_record(fields)
    if site_id is not None and site_id not in known_site_ids:
        return (
            f"the store is put on site {site_id} ({SITE_FIELD}), which does not exist: "
            "create the site first (createsite)"
        )
    return None


def satellite_site_ids() -> set[int]:
    return set(Site.objects.exclude(pk=PRIMARY_SITE_ID).values_list("pk", flat=True))


def update_stores(records: dict[str, CanonicalRecord]) -> None:
    """Create or update the Store of each written store record (by store id)."""
    existing = Store.objects.in_bulk(list(records))
    new: list[Store] = []
    for store_id, fields in records.items():
        values = {
            "name": (fields.get("name") or store_id)[:200],
            "code": fields.get("code")[:50],
            "name_id": fields.get("name_ID")[:100],
            "site_id": site_of_store_record(fields),
        }
        store = existing.get(store_id)
        if store is None:
            new.append(Store(id=store_id, **values))
        elif any(getattr(store, key) != value for key, value in values.items()):
            Store.objects.filter(pk=store_id).update(**values)
    Store.objects.bulk_create(new)
