"""Reads of the online look-ups (/api/v4): patients, prescribers and a patient's dispensing history.

Searches go through `SearchEntry`, whose keys are lowercased and indexed per kind. `LIKE '%x%'` cannot
use a B-tree index (it would read every name of the system per keystroke), so "contains x" is read from
`SearchSuffix` instead: some suffix of the key starts with x, one index range on either database. A
text of one or two characters would match most names, so it is matched as a prefix: the index of the
key itself, ordered as the answer is (docs/protocol.md, "Online look-ups").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
from django.db.models import Q, QuerySet

from apps.lib.sql import is_mysql
from apps.records.models import Record

from .models import MIN_CONTAINS, SUFFIX_LENGTH, SearchEntry, SearchSuffix

MAX_POLICY_MATCHES = 1000
MAX_CANDIDATES = 2000
MAX_HISTORY = 500
# Fields the app reads as numbers or booleans: typed, as mSupply's own look-up API answers.
BOOLEAN_FIELDS = {"female", "isDeceased", "is_vaccine", "isActive", "is_deleted"}
NUMBER_FIELDS = {"doses", "quantity", "discountRate", "pack_size", "cost_price", "sell_price"}


@dataclass(frozen=True)
class PatientQuery:
    first: str = ""
    last: str = ""
    barcode: str = ""
    dob: str = ""  # YYYY-MM-DD
    policy: str = ""
    deleted: bool = False
    limit: int = 50
    offset: int = 0


def prefix(field: str, value: str) -> Q:
    """`field` starts with `value` (already lowercased), written so that the index serves it."""
    if is_mysql():
        # `LIKE 'x%'` under the column's collation is an index range; `LIKE BINARY` (startswith) is
        # not, it reads every key of the kind. The keys and the text are lowercased, so the collation's
        # case-insensitivity changes nothing (its accent-insensitivity lets "jose" find "josé").
        return Q(**{f"{field}__istartswith": value})
    # SQLite does not use an index for LIKE on a case-sensitive column; a range it does.
    return Q(**{f"{field}__gte": value, f"{field}__lt": value + "\U0010ffff"})


def matching(kind: str, texts: dict[str, str]) -> QuerySet[SearchEntry]:
    """Entries of `kind` whose keys contain the texts (field: lowercased text; empty ones ignored).

    "Contains x" is "some suffix of the key starts with x": one range of `SearchSuffix`'s index. A
    text that few keys contain gives the candidates (entry ids, at most MAX_CANDIDATES), read then by
    primary key and sorted. A text that more contain is a subquery instead, left to the planner: its
    matches are dense, so walking the ordered key index finds `limit` of them early. Either way a
    selective text never reads every name. A text shorter than MIN_CONTAINS is matched as a prefix.
    """
    conditions = Q()
    candidates: set[int] | None = None
    for field, value in texts.items():
        if not value:
            continue
        if len(value) < MIN_CONTAINS:
            conditions &= prefix(field, value)
            continue
        suffixes = SearchSuffix.objects.filter(
            prefix("suffix", value[:SUFFIX_LENGTH]), kind=kind, field=field
        )
        # Count rows, not entries: a key can hold the text twice, and a cut-off read is incomplete.
        rows = list(suffixes.values_list("entry_id", flat=True)[: MAX_CANDIDATES + 1])
        if len(rows) <= MAX_CANDIDATES:
            candidates = set(rows) if candidates is None else candidates & set(rows)
        else:
            conditions &= Q(pk__in=suffixes.values("entry_id"))
        if len(value) > SUFFIX_LENGTH:
            # The index holds suffixes cut to SUFFIX_LENGTH: the whole text is checked on the key.
            conditions &= Q(**{f"{field}__contains": value})
    if candidates is None:
        return SearchEntry.objects.filter(conditions, kind=kind)
    # The candidates are of the kind already. Naming the kind as well would let SQLite, which keeps no
    # statistics, walk the kind's whole ordered index rather than look the few candidates up.
    return SearchEntry.objects.filter(conditions, pk__in=sorted(candidates))


def typed(data: dict[str, Any]) -> dict[str, Any]:
    """Record data with the app's numeric and boolean fields as JSON numbers and booleans."""
    out = dict(data)
    for name in BOOLEAN_FIELDS & out.keys():
        value = out[name]
        out[name] = value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")
    for name in NUMBER_FIELDS & out.keys():
        try:
            number = float(out[name])
        except (TypeError, ValueError):
            continue
        out[name] = int(number) if number.is_integer() else number
    return out


