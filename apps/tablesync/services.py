"""Table sync: a batch of insert/update/delete operations applied all or nothing.

Unlike an mSupply push, where a bad record goes to quarantine and the rest applies, a table batch is
one unit: it is validated whole before anything is written, and one operation the site may not make
rolls back the lot. It goes through the same write path (apps/records/services.py) and the same
fan-out as any push, so satellites' queues receive its changes and the pushing site does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

from apps.lib.transactions import atomic_with_retry
from apps.queue.fanout import fan_out
from apps.records.changes import Action as ChangeAction
from apps.records.changes import Change
from apps.records.registry import get_registry
from apps.records.registry_sync import sync_registry
from apps.records.services import records_write, store_ids_of_site, validate_change
from apps.records.storage import lock_existing
from apps.sites.models import Site

from .errors import TableSyncError
from .selectors import allowed_tables

Action = Literal["insert", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("insert", "update", "delete")
Key = tuple[str, str]


@dataclass(frozen=True)
class TableOperation:
    index: int
    table: str
    action: Action
    record_id: str
    data: dict[str, Any]


@dataclass
class TablePushResult:
    applied: int = 0
    unchanged: int = 0
    skipped: int = 0


def parse_operations(operations: Any) -> list[TableOperation]:
    """The batch, checked whole: the first bad operation is refused with its index and nothing else."""
    if not isinstance(operations, list):
        raise TableSyncError(
            "Invalid request", 'operations: expected an array of {"table", "action", "data"}'
        )
    allowed = set(allowed_tables())
    registry = get_registry()
    parsed: list[TableOperation] = []
    for index, item in enumerate(operations):

        def refuse(reason: str, error: str = "Invalid operation", index: int = index) -> TableSyncError:
            return TableSyncError(error, f"operation {index}: {reason}", index=index)

        if not isinstance(item, dict):
            raise refuse('expected an object {"table", "action", "data"}')
        table, action, data = item.get("table"), item.get("action"), item.get("data")
        if not isinstance(table, str) or table not in allowed:
            listed = ", ".join(sorted(allowed)) or "none (SYNC_ALLOWED_TABLES is empty)"
            raise refuse(f"table {table!r} is not synced here; allowed tables: {listed}", "Invalid table")
        if action not in ACTIONS:
            raise refuse(f"action {action!r} is not one of {', '.join(ACTIONS)}")
        if not isinstance(data, dict):
            raise refuse("data must be an object with the record's fields")
        spec = registry.types[table]
        key = data.get(spec.key_field)
        if key is None or isinstance(key, bool | dict | list) or str(key) == "":
            raise refuse(f"data must hold the record's key field '{spec.key_field}'")
        record_id = str(key)
        # A delete needs only the key; its other fields are not checked, since they are not stored.
        checked = Change(
            table, record_id, "upsert", data={spec.key_field: key} if action == "delete" else data
        )
        reason = validate_change(checked, registry)
        if reason:
            raise refuse(reason)
        parsed.append(TableOperation(index, table, action, record_id, data))
    return parsed


def table_push(*, site: Site, operations: list[TableOperation]) -> TablePushResult:
    """Apply the batch in one transaction; TableSyncError (and nothing written) if any part is refused."""
    if not operations:
        return TablePushResult()
    _mirror_registry_once()
    return _apply(site=site, operations=operations)


@atomic_with_retry
def _apply(*, site: Site, operations: list[TableOperation]) -> TablePushResult:
    # Lock the stored rows first: an `update` merges into what is stored, which must not change
    # underneath it. records_write takes the same locks again, in the same order.
    stored = lock_existing({(op.table, op.record_id) for op in operations})
    states: dict[Key, dict[str, Any] | None] = {}
    last_index: dict[Key, int] = {}
    for op in operations:
        key = (op.table, op.record_id)
        if key not in states:
            current = stored.get(key)
            states[key] = None if current is None or current.is_deleted else orjson.loads(current.data)
        states[key] = _compose(states[key], op)
        last_index[key] = op.index
    result = TablePushResult()
    changes: list[Change] = []
    for key, state in states.items():
        current = stored.get(key)
        if state is None and (current is None or current.is_deleted):
            result.skipped += 1  # a delete of a record that does not exist: nothing to do
            continue
        action: ChangeAction = "delete" if state is None else "upsert"
        changes.append(Change(key[0], key[1], action, data=state))
    written = records_write(
        changes=changes, source_site_id=site.pk, owner_store_ids=store_ids_of_site(site.pk)
    )
    if written.refused:
        refusal = written.refused[0]
        index = last_index[(refusal.change.record_type, refusal.change.record_id)]
        # Raising rolls the transaction back: nothing of the batch is kept.
        raise TableSyncError("Operation refused", f"operation {index}: {refusal.reason}", index=index)
    fan_out(record_pks=written.written_pks, source_site_id=site.pk)
    result.unchanged = written.unchanged
    result.applied = len(changes) - written.unchanged
    return result


def _compose(state: dict[str, Any] | None, op: TableOperation) -> dict[str, Any] | None:
    """The record after `op`: insert replaces it, update merges into it (or creates it), delete removes it."""
    if op.action == "delete":
        return None
    if op.action == "update" and state is not None:
        return {**state, **op.data}
    return dict(op.data)


_mirrored: set[int] = set()


def _mirror_registry_once() -> None:
    """Make sure the RecordType rows exist for the operator's own tables in this process's registry.

    `migrate` mirrors the registry too; this covers a server restarted with a new extension file and
    no migrate, which would otherwise fail every write of a new table on the foreign key.
    """
    registry = get_registry()
    if id(registry) not in _mirrored:
        sync_registry(registry)
        _mirrored.add(id(registry))
