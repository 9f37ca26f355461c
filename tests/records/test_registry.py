"""The record-type registry: it loads, its numbers are unique and stable, and it covers mSupply's tables.

Table and field numbers are the v1 wire format, so once released they are frozen: registry_snapshot.json
(beside this file) holds every released number. Adding tables or fields is fine; when releasing them, add
their numbers to the snapshot too. Changing, withdrawing or reusing a snapshotted number fails here.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from apps.records.registry import REGISTRY_PATH, Registry, RegistryError, get_registry, parse_registry
from tests.support import SAMPLES, needs_samples

SNAPSHOT_PATH = Path(__file__).with_name("registry_snapshot.json")
Snapshot = dict[str, dict[str, Any]]


def load_snapshot() -> Snapshot:
    return orjson.loads(SNAPSHOT_PATH.read_bytes())


def registry_document() -> dict[str, Any]:
    return orjson.loads(REGISTRY_PATH.read_bytes())


def snapshot_violations(snapshot: Snapshot, registry: Registry) -> list[str]:
    """Every way the registry breaks a released number: changed, withdrawn, or given to another name."""
    problems: list[str] = []
    released_tables = {entry["number"]: name for name, entry in snapshot.items()}
    for spec in registry.types.values():
        owner = released_tables.get(spec.table_number)
        if owner is not None and owner != spec.name:
            problems.append(
                f"table number {spec.table_number} was released for {owner}, now used by {spec.name}"
            )
    for name, entry in snapshot.items():
        spec = registry.get(name)
        if spec is None:
            problems.append(f"table {name} (number {entry['number']}) was withdrawn")
            continue
        if spec.table_number != entry["number"]:
            problems.append(f"table {name} changed number {entry['number']} -> {spec.table_number}")
        released_fields = {number: field for field, number in entry["fields"].items()}
        for field, number in spec.fields.items():
            owner = released_fields.get(number)
            if owner is not None and owner != field:
                problems.append(
                    f"{name}: field number {number} was released for {owner}, now used by {field}"
                )
        for field, number in entry["fields"].items():
            if field not in spec.fields:
                problems.append(f"{name}: field {field} (number {number}) was withdrawn")
            elif spec.fields[field] != number:
                problems.append(f"{name}: field {field} changed number {number} -> {spec.fields[field]}")
    return problems


def test_the_registry_fixture_loads_with_a_numbered_key_for_every_table() -> None:
    registry = get_registry()
    assert len(registry.types) == len(registry.by_number) >= 80
    for spec in registry.types.values():
        assert spec.table_number > 0, spec.name
        assert spec.key_field in spec.fields, spec.name
        assert all(number > 0 for number in spec.fields.values()), spec.name
        assert registry.by_number[spec.table_number] is spec


def test_table_numbers_and_each_tables_field_numbers_are_unique_in_the_fixture() -> None:
    # Checked on the raw document: a loader that silently kept the last duplicate would hide one.
    entries = registry_document()["record_types"]
    numbers = [entry["table_number"] for entry in entries]
    assert len(numbers) == len(set(numbers))
    assert len({entry["name"] for entry in entries}) == len(entries)
    for entry in entries:
        field_numbers = list(entry["fields"].values())
        assert len(field_numbers) == len(set(field_numbers)), entry["name"]


def test_the_loader_refuses_a_table_number_used_twice() -> None:
    document = registry_document()
    document["record_types"][1]["table_number"] = document["record_types"][0]["table_number"]
    with pytest.raises(RegistryError, match="used by two record types"):
        parse_registry(orjson.dumps(document))


def test_invoices_and_requisitions_declare_their_transfer_rules() -> None:
    registry = get_registry()
    invoice, requisition = registry.types["transact"].transfer, registry.types["requisition"].transfer
    assert invoice is not None and requisition is not None
    assert (invoice.source_type, invoice.counterpart_type, invoice.lines) == ("ci", "si", "trans_line")
    assert (requisition.source_type, requisition.counterpart_type) == ("request", "response")
    # The documents themselves stay home: the other party gets its own counterpart.
    assert registry.types["transact"].scope == registry.types["requisition"].scope == "store"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"rule": "gift"}, "unknown transfer rule 'gift'"),
        ({"lines": "item_line"}, "transfer lines item_line must be its children"),
    ],
)
def test_the_loader_refuses_a_transfer_rule_it_cannot_apply(change: dict[str, str], words: str) -> None:
    document = registry_document()
    entry = next(e for e in document["record_types"] if e["name"] == "transact")
    entry["transfer"] = {**entry["transfer"], **change}
    with pytest.raises(RegistryError, match=words):
        parse_registry(orjson.dumps(document))


def test_the_loader_refuses_two_fields_with_one_number() -> None:
    document = registry_document()
    fields = document["record_types"][0]["fields"]
    first, second = list(fields)[:2]
    fields[second] = fields[first]
    with pytest.raises(RegistryError, match="two fields share a number"):
        parse_registry(orjson.dumps(document))


@needs_samples
def test_every_sample_table_is_registered_with_every_field_its_records_carry() -> None:
    registry = get_registry()
    files = sorted((SAMPLES / "legacy-records").glob("*.json"))
    assert files
    missing: list[str] = []
    for path in files:
        sample = orjson.loads(path.read_bytes())
        spec = registry.get(sample["legacy_table_name"])
        if spec is None:
            missing.append(f"table {sample['legacy_table_name']} ({path.name})")
            continue
        for entry in sample["records"]:
            record = entry["record"]
            unknown = sorted(set(record) - set(spec.fields)) if isinstance(record, dict) else []
            missing += [f"{spec.name}.{name} ({entry['fixture_const']})" for name in unknown]
    assert missing == []


def test_no_released_table_or_field_number_was_changed_withdrawn_or_reused() -> None:
    assert snapshot_violations(load_snapshot(), get_registry()) == []


def _mutated(change: Any) -> Registry:
    document = copy.deepcopy(registry_document())
    change({entry["name"]: entry for entry in document["record_types"]}, document)
    return parse_registry(orjson.dumps(document))


def test_the_snapshot_check_fails_when_a_table_number_changes() -> None:
    def renumber(by_name: dict[str, Any], _: Any) -> None:
        by_name["item"]["table_number"] = 9000

    problems = snapshot_violations(load_snapshot(), _mutated(renumber))
    assert problems == ["table item changed number 27 -> 9000"]


def test_the_snapshot_check_fails_when_a_field_number_changes_or_is_reused() -> None:
    def swap(by_name: dict[str, Any], _: Any) -> None:
        fields = by_name["unit"]["fields"]
        fields["units"], fields["comment"] = fields["comment"], fields["units"]

    problems = snapshot_violations(load_snapshot(), _mutated(swap))
    assert any("unit: field units changed number" in p for p in problems), problems
    assert any("unit: field number" in p and "now used by" in p for p in problems), problems


def test_the_snapshot_check_fails_when_a_withdrawn_number_is_given_to_a_new_table() -> None:
    def replace_warning(by_name: dict[str, Any], document: dict[str, Any]) -> None:
        by_name["warning"]["name"] = "new_warning"

    problems = snapshot_violations(load_snapshot(), _mutated(replace_warning))
    assert "table number 87 was released for warning, now used by new_warning" in problems
    assert "table warning (number 87) was withdrawn" in problems


def test_the_snapshot_check_allows_new_tables_and_new_fields() -> None:
    def extend(by_name: dict[str, Any], document: dict[str, Any]) -> None:
        by_name["unit"]["fields"]["new_field"] = max(by_name["unit"]["fields"].values()) + 1
        new_table = copy.deepcopy(by_name["warning"])
        new_table.update(name="brand_new", table_number=1000)
        document["record_types"].append(new_table)

    assert snapshot_violations(load_snapshot(), _mutated(extend)) == []
