"""Keep the search index in step with the central store: called by the write path after every write."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from django.db import connection

from apps.lib.sql import insert_rows
from apps.records.models import Record
from apps.records.storage import StoredRecord

from .models import MIN_CONTAINS, SUFFIX_LENGTH, SearchEntry, SearchSuffix

KEY_LENGTH = 100
# The record types that feed the index, and how each is keyed.
KIND_OF_TYPE = {
    "name": SearchEntry.Kind.PATIENT,
    "clinician": SearchEntry.Kind.PRESCRIBER,
    "nameInsuranceJoin": SearchEntry.Kind.POLICY,
}
INDEXED_TYPES = tuple(KIND_OF_TYPE)
# The keys of each kind that the look-ups search with "contains" (the app's query parameters).
CONTAINS_FIELDS: dict[str, tuple[str, ...]] = {
    SearchEntry.Kind.PATIENT: ("last", "first", "barcode"),
    SearchEntry.Kind.PRESCRIBER: ("last", "first", "code"),
    SearchEntry.Kind.POLICY: ("code",),
}


def _key(value: Any) -> str:
    return str(value or "").strip().lower()[:KEY_LENGTH]


def _dob(value: Any) -> str:
    text = str(value or "")[:10]
    return text if len(text) == 10 and text[4] == "-" and text[7] == "-" and text != "0000-00-00" else ""


def entry_for(record_type: str, record_id: str, data: dict[str, Any], *, deleted: bool) -> SearchEntry | None:
    """The index row of a record, or None when the record is not searchable (a name that is no patient)."""
    if record_type == "name":
        if str(data.get("type", "")).lower() != "patient":
            return None
        return SearchEntry(
            kind=SearchEntry.Kind.PATIENT,
            record_id=record_id,
            last=_key(data.get("last")),
            first=_key(data.get("first")),
            code=_key(data.get("code")),
            barcode=_key(data.get("barcode")),
            dob=_dob(data.get("date_of_birth")),
            is_deleted=deleted,
        )
    if record_type == "clinician":
        return SearchEntry(
            kind=SearchEntry.Kind.PRESCRIBER,
            record_id=record_id,
            last=_key(data.get("last_name")),
            first=_key(data.get("first_name")),
            code=_key(data.get("registration_code") or data.get("code")),
            is_deleted=deleted,
        )
    if record_type == "nameInsuranceJoin":
        return SearchEntry(
            kind=SearchEntry.Kind.POLICY,
            record_id=record_id,
            name_id=str(data.get("nameID", ""))[:KEY_LENGTH],
            code=_key(data.get("policyNumberFull") or data.get("policyNumberPerson")),
            is_deleted=deleted,
        )
    return None


def suffixes_of(key: str) -> set[str]:
    """The suffixes of a lowercased key that a search of MIN_CONTAINS or more characters can start,
    each cut to SUFFIX_LENGTH (cut ones can repeat: a set)."""
    return {key[start : start + SUFFIX_LENGTH] for start in range(len(key) - MIN_CONTAINS + 1)}


def suffix_rows(entry: SearchEntry) -> list[tuple[int, str, str, str]]:
    """The entry's suffix rows as (entry_id, kind, field, suffix)."""
    return [
        (entry.pk, entry.kind, field, suffix)
        for field in CONTAINS_FIELDS[entry.kind]
        for suffix in sorted(suffixes_of(getattr(entry, field)))
    ]


def _insert_suffixes(entries: list[SearchEntry]) -> None:
    """Plain tuples, not model instances: a patient has some twenty suffixes, and building and
    compiling a model instance for each took five times as long as the rest of a push of names."""
    if entries and any(entry.pk is None for entry in entries):
        _read_keys(entries)  # MySQL returns no keys from a bulk insert (SQLite and MariaDB do)
    rows = [row for entry in entries for row in suffix_rows(entry)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in ("entry_id", "kind", "field", "suffix"))
    with connection.cursor() as cursor:
        insert_rows(cursor, head=f"INSERT INTO {quote(SearchSuffix._meta.db_table)} ({columns})", rows=rows)


def _read_keys(entries: list[SearchEntry]) -> None:
    by_kind: dict[str, list[SearchEntry]] = defaultdict(list)
    for entry in entries:
        by_kind[entry.kind].append(entry)
    for kind, of_kind in sorted(by_kind.items()):
        keys = dict(
            SearchEntry.objects.filter(kind=kind, record_id__in=[e.record_id for e in of_kind]).values_list(
                "record_id", "pk"
            )
        )
        for entry in of_kind:
            entry.pk = keys[entry.record_id]


def index_written(written: list[StoredRecord]) -> None:
    """Replace the index rows (entries and their suffixes) of the written records: a bounded number
    of queries per batch (per kind: one read and two deletes; then the bulk inserts)."""
    rows = [
        (r.record_type, r.record_id, r.wire, r.is_deleted) for r in written if r.record_type in INDEXED_TYPES
    ]
    if rows:
        _replace(rows)


def _replace(rows: Iterable[tuple[str, str, str, bool]]) -> int:
    entries: list[SearchEntry] = []
    stale: dict[str, list[str]] = defaultdict(list)
    for record_type, record_id, data, deleted in rows:
        stale[KIND_OF_TYPE[record_type]].append(record_id)
        entry = entry_for(record_type, record_id, orjson.loads(data) if data else {}, deleted=deleted)
        if entry is not None:
            entries.append(entry)
    for kind, ids in sorted(stale.items()):
        old = list(
            SearchEntry.objects.filter(kind=kind, record_id__in=sorted(ids)).values_list("pk", flat=True)
        )
        if old:
            SearchSuffix.objects.filter(entry_id__in=old).delete()
            SearchEntry.objects.filter(pk__in=old).delete()
    SearchEntry.objects.bulk_create(entries, batch_size=500)
    _insert_suffixes(entries)
    return len(entries)


def rebuild_index(batch: int = 2000) -> int:
    """Index every stored patient, prescriber and policy (after an upgrade); returns the entries written."""
    SearchSuffix.objects.all().delete()
    SearchEntry.objects.all().delete()
    written = 0
    records = Record.objects.filter(record_type_id__in=INDEXED_TYPES).order_by("pk")
    chunk: list[tuple[str, str, str, bool]] = []
    for row in records.values_list("record_type_id", "record_id", "wire", "is_deleted").iterator(batch):
        chunk.append(row)
        if len(chunk) >= batch:
            written += _replace(chunk)
            chunk = []
    return written + _replace(chunk)
