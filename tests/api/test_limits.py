"""No request body makes a 500: deep nesting, odd digits, oversized records and bodies are refused in
words, and what is refused changes nothing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.db import connection

from apps.queue.models import PushedSyncId, QuarantinedRecord
from apps.records.models import Record
from apps.records.registry import get_registry
from tests.support import SyncClient, client_for, json_error, make_site, record

pytestmark = pytest.mark.django_db


def location(record_id: str, code: Any, *, sync_id: str) -> dict[str, Any]:
    return record(
        "Location", record_id, {"ID": record_id, "code": code, "store_ID": "STORE2"}, sync_id=sync_id
    )


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [100, 300, 1000])
def test_a_body_nested_too_deep_is_refused_whole_in_words(sat: SyncClient, depth):
    body = b"[" + orjson.dumps(location("L1", "A", sync_id="s0"))[:-1] + b', "x": ' + b"[" * depth
    body += b"]" * depth + b"}]"

    message = json_error(sat.post("queued_records", body), 400)

    assert "deeper than" in message or "not valid JSON" in message
    assert Record.objects.exclude(record_type_id="store").count() == 0
    assert PushedSyncId.objects.count() == 0


def test_an_acknowledgement_nested_too_deep_is_refused(sat: SyncClient):
    body = b'{"SyncRecordIDs": ' + b"[" * 300 + b"]" * 300 + b"}"

    assert "deeper than" in json_error(sat.post("acknowledged_records", body), 400)


def test_a_value_nested_a_little_is_kept(sat: SyncClient):
    assert sat.push([location("L1", {"a": [1, {"b": 2}]}, sync_id="s1")])["applied"] == 1


@pytest.mark.parametrize("number", ["²", "١٢", "3²"])
@pytest.mark.parametrize("key", ["TableNumber", "KeyFieldID", "fields"])
def test_v1_numbers_in_other_digits_are_quarantined_with_their_text(site2, key, number):
    spec = get_registry().types["Location"]
    item = {
        "SyncID": "s1",
        "TableNumber": spec.table_number,
        "RecordID": "L1",
        "KeyFieldID": spec.fields["ID"],
        "SyncType": "U",
        "StoreID": "STORE2",
        "fields": [spec.fields["ID"]],
        "values": ["L1"],
    }
    item[key] = [number] if key == "fields" else number

    body = client_for(site2, version="v1").push([item])

    assert body["quarantined"] == 1
    assert number in body["quarantinedRecords"][0]["reason"]
    assert Record.objects.exclude(record_type_id="store").count() == 0


def test_non_string_ids_are_kept_as_their_json_text(sat: SyncClient):
    item = record("name", "N1", {"ID": "N1", "type": "patient", "name": "x"}, sync_id="")
    item["SyncID"] = {"n": [1, 2.5]}

    body = sat.push([item])

    assert body["applied"] == 1
    assert PushedSyncId.objects.get().sync_id == '{"n":[1,2.5]}'


def test_a_record_over_the_configured_size_is_quarantined_before_the_database(sat: SyncClient, settings):
    settings.SYNC_MAX_RECORD_BYTES = 50_000
    big = location("BIG", "x" * 30_000, sync_id="s1")

    body = sat.push([big, location("SMALL", "A", sync_id="s2")])

    assert (body["applied"], body["quarantined"]) == (1, 1)
    reason = body["quarantinedRecords"][0]["reason"]
    assert "bytes in SQL" in reason and "shorten" in reason
    assert list(Record.objects.exclude(record_type_id="store").values_list("record_id", flat=True)) == [
        "SMALL"
    ]


@pytest.mark.mariadb
@pytest.mark.skipif(connection.vendor != "mysql", reason="max_allowed_packet is a MySQL/MariaDB limit")
def test_a_record_over_max_allowed_packet_is_quarantined_not_a_500(settings):
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@max_allowed_packet")
        packet = int(cursor.fetchone()[0])
    # Stored twice (data and its pull form), hex-encoded: four bytes of SQL per byte of field.
    field = "x" * (packet // 4 + 1000)
    settings.SYNC_MAX_BODY_BYTES = len(field) + (1 << 20)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = settings.SYNC_MAX_BODY_BYTES
    sat = client_for(make_site(2))

    body = sat.push([location("BIG", field, sync_id="s1"), location("SMALL", "A", sync_id="s2")])

    assert (body["applied"], body["quarantined"]) == (1, 1), body["quarantinedRecords"]
    assert "max_allowed_packet" in body["quarantinedRecords"][0]["reason"]
    assert QuarantinedRecord.objects.get().record_id == "BIG"


def test_a_body_over_the_limit_is_413_in_words(sat: SyncClient, settings):
    settings.SYNC_MAX_BODY_BYTES = 1000

    response = sat.post("queued_records", [location("L1", "x" * 2000, sync_id="s1")])

    assert "the limit is 1000" in json_error(response, 413)
    assert Record.objects.exclude(record_type_id="store").count() == 0
