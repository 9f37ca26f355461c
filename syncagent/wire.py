"""Records on the wire: v2/v3 named fields as they are; v1 by table and field numbers from the schema."""

from __future__ import annotations

from typing import Any

from .state import OutboxEntry


def named_envelope(entry: OutboxEntry) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "SyncID": entry.sync_id,
        "RecordType": entry.record_type,
        "RecordID": entry.record_id,
        "SyncType": entry.sync_type,
        "StoreID": entry.store_id,
    }
    if entry.sync_type == "M" and entry.data:
        envelope.update({k: entry.data[k] for k in ("mergeIDtokeep", "mergeIDtodelete") if k in entry.data})
    elif entry.data is not None:
        envelope["Data"] = entry.data
    return envelope


class V1Schema:
    """The primary's table and field numbers (GET /sync/v1/schema), both ways."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.by_name: dict[str, dict[str, Any]] = {}
        self.by_number: dict[int, dict[str, Any]] = {}
        for table in document.get("tables", []):
            numbers = {f["name"]: f["number"] for f in table["fields"]}
            names = {f["number"]: f["name"] for f in table["fields"]}
            info = {**table, "numbers": numbers, "names": names}
            self.by_name[table["name"]] = info
            self.by_number[int(table["TableNumber"])] = info

    def encode(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """A named envelope as a v1 record. A table or field the primary does not know is sent by
        name in words it will quarantine, rather than dropped here."""
        table = self.by_name.get(envelope["RecordType"])
        if table is None:
            return {**envelope, "TableNumber": envelope["RecordType"]}
        record: dict[str, Any] = {
            key: envelope[key] for key in ("SyncID", "RecordID", "SyncType", "StoreID") if key in envelope
        }
        record.update({"TableNumber": table["TableNumber"], "KeyFieldID": table["KeyFieldID"]})
        record.update({k: envelope[k] for k in ("mergeIDtokeep", "mergeIDtodelete") if k in envelope})
        data = envelope.get("Data")
        if data is not None:
            record["fields"] = [table["numbers"].get(name, name) for name in data]
            record["values"] = list(data.values())
        return record

    def decode(self, record: dict[str, Any]) -> dict[str, Any]:
        """A pulled v1 record in the named form the host and the mirror take."""
        table = self.by_number.get(int(record.get("TableNumber", -1)))
        named = {
            k: v for k, v in record.items() if k not in ("TableNumber", "KeyFieldID", "fields", "values")
        }
        named["RecordType"] = table["name"] if table else str(record.get("TableNumber"))
        if "fields" in record:
            names = table["names"] if table else {}
            named["data"] = {
                names.get(int(n), str(n)): v for n, v in zip(record["fields"], record["values"], strict=False)
            }
        return named
