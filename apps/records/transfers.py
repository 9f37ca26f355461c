"""Transfers between stores: the documents the primary creates for the other party (mSupply's rules).

A customer invoice (`ci`) released to the name of another store gets, once, a supplier invoice (`si`)
in the receiving store; a request requisition sent to a supplying store gets, once, a response
requisition there; a finalised response gives its status to the request. The registry declares which
tables carry which rule (`transfer` in fixtures/registry.json); docs/protocol.md ("Transfers") lists
the rules we follow and the ones we do not.

`transfer_changes` only decides: it reads what it needs and returns the Changes to write. The write
path (services.records_write) writes them as changes made on the primary, in the same transaction as
the change that triggered them, so they fan out to the receiving store's site like any other record.

Idempotent without bookkeeping: a counterpart's id is derived from the source's id and the receiving
store (`counterpart_id`), so a replay, a later edit or two workers at once find (or write) the same
record, never a second one. A counterpart that exists, even deleted, is never written again.
Never looping: a generated document is of the counterpart type, which no rule starts from.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from apps.sites.models import PRIMARY_SITE_ID, Store

from .changes import Change
from .models import Record
from .registry import RecordTypeSpec, Registry, TransferSpec, get_registry
from .storage import StoredRecord

# Fixed forever: counterpart ids of documents already transferred depend on it.
COUNTERPART_NAMESPACE = uuid.UUID("5f0c6f43-3f8e-4c38-9b7e-6a0f1d2c9b11")

# The fields of an invoice line that the receiving store's line takes over (mSupply's list).
INVOICE_LINE_FIELDS = (
    "item_ID",
    "item_name",
    "batch",
    "expiry_date",
    "pack_size",
    "quantity",
    "sell_price",
    "line_number",
    "note",
    "donor_id",
    "optionID",
    "vaccine_vial_monitor_status_ID",
    "volume_per_pack",
    "om_item_variant_id",
)
# A request line's own bookkeeping that means nothing in the supplying store.
REQUISITION_LINE_SKIPPED = {
    "ID",
    "requisition_ID",
    "linked_requisition_line_ID",
    "actualQuan",
    "purchase_order_line_ID",
}


def counterpart_id(kind: str, source_id: str, store_id: str) -> str:
    """The id of what `source_id` becomes in `store_id`: 32 uppercase hex digits, like mSupply's ids."""
    return uuid.uuid5(COUNTERPART_NAMESPACE, f"{kind}\x1f{source_id}\x1f{store_id}").hex.upper()


@dataclass(frozen=True)
class Source:
    """A released document and where its counterpart goes."""

    spec: RecordTypeSpec
    rule: TransferSpec
    record_id: str
    data: dict[str, Any]
    sending: Store
    receiving: Store

    @property
    def counterpart(self) -> str:
        return counterpart_id(self.rule.counterpart_type, self.record_id, self.receiving.pk)


def transfer_changes(*, written: list[StoredRecord]) -> list[Change]:
    """The counterpart documents, lines and status updates that the written records call for."""
    registry = get_registry()
    headers: dict[str, list[StoredRecord]] = defaultdict(list)
    lines: dict[str, list[StoredRecord]] = defaultdict(list)
    for record in written:
        spec = registry.types[record.record_type]
        if record.is_deleted:
            continue
        if spec.transfer:
            headers[spec.name].append(record)
        elif spec.parent_type and (parent := registry.types.get(spec.parent_type)) and parent.transfer:
            lines[parent.name].append(record)
    changes: list[Change] = []
    for header_type in sorted(set(headers) | set(lines)):
        spec = registry.types[header_type]
        assert spec.transfer is not None
        changes += _counterparts(spec, registry, headers[header_type], lines[header_type])
        if spec.transfer.rule == "requisition":
            changes += _status_back_to_requests(spec, headers[header_type])
    return changes


