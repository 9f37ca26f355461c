"""`loadrecords`: importing records into the central store, idempotently, and refusing bad files whole."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.records.models import Record
from tests.support import SAMPLES, client_for, make_site, needs_samples

pytestmark = pytest.mark.django_db

SUMMARY = re.compile(
    r"Loaded (\d+) records from (\d+) file\(s\): (\d+) added, (\d+) updated, (\d+) deleted, "
    r"(\d+) unchanged, (\d+) refused\."
)


def load(*paths: Path | str, batch_size: int | None = None) -> tuple[dict[str, int], str]:
    out = StringIO()
    options: dict[str, Any] = {"stdout": out, "stderr": StringIO()}
    if batch_size is not None:
        options["batch_size"] = batch_size
    call_command("loadrecords", *map(str, paths), **options)
    match = SUMMARY.search(out.getvalue())
    assert match, out.getvalue()
    keys = ("total", "files", "added", "updated", "deleted", "unchanged", "refused")
    return dict(zip(keys, map(int, match.groups()), strict=True)), out.getvalue()


def write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_bytes(document if isinstance(document, bytes) else orjson.dumps(document))
    return path


def items() -> list[dict[str, Any]]:
    return [
        {"RecordType": "item", "RecordID": "I1", "data": {"ID": "I1", "item_name": "Aspirin"}},
        {"RecordType": "item", "RecordID": "I2", "Data": {"ID": "I2", "item_name": "Bandage"}},
        {"RecordType": "Location", "RecordID": "L1", "data": {"ID": "L1", "store_ID": "STORE2"}},
    ]


def test_a_file_loads_once_and_a_second_run_finds_everything_unchanged(tmp_path: Path):
    site = make_site(2)
    path = write(tmp_path, "records.json", items())

    first, _ = load(path, batch_size=2)
    second, _ = load(path, batch_size=2)

    assert (first["added"], first["updated"], first["unchanged"], first["refused"]) == (3, 0, 0, 0)
    assert (second["added"], second["updated"], second["unchanged"], second["refused"]) == (0, 0, 3, 0)
    assert Record.objects.get(record_type_id="item", record_id="I2").source_site_id == 1
    # Loaded records are fanned out like any change made on the primary.
    assert sorted(r["RecordID"] for r in client_for(site).pull()) == ["I1", "I2", "L1"]


def test_a_changed_record_is_updated_and_a_delete_is_applied(tmp_path: Path):
    load(write(tmp_path, "first.json", items()))
    changes = [
        {"RecordType": "item", "RecordID": "I1", "data": {"ID": "I1", "item_name": "Aspirin 100mg"}},
        {"RecordType": "item", "RecordID": "I2", "SyncType": "D"},
    ]
    counts, _ = load(write(tmp_path, "second.json", changes))
    assert (counts["updated"], counts["deleted"]) == (1, 1)
    assert Record.objects.get(record_id="I2").is_deleted


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[{not json", "is not valid JSON"),
        ({"records": []}, "must be a JSON list"),
        ([items()[0], "a string"], "item 1 is not a JSON object"),
        ([items()[0], {"RecordID": "X", "data": {}}], "item 1 has no RecordType"),
        (
            [items()[0], {"RecordType": "item", "RecordID": "X"}],
            r"item 1 \(item X\): an insert or update needs a Data object",
        ),
        ([items()[0], {"RecordType": "item", "RecordID": "X", "SyncType": "Z"}], "SyncType 'Z'"),
        ({"legacy_table_name": "item", "records": [{"record": "x"}]}, r"records\[0\]"),
    ],
)
def test_a_malformed_file_is_refused_naming_it_and_nothing_is_applied(
    tmp_path: Path, content: Any, message: str
):
    good = write(tmp_path, "good.json", items())
    bad = write(tmp_path, "bad.json", content)
    with pytest.raises(CommandError, match=message) as error:
        load(good, bad)
    assert "bad.json" in str(error.value)
    # Every file is checked first, so even the good file before it was not applied.
    assert not Record.objects.exclude(record_type_id="store").exists()


def test_a_missing_file_is_refused_in_words(tmp_path: Path):
    with pytest.raises(CommandError, match=r"Cannot read .*nope\.json"):
        load(tmp_path / "nope.json")


def test_records_that_cannot_be_applied_are_counted_and_their_reasons_shown(tmp_path: Path):
    changes = [
        *items(),
        {"RecordType": "no_such_table", "RecordID": "X1", "data": {"ID": "X1"}},
        {"RecordType": "item", "RecordID": "I9", "data": {"ID": "I9", "default_pack_size": "many"}},
    ]
    counts, output = load(write(tmp_path, "mixed.json", changes))
    assert (counts["added"], counts["refused"]) == (3, 2)
    assert "refused mixed.json: no_such_table X1: unknown record type 'no_such_table'" in output
    assert 'item.default_pack_size: "many" is not a number' in output
    assert not Record.objects.filter(record_id__in=["X1", "I9"]).exists()


def test_a_sample_file_takes_its_record_ids_from_the_registry_key_field(tmp_path: Path):
    sample = {
        "legacy_table_name": "item",
        "records": [
            {"fixture_const": "A", "record": {"ID": "S1", "item_name": "first"}},
            {"fixture_const": "B", "record": {"ID": "S1", "item_name": "second"}},
            {"fixture_const": "FRAGMENT", "record": {"item_name": "no key"}},
        ],
    }
    counts, output = load(write(tmp_path, "item.json", sample), batch_size=1)
    assert (counts["total"], counts["added"], counts["refused"]) == (1, 1, 0)
    assert "1 id(s) appeared more than once in a file: the last one was loaded." in output
    assert "Skipped 1 sample fixture(s) without their key field" in output and "FRAGMENT" in output
    assert orjson.loads(Record.objects.get(record_id="S1").data)["item_name"] == "second"
    again, _ = load(tmp_path / "item.json", batch_size=1)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 1)


def test_a_batch_size_below_one_is_refused(tmp_path: Path):
    with pytest.raises(CommandError, match="--batch-size must be 1 or more"):
        load(write(tmp_path, "records.json", items()), batch_size=0)
    assert not Record.objects.exclude(record_type_id="store").exists()


@needs_samples
def test_every_legacy_sample_file_loads_without_refusal_and_then_is_unchanged():
    make_site(2)
    files = sorted((SAMPLES / "legacy-records").glob("*.json"))
    assert len(files) > 80

    first, output = load(*files)
    second, _ = load(*files)

    assert first["refused"] == 0, output
    assert first["added"] == first["total"] > 150
    assert (second["added"], second["updated"], second["deleted"], second["refused"]) == (0, 0, 0, 0)
    assert second["unchanged"] == first["total"]
    assert Record.objects.count() == first["total"] + 1  # and the store record of site 2's store
