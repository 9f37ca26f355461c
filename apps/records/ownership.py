"""Who may change what: a satellite writes only its own records, as the registry declares per table.

Ownership is decided on what the central store held *before* the change (`StoredState`), never on the
record as the change would leave it: otherwise a site could take another site's record by pushing it
with its own store id. The rules (docs/protocol.md, "Ownership"):

- store data (scope store/transfer): the record's store, before and after, is active on the site;
- central data: only tables marked `satellite_may_create`; a record the site created, or, for tables
  marked `satellite_may_edit: visible`, one that a store of the site can see through the table's
  `mobile_via` join (a patient through name_store_join); `satellite_only_when` limits the records a
  satellite may write at all (only names of type patient);
- the primary (admin, loadrecords, imports) may change anything.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from apps.sites.models import PRIMARY_SITE_ID

from .canonical import CanonicalRecord, read_wire
from .changes import Change
from .models import Record
from .registry import RecordTypeSpec, Registry
from .storage import StoredRecord


@dataclass(frozen=True, slots=True)
class StoredState:
    store_id: str
    ref_id: str
    created_by_site_id: int
    wire: str

    @classmethod
    def of(cls, record: StoredRecord) -> StoredState:
        return cls(record.store_id, record.ref_id, record.created_by_site_id, record.wire)


@dataclass
class OwnershipGuard:
    source_site_id: int
    owner_store_ids: set[str] | None
    before: dict[tuple[str, str], StoredState]
    # Per join table, the ids (record id or ref) that one of the site's stores can see.
    visible: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def for_batch(
        cls,
        *,
        source_site_id: int,
        owner_store_ids: set[str] | None,
        registry: Registry,
        before: dict[tuple[str, str], StoredState],
        changes: dict[tuple[str, str], Change],
        canonical: dict[tuple[str, str], CanonicalRecord],
    ) -> OwnershipGuard:
        guard = cls(source_site_id, owner_store_ids, before)
        if guard.primary_writes:
            return guard
        wanted: dict[str, set[str]] = defaultdict(set)
        for key in changes:
            spec = registry.types[key[0]]
            stored = before.get(key)
            if (
                spec.satellite_may_edit == "visible"
                and stored
                and stored.created_by_site_id != source_site_id
            ):
                wanted[spec.mobile_via or ""].add(guard._visibility_key(spec, key[1], stored))
        for join_type, ids in wanted.items():
            guard.visible[join_type] = set(
                Record.objects.filter(
                    record_type_id=join_type,
                    is_deleted=False,
                    store_id__in=sorted(owner_store_ids or ()),
                    ref_id__in=sorted(ids),
                ).values_list("ref_id", flat=True)
            )
        return guard

    @property
    def primary_writes(self) -> bool:
        return self.owner_store_ids is None or self.source_site_id == PRIMARY_SITE_ID

    @staticmethod
    def _visibility_key(spec: RecordTypeSpec, record_id: str, stored: StoredState) -> str:
        return record_id if spec.mobile_match == "id" else stored.ref_id

    def refusal(
        self, spec: RecordTypeSpec, record_id: str, new_store_id: str, fields: CanonicalRecord | None
    ) -> str | None:
        """Why the site may not make this change (`fields` None for a delete); None when it may."""
        if self.primary_writes:
            return None
        stored = self.before.get((spec.name, record_id))
        if spec.is_central:
            return self._central_refusal(spec, record_id, stored, fields)
        owned = self.owner_store_ids or set()
        if not new_store_id:
            return f"the {spec.name} record names no store (set {spec.store_field or 'StoreID'})"
        if new_store_id not in owned:
            return f"store {new_store_id} is not active on this site"
        if stored is not None and stored.store_id and stored.store_id not in owned:
            return f"the record belongs to store {stored.store_id}, which is not active on this site"
        return None

    def _central_refusal(
        self, spec: RecordTypeSpec, record_id: str, stored: StoredState | None, fields: CanonicalRecord | None
    ) -> str | None:
        if not spec.satellite_may_create:
            return f"{spec.name} is central data, edited on the primary only"
        for name, allowed in spec.satellite_only_when.items():
            wanted = " or ".join(allowed)
            if fields is not None and fields.get(name) not in allowed:
                return f"a satellite may write only {spec.name} records whose {name} is {wanted}"
            if stored is not None and stored.wire and read_wire(stored.wire).get(name, "") not in allowed:
                return f"this {spec.name} is not one whose {name} is {wanted}: it is edited on the primary"
        if stored is None or stored.created_by_site_id == self.source_site_id:
            return None
        if spec.satellite_may_edit == "visible":
            if self._visibility_key(spec, record_id, stored) in self.visible.get(spec.mobile_via or "", ()):
                return None
            return (
                f"this {spec.name} was created by another site and no store of this site can see it "
                f"(through {spec.mobile_via})"
            )
        return f"this {spec.name} was created by another site; only its creator may change it"
