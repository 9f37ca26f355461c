"""`quarantine list | replay | discard`: the operator's view of pushed records that could not be applied."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.api.replay import discard_quarantined, replay_quarantined
from apps.queue.models import QuarantinedRecord
from apps.sites.models import Site

PENDING = QuarantinedRecord.Status.PENDING
REASON_WIDTH = 80
SHOWN_REASONS = 10


class Command(BaseCommand):
    help = (
        "Pushed records that could not be applied wait in quarantine with their raw text and the reason. "
        "'list' shows the pending ones; fix the cause (assign the store to the site, correct the registry, "
        "or edit the raw text in the admin), then 'replay' them; 'discard' gives up on them."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,replay,discard}")
        listing = actions.add_parser("list", help="Show the pending records, oldest first.")
        listing.add_argument("--site", type=int, dest="site_id", help="Only this site's records.")
        listing.add_argument("--limit", type=int, default=200, help="Show at most this many (default 200).")
        replay = actions.add_parser("replay", help="Apply pending records again after fixing their cause.")
        replay.add_argument("ids", nargs="*", type=int, metavar="ID", help="Quarantine ids (from 'list').")
        replay.add_argument("--all", action="store_true", help="Replay every pending record, oldest first.")
        replay.add_argument("--site", type=int, dest="site_id", help="With --all: only this site's records.")
        discard = actions.add_parser("discard", help="Give up on pending records for good.")
        discard.add_argument("ids", nargs="+", type=int, metavar="ID", help="Quarantine ids (from 'list').")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "list":
            self._list(site_id=options["site_id"], limit=options["limit"])
        elif action == "replay":
            self._replay(ids=options["ids"], replay_all=options["all"], site_id=options["site_id"])
        else:
            self._discard(ids=options["ids"])

    def _list(self, *, site_id: int | None, limit: int) -> None:
        if limit < 1:
            raise CommandError(f"--limit must be 1 or more, not {limit}.")
        pending = _pending(site_id=site_id).order_by("received_at", "pk")
        rows = list(pending[: limit + 1])
        if not rows:
            self.stdout.write("No records are waiting in quarantine.")
            return
        shown = rows[:limit]
        table = [("ID", "SITE", "TYPE", "RECORD ID", "REASON")] + [
            (str(q.pk), str(q.site_id), q.record_type, q.record_id, _short(q.reason)) for q in shown
        ]
        widths = [max(len(row[i]) for row in table) for i in range(4)]
        for row in table:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[4]]))
        if len(rows) > limit:
            self.stdout.write(f"... more are pending; narrow with --site or raise --limit (shown {limit}).")

    def _replay(self, *, ids: list[int], replay_all: bool, site_id: int | None) -> None:
        if replay_all == bool(ids):
            raise CommandError("Give the quarantine ids to replay, or --all (not both).")
        if site_id is not None and not replay_all:
            raise CommandError("--site narrows --all; with ids, the ids already say which records.")
        if replay_all:
            records = list(_pending(site_id=site_id).order_by("received_at", "pk"))
        else:
            records = _pending_by_ids(ids)
        result = replay_quarantined(quarantined=records)
        self.stdout.write(
            f"Replayed {result.replayed} record(s); {result.still_refused} still refused and left pending."
        )
        for reason in result.reasons[:SHOWN_REASONS]:
            self.stdout.write(f"  {reason}")
        if len(result.reasons) > SHOWN_REASONS:
            self.stdout.write(f"  ... and {len(result.reasons) - SHOWN_REASONS} more.")

    def _discard(self, *, ids: list[int]) -> None:
        discarded = discard_quarantined(quarantined=_pending_by_ids(ids))
        self.stdout.write(f"Discarded {discarded} quarantined record(s).")


def _pending(*, site_id: int | None):
    records = QuarantinedRecord.objects.filter(status=PENDING)
    if site_id is not None:
        if not Site.objects.filter(pk=site_id).exists():
            raise CommandError(f"There is no site {site_id}.")
        records = records.filter(site_id=site_id)
    return records


def _pending_by_ids(ids: list[int]) -> list[QuarantinedRecord]:
    """The records, in the order given; every id must be pending, or nothing is done."""
    found = {q.pk: q for q in QuarantinedRecord.objects.filter(pk__in=ids)}
    missing = sorted({i for i in ids if i not in found})
    if missing:
        raise CommandError(
            f"No quarantined record has id {', '.join(map(str, missing))}; see 'quarantine list'."
        )
    resolved = sorted({i for i in ids if found[i].status != PENDING})
    if resolved:
        described = ", ".join(f"{i} ({found[i].status})" for i in resolved)
        raise CommandError(f"Not pending any more: {described}. Nothing was done.")
    return [found[i] for i in dict.fromkeys(ids)]


def _short(reason: str) -> str:
    flat = " ".join(reason.split())
    return flat if len(flat) <= REASON_WIDTH else flat[: REASON_WIDTH - 3] + "..."