def _counterparts(
    spec: RecordTypeSpec, registry: Registry, headers: list[StoredRecord], lines: list[StoredRecord]
) -> list[Change]:
    rule = spec.transfer
    assert rule is not None
    line_spec = registry.types[rule.lines]
    documents = {r.record_id: orjson.loads(r.wire) for r in headers}
    # Lines whose header is not in this batch: their header is read from the central store. A line's
    # header is its ref_id (the registry makes sure), so no line is parsed unless its header is released.
    missing = {r.ref_id for r in lines} - set(documents)
    if missing - {""}:
        for record_id, data in Record.objects.filter(
            record_type_id=spec.name, record_id__in=sorted(missing), is_deleted=False
        ).values_list("record_id", "wire"):
            documents[record_id] = orjson.loads(data)
    sources = _released_sources(spec, rule, documents)
    if not sources:
        return []
    existing = _existing_states(spec.name, [s.counterpart for s in sources.values()])
    changes: list[Change] = []
    new_sources = [s for s in sources.values() if s.counterpart not in existing]
    answered = _requests_answered(str(s.data.get("requisition_ID", "")) for s in new_sources)
    for source in new_sources:
        changes.append(_header_change(source, answered))
    # Lines: every line of a new counterpart, and lines that arrive later while the counterpart is
    # still as we created it (not yet received or supplied).
    open_sources = {
        s.record_id for s in sources.values() if existing.get(s.counterpart) == rule.counterpart_status
    }
    wanted_lines: dict[str, dict[str, Any]] = {}
    if new_sources:
        for record_id, wire in Record.objects.filter(
            record_type_id=line_spec.name,
            ref_id__in=sorted(s.record_id for s in new_sources),
            is_deleted=False,
        ).values_list("record_id", "wire"):
            wanted_lines[record_id] = orjson.loads(wire)
    for record in lines:
        if record.ref_id in open_sources:
            wanted_lines[record.record_id] = orjson.loads(record.wire)
    by_line_id: dict[str, tuple[Source, dict[str, Any]]] = {}
    for line_id, line in wanted_lines.items():
        line_source = sources.get(str(line.get(line_spec.parent_field or "", "")))
        if line_source is not None:
            by_line_id[counterpart_id(line_spec.name, line_id, line_source.receiving.pk)] = (
                line_source,
                line,
            )
    already = _existing_states(line_spec.name, list(by_line_id))
    for new_id in sorted(set(by_line_id) - set(already)):
        line_source, line = by_line_id[new_id]
        changes.append(_line_change(line_source, line_spec, new_id, line))
    return changes


def _released_sources(
    spec: RecordTypeSpec, rule: TransferSpec, documents: dict[str, dict[str, Any]]
) -> dict[str, Source]:
    """The documents that are released to a store of another site (or of the primary itself)."""
    released = {
        record_id: data
        for record_id, data in documents.items()
        if data.get("type") == rule.source_type and str(data.get("status", "")) in rule.release_statuses
    }
    if not released:
        return {}
    names = {str(d.get(spec.transfer_field or "name_ID", "")) for d in released.values()}
    store_ids = {str(d.get(spec.store_field or "store_ID", "")) for d in released.values()}
    receiving_by_name: dict[str, Store] = {}
    for store in Store.objects.filter(name_id__in=sorted(names - {""})).order_by("pk"):
        receiving_by_name.setdefault(store.name_id, store)
    sending_by_id = {s.pk: s for s in Store.objects.filter(pk__in=sorted(store_ids - {""}))}
    sources: dict[str, Source] = {}
    for record_id, data in released.items():
        receiving = receiving_by_name.get(str(data.get(spec.transfer_field or "name_ID", "")))
        sending = sending_by_id.get(str(data.get(spec.store_field or "store_ID", "")))
        if receiving is None or sending is None or receiving.pk == sending.pk:
            continue
        if not _needs_the_primary(sending, receiving):
            continue
        sources[record_id] = Source(spec, rule, record_id, data, sending, receiving)
    return sources


def _needs_the_primary(sending: Store, receiving: Store) -> bool:
    """Stores on one satellite transfer between themselves there; the primary does the rest."""
    sending_site = sending.site_id or PRIMARY_SITE_ID
    receiving_site = receiving.site_id or PRIMARY_SITE_ID
    return sending_site != receiving_site or receiving_site == PRIMARY_SITE_ID


def _existing_states(record_type: str, record_ids: Iterable[str]) -> dict[str, str]:
    """Which of these records exist (deleted ones too), with their status ('' for lines)."""
    ids = sorted(set(record_ids))
    found: dict[str, str] = {}
    for start in range(0, len(ids), 1000):
        rows = Record.objects.filter(record_type_id=record_type, record_id__in=ids[start : start + 1000])
        for record_id, data, deleted in rows.values_list("record_id", "wire", "is_deleted"):
            found[record_id] = "" if deleted else str(orjson.loads(data).get("status", ""))
    return found


