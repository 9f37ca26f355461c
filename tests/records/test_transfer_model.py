"""Transfers among three sites checked against a model: hypothesis drives pushes of invoices and request
requisitions (headers and lines, together or apart, edited before and after release), replays of
earlier pushes, pulls whose acknowledgement is lost, and drains. However the calls interleave, every
released document has exactly one counterpart in the receiving store, with one copy of each line it
should have, and the receiving site ends up holding it; nothing else leaves the sending site.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from apps.records.models import Record
from apps.records.transfers import counterpart_id
from tests.stateful import SITES, STORES, forget_sync_state, run_machine
from tests.support import SyncClient, client_for, make_site, record

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Kind:
    header: str
    line: str
    parent_field: str
    source_type: str
    counterpart_type: str
    released: frozenset[str]
    link_field: str


INVOICE = Kind(
    "transact", "trans_line", "transaction_ID", "ci", "si", frozenset({"fn"}), "linked_trans_line_ID"
)
REQUEST = Kind(
    "requisition",
    "requisition_line",
    "requisition_ID",
    "request",
    "response",
    frozenset({"cn", "fn"}),
    "linked_requisition_line_ID",
)
KINDS = {"invoice": INVOICE, "request": REQUEST}


@dataclass
class Document:
    kind: Kind
    site: int
    partner: int | None  # None: a customer that is no store
    status: str = ""
    released: bool = False
    live_lines: set[str] = field(default_factory=set)
    copied_lines: set[str] = field(default_factory=set)

    @property
    def receiving_store(self) -> str | None:
        return STORES[self.partner] if self.partner else None


class TransferMachine(RuleBasedStateMachine):
    clients: dict[int, SyncClient] = {}

    def __init__(self) -> None:
        super().__init__()
        forget_sync_state()
        self.documents: dict[str, Document] = {}
        self.pushes: dict[int, list[list[dict[str, Any]]]] = {site: [] for site in SITES}
        self.replica: dict[int, dict[tuple[str, str], dict[str, str]]] = {site: {} for site in SITES}
        self.sync_ids = itertools.count(1)

    def envelope(self, site: int, record_type: str, record_id: str, data: dict[str, Any] | None) -> dict:
        sync_id = f"{site}-{next(self.sync_ids)}"
        sync_type = "D" if data is None else "U"
        return record(
            record_type, record_id, data or {}, sync_id=sync_id, store_id=STORES[site], sync_type=sync_type
        )

    @rule(
        site=st.sampled_from(SITES),
        kind=st.sampled_from(sorted(KINDS)),
        index=st.integers(0, 2),
        partner=st.sampled_from([*SITES, None]),
        status=st.sampled_from(["sg", "cn", "fn"]) | st.none(),
        lines=st.lists(st.tuples(st.integers(0, 2), st.booleans()), max_size=3, unique_by=lambda t: t[0]),
    )
    def satellite_pushes_a_document(self, site, kind, index, partner, status, lines) -> None:
        """A header (None: lines only) and lines (True: upsert, False: delete), in one push."""
        doc_id = f"{kind}-{site}-{index}"
        document = self.documents.get(doc_id)
        if document is None:
            if status is None:
                status = "sg"
            if partner == site:
                partner = None
            document = self.documents[doc_id] = Document(KINDS[kind], site, partner)
        spec = document.kind
        other_party = f"NAME_{document.receiving_store}" if document.partner else "NAME_CUSTOMER"
        envelopes = []
        for line, live in lines:
            line_id = f"{doc_id}-L{line}"
            data = {
                "ID": line_id,
                spec.parent_field: doc_id,
                "item_ID": "ITEM1",
                "note": "x",
                "quantity": line,
            }
            if spec is REQUEST:
                data = {
                    "ID": line_id,
                    spec.parent_field: doc_id,
                    "item_ID": "ITEM1",
                    "Cust_stock_order": line,
                }
            envelopes.append(self.envelope(site, spec.line, line_id, data if live else None))
            (document.live_lines.add if live else document.live_lines.discard)(line_id)
        if status is not None:
            header = {
                "ID": doc_id,
                "store_ID": STORES[site],
                "name_ID": other_party,
                "type": spec.source_type,
                "status": status,
                "daysToSupply": 30,
            }
            if spec is INVOICE:
                del header["daysToSupply"]
            envelopes.append(self.envelope(site, spec.header, doc_id, header))
        if not envelopes:
            return
        body = self.clients[site].push(envelopes)
        assert (body["applied"], body["quarantined"]) == (len(envelopes), 0), body
        self.pushes[site].append(envelopes)
        if status is not None:
            document.status = status
        # The model: all live lines are copied at the release, and lines that arrive later while the
        # document is still released (and its counterpart still new).
        if document.partner and document.status in spec.released:
            if not document.released:
                document.copied_lines |= document.live_lines
            else:
                document.copied_lines |= {f"{doc_id}-L{line}" for line, live in lines if live}
            document.released = True

    @precondition(lambda self: any(self.pushes.values()))
    @rule(data=st.data())
    def satellite_replays_an_earlier_push(self, data: st.DataObject) -> None:
        site = data.draw(st.sampled_from([s for s in SITES if self.pushes[s]]), label="site")
        envelopes = data.draw(st.sampled_from(self.pushes[site]), label="push")
        body = self.clients[site].push(envelopes)
        assert (body["applied"], body["duplicates"]) == (0, len(envelopes))

    @rule(site=st.sampled_from(SITES), limit=st.integers(1, 5), ack=st.booleans())
    def satellite_pulls(self, site: int, limit: int, ack: bool) -> None:
        """ack False: the acknowledgement is lost, so the same records come again."""
        rows = self.clients[site].pull(limit)
        for row in rows:
            assert row["StoreID"] == STORES[site], f"site {site} was sent another store's document: {row}"
            self.replica[site][(row["RecordType"], row["RecordID"])] = row["data"]
        if ack:
            self.clients[site].ack([row["SyncID"] for row in rows])

    @invariant()
    def one_counterpart_per_released_document_with_one_copy_of_each_line(self) -> None:
        for doc_id, document in self.documents.items():
            spec = document.kind
            linked = Record.objects.filter(
                record_type_id=spec.header, data__contains=orjson.dumps(doc_id).decode(), created_by_site_id=1
            )
            if not document.released:
                assert not linked.exists(), doc_id
                continue
            store = document.receiving_store
            assert store is not None
            [(record_id, store_id)] = linked.values_list("record_id", "store_id")
            assert (record_id, store_id) == (counterpart_id(spec.counterpart_type, doc_id, store), store)
            copies = [
                orjson.loads(data)[spec.link_field]
                for data in Record.objects.filter(record_type_id=spec.line, ref_id=record_id).values_list(
                    "data", flat=True
                )
            ]
            assert sorted(copies) == sorted(document.copied_lines), doc_id

    def teardown(self) -> None:
        for site in SITES:
            for row in self.clients[site].drain(batch=7):
                self.replica[site][(row["RecordType"], row["RecordID"])] = row["data"]
        for doc_id, document in self.documents.items():
            if document.released:
                assert document.partner is not None
                spec = document.kind
                key = (spec.header, counterpart_id(spec.counterpart_type, doc_id, STORES[document.partner]))
                assert key in self.replica[document.partner], f"{doc_id} never reached its partner"
                assert self.replica[document.partner][key]["type"] == spec.counterpart_type
        for site in SITES:
            assert not {key for key in self.replica[site] if key[1] in self.documents}, (
                "a sender's document left"
            )


def test_transfers_among_three_sites_create_each_counterpart_once_whatever_the_replays_and_lost_acks():
    TransferMachine.clients = {site: client_for(make_site(site)) for site in SITES}
    # No shrinking: it takes minutes on this machine, and a failure prints its steps anyway.
    run_machine(TransferMachine, examples=25, steps=25, shrink=False)