def _records(record_type: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = Record.objects.filter(record_type_id=record_type, record_id__in=ids, is_deleted=False)
    return {rid: typed(orjson.loads(data)) for rid, data in rows.values_list("record_id", "wire")}


def _page(entries: QuerySet[SearchEntry], offset: int, limit: int) -> list[str]:
    ordered = entries.order_by("last", "first", "record_id")
    return list(ordered.values_list("record_id", flat=True)[offset : offset + limit])


def patient_entries(query: PatientQuery) -> QuerySet[SearchEntry]:
    """The index entries of the patients that match, before ordering and paging."""
    texts = {"last": query.last, "first": query.first, "barcode": query.barcode}
    entries = matching(SearchEntry.Kind.PATIENT, texts).filter(is_deleted=query.deleted)
    if query.dob:
        entries = entries.filter(dob=query.dob)
    if query.policy:
        policies = matching(SearchEntry.Kind.POLICY, {"code": query.policy}).filter(is_deleted=False)
        holders = list(policies.values_list("name_id", flat=True)[:MAX_POLICY_MATCHES])
        entries = entries.filter(record_id__in=holders)
    return entries


def search_patients(query: PatientQuery) -> list[dict[str, Any]]:
    """Patients of the whole system, each with its insurance policies and notes; [] when none match."""
    ids = _page(patient_entries(query), query.offset, query.limit)
    if not ids:
        return []
    rows = Record.objects.filter(record_type_id="name", record_id__in=ids).values_list("record_id", "wire")
    patients = {rid: typed(orjson.loads(data)) for rid, data in rows}
    # A patient's policies and notes: both tables name the patient in their ref field.
    attached: dict[str, dict[str, list[dict[str, Any]]]] = {"nameInsuranceJoin": {}, "name_note": {}}
    for record_type, holder, data in Record.objects.filter(
        record_type_id__in=list(attached), ref_id__in=ids, is_deleted=False
    ).values_list("record_type", "ref_id", "wire"):
        attached[record_type].setdefault(holder, []).append(typed(orjson.loads(data)))
    return [
        {
            **patients[i],
            "nameInsuranceJoin": attached["nameInsuranceJoin"].get(i, []),
            "nameNotes": attached["name_note"].get(i, []),
        }
        for i in ids
        if i in patients
    ]


def search_prescribers(*, first: str, last: str, code: str, limit: int, offset: int) -> list[dict[str, Any]]:
    texts = {"last": last, "first": first, "code": code}
    entries = matching(SearchEntry.Kind.PRESCRIBER, texts).filter(is_deleted=False)
    ids = _page(entries, offset, limit)
    found = _records("clinician", ids)
    return [
        {**found[i], "registration_code": found[i].get("registration_code") or found[i].get("code", "")}
        for i in ids
        if i in found
    ]


def administrator_id(line: dict[str, Any]) -> str:
    """The line's medicine administrator: the registry's spelling, or the one the app pushes."""
    return str(line.get("medicine_administrator_ID") or line.get("medicine_administrator_id") or "")


def patient_history(*, patient_id: str) -> list[dict[str, Any]]:
    """The patient's prescriptions in every store, newest first, with lines, items and prescriber."""
    rows = (
        Record.objects.filter(record_type_id="transact", transfer_name_id=patient_id, is_deleted=False)
        .order_by("-modified_at")
        .values_list("record_id", "wire")[:MAX_HISTORY]
    )
    transactions = [(rid, typed(orjson.loads(data))) for rid, data in rows]
    transactions = [(rid, t) for rid, t in transactions if t.get("type") == "ci"]
    if not transactions:
        return []
    lines_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for parent, data in Record.objects.filter(
        record_type_id="trans_line", ref_id__in=[rid for rid, _ in transactions], is_deleted=False
    ).values_list("ref_id", "wire"):
        lines_of[parent].append(typed(orjson.loads(data)))
    items = _records(
        "item", sorted({str(line.get("item_ID", "")) for ls in lines_of.values() for line in ls})
    )
    clinicians = _records("clinician", sorted({str(t.get("prescriber_ID", "")) for _, t in transactions}))
    administrators = _records(
        "medicine_administrator", sorted({administrator_id(line) for ls in lines_of.values() for line in ls})
    )
    history = []
    for record_id, transaction in transactions:
        lines = [
            {
                **line,
                "itemLine": {"ID": line.get("item_line_ID", ""), "item": items[line["item_ID"]]}
                if line.get("item_ID") in items
                else None,
                # The vaccinator: the app shows its first_name and last_name (or "not available").
                "medicineAdministrator": administrators.get(administrator_id(line)),
            }
            for line in lines_of.get(record_id, [])
        ]
        clinician = clinicians.get(str(transaction.get("prescriber_ID", "")))
        history.append({**transaction, "clinician": clinician, "transLines": lines})
    history.sort(key=lambda t: str(t.get("confirm_date") or t.get("entry_date") or ""), reverse=True)
    return history
