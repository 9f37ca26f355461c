"""A store created or edited by an operator writes its central `store` record through the write path.

`createstore`, the admin's Store pages and the store inline of a site all save a `Store`; the record
they write then fans out like any central edit, so every site (the store's own mobile app first) gets
the store's record with its code and tags. The reverse direction (a loaded or edited `store` record
updates the Store) is apps.records.stores.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db import transaction

from apps.records.changes import Change
from apps.records.models import Record
from apps.records.registry import get_registry
from apps.records.stores import SITE_FIELD, STORE_RECORD_TYPE
from apps.sites.models import PRIMARY_SITE_ID, Store

from .services import primary_changes_apply_in_transaction


def store_record_data(store: Store) -> dict[str, Any]:
    """The store's record: what is stored already, with the fields the Store holds set from it."""
    spec = get_registry().types[STORE_RECORD_TYPE]
    row = (
        Record.objects.filter(record_type_id=STORE_RECORD_TYPE, record_id=store.pk, is_deleted=False)
        .values_list("data", flat=True)
        .first()
    )
    data: dict[str, Any] = orjson.loads(row) if row else {}
    from_store = {
        spec.key_field: store.pk,
        "name": store.name,
        "code": store.code,
        "name_ID": store.name_id,
        SITE_FIELD: store.site_id or PRIMARY_SITE_ID,
    }
    # Drop the same fields in another spelling, so the Store's values are the ones kept.
    for key in [k for k in data if spec.field_name(k) in from_store and k not in from_store]:
        del data[key]
    return {**data, **from_store}


def write_store_record(sender: type[Store], instance: Store, raw: bool = False, **kwargs: Any) -> None:
    """post_save of Store: write its record in the same transaction (fixtures loaded raw excepted)."""
    if raw:
        return
    change = Change(
        record_type=STORE_RECORD_TYPE,
        record_id=instance.pk,
        action="upsert",
        data=store_record_data(instance),
    )
    with transaction.atomic():
        result = primary_changes_apply_in_transaction(changes=[change])
    if result.refused:
        raise ValueError(f"store {instance.pk}: {result.refused[0].reason}")