def _header_change(source: Source, answered: dict[str, str]) -> Change:
    data = source.data
    today = date.today().isoformat()
    if source.rule.rule == "invoice":
        document: dict[str, Any] = {
            "ID": source.counterpart,
            "type": source.rule.counterpart_type,
            "status": source.rule.counterpart_status,
            "store_ID": source.receiving.pk,
            "name_ID": source.sending.name_id,
            "linked_transaction_id": source.record_id,
            # Below 1: the receiving store gives it the next number of its own sequence.
            "invoice_num": -1,
            "their_ref": f"{source.sending.name} invoice {data.get('invoice_num', '')}".strip(),
            "comment": data.get("comment", ""),
            "entry_date": data.get("finalised_date") or data.get("entry_date") or today,
            "mode": "store",
            "requisition_ID": answered.get(str(data.get("requisition_ID", "")), ""),
            "subtotal": data.get("subtotal", 0),
            "total": data.get("total", 0),
            "currency_ID": data.get("currency_ID", ""),
            "currency_rate": data.get("currency_rate", 1),
        }
    else:
        copied = ("daysToSupply", "thresholdMOS", "comment", "programID", "periodID", "orderType")
        document = {
            **{name: data[name] for name in copied if name in data},
            "ID": source.counterpart,
            "type": source.rule.counterpart_type,
            "status": source.rule.counterpart_status,
            "store_ID": source.receiving.pk,
            "name_ID": source.sending.name_id,
            "linked_requisition_id": source.record_id,
            "serial_number": -1,
            "requester_reference": data.get("requester_reference") or str(data.get("serial_number", "")),
            "date_entered": data.get("date_entered") or today,
            "isRemoteOrder": data.get("isRemoteOrder", False),
        }
    return Change(
        record_type=source.spec.name,
        record_id=source.counterpart,
        action="upsert",
        data=document,
        store_id=source.receiving.pk,
    )


def _line_change(source: Source, line_spec: RecordTypeSpec, new_id: str, data: dict[str, Any]) -> Change:
    assert line_spec.parent_field is not None
    if source.rule.rule == "invoice":
        line = {name: data[name] for name in INVOICE_LINE_FIELDS if name in data}
        line.update(
            {
                # What the sender charged is what the receiver paid.
                "cost_price": data.get("sell_price", data.get("cost_price", 0)),
                # The receiving store's own batch, created when it receives the goods.
                "item_line_ID": counterpart_id("item_line", new_id, source.receiving.pk),
                "type": "stock_in",
                "linked_trans_line_ID": data.get("ID", ""),
                "linked_transact_id": source.record_id,
            }
        )
    else:
        line = {k: v for k, v in data.items() if k not in REQUISITION_LINE_SKIPPED}
        line.update({"linked_requisition_line_ID": data.get("ID", ""), "actualQuan": 0})
    line.update({"ID": new_id, line_spec.parent_field: source.counterpart})
    return Change(
        record_type=line_spec.name, record_id=new_id, action="upsert", data=line, store_id=source.receiving.pk
    )


def _requests_answered(response_ids: Iterable[str]) -> dict[str, str]:
    """The request requisition each response answers: a supplier invoice made for a response names the
    request, so the requesting store links the goods to what it asked for."""
    ids = sorted(set(response_ids) - {""})
    if not ids:
        return {}
    rows = Record.objects.filter(record_type_id="requisition", record_id__in=ids).values_list(
        "record_id", "wire"
    )
    return {rid: str(orjson.loads(data).get("linked_requisition_id", "") or "") for rid, data in rows}


def _status_back_to_requests(spec: RecordTypeSpec, headers: list[StoredRecord]) -> list[Change]:
    """A finalised response gives its status to the request it answers, for the requesting store."""
    rule = spec.transfer
    assert rule is not None
    finalised: dict[str, str] = {}
    for record in headers:
        data = orjson.loads(record.wire)
        if data.get("type") == rule.counterpart_type and data.get("status") == "fn":
            request_id = str(data.get("linked_requisition_id", "") or "")
            if request_id:
                finalised[request_id] = record.store_id
    if not finalised:
        return []
    changes: list[Change] = []
    rows = Record.objects.filter(
        record_type_id=spec.name, record_id__in=sorted(finalised), is_deleted=False
    ).values_list("record_id", "store_id", "wire")
    for record_id, store_id, text in rows:
        data = orjson.loads(text)
        if data.get("type") != rule.source_type or store_id == finalised[record_id]:
            continue
        if data.get("status") != "fn":
            changes.append(
                Change(
                    record_type=spec.name,
                    record_id=record_id,
                    action="upsert",
                    data={**data, "status": "fn"},
                    store_id=store_id,
                )
            )
    return changes
