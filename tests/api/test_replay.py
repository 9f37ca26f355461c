"""Quarantine: a refused push waits with its raw text, and once its cause is fixed a replay applies it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.api.replay import discard_quarantined, replay_quarantined
from apps.queue.models import QuarantinedRecord, QueueEntry
from apps.records.models import Record
from apps.records.registry import get_registry
from apps.records.transfers import counterpart_id
from apps.sites.models import Store
from apps.sites.services import store_create
from tests.support import client_for, make_site, record

pytestmark = pytest.mark.django_db

Status = QuarantinedRecord.Status


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def invoice(record_id: str, store_id: str, **extra: str) -> dict[str, str]:
    """A finalised customer invoice from `store_id` to STORE3's name: site 3 must receive its supplier
    invoice, so what site 3 pulls shows whether the invoice was applied."""
    data = {"ID": record_id, "store_ID": store_id, "name_ID": "NAME_STORE3", "type": "ci", "status": "fn"}
    return {**data, **extra}


def received_by_site3(invoice_id: str) -> str:
    return counterpart_id("si", invoice_id, "STORE3")


@pytest.fixture
def sites() -> dict[str, Any]:
    site2 = make_site(2)
    site3 = make_site(3)
    # A store that exists but is not (yet) active on any site.
    store_create(store_id="NEWSTORE", name="New store", site_id=None, name_id="NAME_NEWSTORE")
    QueueEntry.objects.all().delete()  # its store record was queued to every site
    return {"site2": site2, "pusher": client_for(site2), "receiver": client_for(site3)}


def push_quarantined(pusher, records: list[dict[str, Any]]) -> list[QuarantinedRecord]:
    """The quarantined records, in the order of `records` (quarantine keeps its own order)."""
    body = pusher.push(records)
    assert body["quarantined"] == len(records), body
    by_id = {q.record_id: q for q in QuarantinedRecord.objects.all()}
    return [by_id[r["RecordID"]] for r in records]


def test_a_record_refused_for_its_store_applies_once_the_store_is_on_the_site(sites):
    [quarantined] = push_quarantined(
        sites["pusher"],
        [record("transact", "T1", invoice("T1", "NEWSTORE"), sync_id="s1", store_id="NEWSTORE")],
    )
    assert "NEWSTORE is not active on this site" in quarantined.reason
    assert not Record.objects.filter(record_id="T1").exists()
    assert sites["receiver"].count() == 0

    Store.objects.filter(pk="NEWSTORE").update(site_id=2)
    result = replay_quarantined(quarantined=[quarantined])

    assert (result.replayed, result.still_refused, result.reasons) == (1, 0, [])
    quarantined.refresh_from_db()
    assert quarantined.status == Status.REPLAYED and quarantined.resolved_at is not None
    stored = Record.objects.get(record_type_id="transact", record_id="T1")
    assert (stored.store_id, stored.source_site_id) == ("NEWSTORE", 2)
    pulled = sites["receiver"].pull()
    assert [(r["RecordType"], r["RecordID"]) for r in pulled] == [("transact", received_by_site3("T1"))]
    assert (pulled[0]["data"]["linked_transaction_id"], pulled[0]["data"]["name_ID"]) == (
        "T1",
        "NAME_NEWSTORE",
    )
    # No echo: the pushing site is not sent its own change.
    assert sites["pusher"].count() == 0


def test_an_operator_fixes_the_raw_text_then_replays_it_with_the_command(sites):
    [quarantined] = push_quarantined(
        sites["pusher"],
        [record("transact", "T2", invoice("T2", "STORE2", total="a lot"), sync_id="s2", store_id="STORE2")],
    )
    assert 'transact.total: "a lot" is not a number' in quarantined.reason
    raw = orjson.loads(quarantined.raw)
    raw["Data"]["total"] = "12.5"
    QuarantinedRecord.objects.filter(pk=quarantined.pk).update(raw=orjson.dumps(raw).decode())

    output = run("quarantine", "replay", str(quarantined.pk))

    assert "Replayed 1 record(s); 0 still refused" in output
    assert [r["RecordID"] for r in sites["receiver"].pull()] == [received_by_site3("T2")]
    assert QuarantinedRecord.objects.get(pk=quarantined.pk).status == Status.REPLAYED


def test_a_record_still_refused_stays_pending_with_the_new_reason_and_does_not_undo_others(sites):
    _, broken = push_quarantined(
        sites["pusher"],
        [
            record("transact", "T3", invoice("T3", "NEWSTORE"), sync_id="s3", store_id="NEWSTORE"),
            record("transact", "T4", invoice("T4", "STORE2", total="a lot"), sync_id="s4", store_id="STORE2"),
        ],
    )
    Store.objects.filter(pk="NEWSTORE").update(site_id=2)
    # The operator "fixes" T4 the wrong way: the total is a number, but now it names site 3's store.
    raw = orjson.loads(broken.raw)
    raw["Data"] = invoice("T4", "STORE3")
    QuarantinedRecord.objects.filter(pk=broken.pk).update(raw=orjson.dumps(raw).decode())

    result = replay_quarantined(quarantined=QuarantinedRecord.objects.filter(status=Status.PENDING))

    assert (result.replayed, result.still_refused) == (1, 1)
    assert result.reasons == [f"#{broken.pk} transact T4: store STORE3 is not active on this site"]
    broken.refresh_from_db()
    assert (broken.status, broken.resolved_at) == (Status.PENDING, None)
    assert broken.reason == "store STORE3 is not active on this site"
    assert Record.objects.filter(record_id="T3").exists()
    assert not Record.objects.filter(record_id="T4").exists()


def test_a_record_pushed_through_v1_is_replayed_with_the_v1_codec(sites):
    spec = get_registry().get("transact")
    assert spec is not None
    data = invoice("T5", "NEWSTORE")
    v1 = client_for(sites["site2"], version="v1")
    body = v1.push(
        [
            {
                "SyncID": "v1-1",
                "TableNumber": spec.table_number,
                "RecordID": "T5",
                "KeyFieldID": spec.fields[spec.key_field],
                "SyncType": "I",
                "StoreID": "NEWSTORE",
                "fields": [spec.fields[name] for name in data],
                "values": list(data.values()),
            }
        ]
    )
    assert body["quarantined"] == 1
    quarantined = QuarantinedRecord.objects.get(api_version="v1")
    Store.objects.filter(pk="NEWSTORE").update(site_id=2)

    assert replay_quarantined(quarantined=[quarantined]).replayed == 1
    assert [r["RecordID"] for r in sites["receiver"].pull()] == [received_by_site3("T5")]


@pytest.mark.parametrize(
    ("api_version", "raw", "reason"),
    [
        ("v9", "{}", "no codec reads API version 'v9'"),
        ("v3", "{not json", "the raw text is not valid JSON"),
        ("v3", "[1, 2]", "the raw text is not one JSON object"),
    ],
)
def test_a_record_that_cannot_be_decoded_stays_refused_with_the_reason(
    sites, api_version: str, raw: str, reason: str
):
    quarantined = QuarantinedRecord.objects.create(
        site_id=2, api_version=api_version, raw=raw, reason="old", received_at=timezone.now()
    )
    result = replay_quarantined(quarantined=[quarantined])
    assert (result.replayed, result.still_refused) == (0, 1)
    quarantined.refresh_from_db()
    assert quarantined.status == Status.PENDING
    assert quarantined.reason.startswith(reason)


def test_discarded_records_are_not_replayed_and_the_command_refuses_them_in_words(sites):
    first, second = push_quarantined(
        sites["pusher"],
        [
            record("transact", "T6", invoice("T6", "NEWSTORE"), sync_id="s6", store_id="NEWSTORE"),
            record("transact", "T7", invoice("T7", "NEWSTORE"), sync_id="s7", store_id="NEWSTORE"),
        ],
    )
    assert discard_quarantined(quarantined=[first]) == 1
    Store.objects.filter(pk="NEWSTORE").update(site_id=2)

    with pytest.raises(CommandError, match=f"Not pending any more: {first.pk} \\(discarded\\)"):
        run("quarantine", "replay", str(first.pk), str(second.pk))
    # Nothing was done: the pending record was not replayed either.
    assert QuarantinedRecord.objects.get(pk=second.pk).status == Status.PENDING
    assert replay_quarantined(quarantined=[first]).replayed == 0
    assert not Record.objects.filter(record_id="T6").exists()

    assert "Discarded 1 quarantined record(s)." in run("quarantine", "discard", str(second.pk))
    second.refresh_from_db()
    assert second.status == Status.DISCARDED and second.resolved_at is not None


def test_quarantine_list_shows_the_pending_records_of_a_site(sites):
    first, second = push_quarantined(
        sites["pusher"],
        [
            record("transact", "T8", invoice("T8", "NEWSTORE"), sync_id="s8", store_id="NEWSTORE"),
            record("transact", "T9", invoice("T9", "NEWSTORE"), sync_id="s9", store_id="NEWSTORE"),
        ],
    )
    discard_quarantined(quarantined=[second])

    lines = run("quarantine", "list", "--site", "2").splitlines()

    assert lines[0].split() == ["ID", "SITE", "TYPE", "RECORD", "ID", "REASON"]
    assert lines[1].split()[:4] == [str(first.pk), "2", "transact", "T8"]
    assert "store NEWSTORE is not active on this site" in lines[1]
    assert len(lines) == 2
    assert run("quarantine", "list", "--site", "3").strip() == "No records are waiting in quarantine."


def test_quarantine_replay_all_replays_every_pending_record_of_the_site(sites):
    push_quarantined(
        sites["pusher"],
        [record("transact", "TA", invoice("TA", "NEWSTORE"), sync_id="sa", store_id="NEWSTORE")],
    )
    Store.objects.filter(pk="NEWSTORE").update(site_id=2)
    assert "Replayed 0 record(s)" in run("quarantine", "replay", "--all", "--site", "3")
    assert "Replayed 1 record(s); 0 still refused" in run("quarantine", "replay", "--all", "--site", "2")
    assert not QuarantinedRecord.objects.filter(status=Status.PENDING).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay"], "Give the quarantine ids to replay, or --all"),
        (["replay", "1", "--all"], "Give the quarantine ids to replay, or --all"),
        (["replay", "1", "--site", "2"], "--site narrows --all"),
        (["replay", "999"], "No quarantined record has id 999"),
        (["discard", "999"], "No quarantined record has id 999"),
        (["list", "--site", "42"], "There is no site 42"),
    ],
)
def test_quarantine_command_refuses_bad_input_in_words(sites, args: list[str], message: str):
    with pytest.raises(CommandError, match=message):
        run("quarantine", *args)
