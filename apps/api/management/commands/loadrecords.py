"""`loadrecords FILE [FILE ...]`: import records into the central store as changes made on the primary.

Everything goes through apps.queue.services.primary_changes_apply, the same write path as the admin, so
loaded records are validated against the registry and queued for the sites they route to. Loading the
same files twice changes nothing the second time (every record reports as unchanged).

Two file shapes are read:
- a list of changes: `[{"RecordType", "RecordID", "data" | "Data", "SyncType"?}, ...]`, SyncType I/U
  (the default) or D (a delete, no data) or M (a merge, with mergeIDtokeep), read by the v2/v3 codec
  (apps/api/codecs/named.py) as a push would be;
- a legacy-records sample file as it is: `{"legacy_table_name", "records": [{"fixture_const", "record"}]}`,
  where each RecordID is the record's key field from the registry.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.api.codecs import named
from apps.api.codecs.common import text
from apps.queue.services import primary_changes_apply
from apps.records.changes import Change, Refusal
from apps.records.registry import get_registry

SHOWN_REFUSALS = 5


@dataclass
class ParsedFile:
    path: Path
    changes: list[Change]
    repeated: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass
class Totals:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Import records into the central store, as changes made on the primary, and queue them for the "
        "sites they route to. FILE is a JSON list of {RecordType, RecordID, data, SyncType} objects, or "
        "a legacy-records sample file ({legacy_table_name, records: [{fixture_const, record}]}). Every "
        "file is checked before anything is loaded; a file that is not JSON or has the wrong shape stops "
        "the command with nothing applied. Loading the same files again reports them all unchanged."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", type=Path, help="JSON files to load.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            metavar="N",
            help="Records applied per transaction (default 500).",
        )

    def handle(self, *args: Any, files: list[Path], batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError(f"--batch-size must be 1 or more, not {batch_size}.")
        # Read and check every file first, so a bad file stops the command before anything is written.
        parsed = [parse_file(path) for path in files]
        total = sum(len(p.changes) for p in parsed)
        stream: TextIO = getattr(self.stderr, "_out", sys.stderr)
        interactive = stream.isatty()
        totals = Totals()
        with tqdm(total=total, unit="rec", file=stream, disable=not interactive) as progress:
            for loaded in parsed:
                progress.set_description(loaded.path.name)
                for start in range(0, len(loaded.changes), batch_size):
                    batch = loaded.changes[start : start + batch_size]
                    result = primary_changes_apply(changes=batch)
                    totals.added += result.added
                    totals.updated += result.updated
                    totals.deleted += result.deleted
                    totals.unchanged += result.unchanged
                    totals.refused += [
                        f"{loaded.path.name}: {r.change.record_type or '?'} "
                        f"{r.change.record_id or '(no id)'}: {r.reason}"
                        for r in result.refused
                    ]
                    progress.update(len(batch))
                if not interactive:
                    self.stderr.write(f"{loaded.path.name}: {len(loaded.changes)} records")
        self._summarise(parsed, total, totals)

    def _summarise(self, parsed: list[ParsedFile], total: int, totals: Totals) -> None:
        self.stdout.write(
            f"Loaded {total} records from {len(parsed)} file(s): {totals.added} added, "
            f"{totals.updated} updated, {totals.deleted} deleted, {totals.unchanged} unchanged, "
            f"{len(totals.refused)} refused."
        )
        repeated = sum(p.repeated for p in parsed)
        if repeated:
            self.stdout.write(f"{repeated} id(s) appeared more than once in a file: the last one was loaded.")
        skipped = [f"{p.path.name} {name}" for p in parsed for name in p.skipped]
        if skipped:
            self.stdout.write(
                f"Skipped {len(skipped)} sample fixture(s) without their key field (fragments, not "
                f"records): {', '.join(skipped[:SHOWN_REFUSALS])}{' ...' if len(skipped) > 5 else ''}"
            )
        for line in totals.refused[:SHOWN_REFUSALS]:
            self.stdout.write(f"  refused {line}")
        if len(totals.refused) > SHOWN_REFUSALS:
            self.stdout.write(f"  ... and {len(totals.refused) - SHOWN_REFUSALS} more refused.")


def parse_file(path: Path) -> ParsedFile:
    """The file's changes, or a CommandError naming the file and what is wrong with it."""
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}. Nothing was loaded.") from exc
    except orjson.JSONDecodeError as exc:
        raise CommandError(f"{path} is not valid JSON ({exc}). Nothing was loaded.") from exc
    try:
        if isinstance(document, dict) and "legacy_table_name" in document:
            parsed = _parse_sample(path, document)
        elif isinstance(document, list):
            parsed = ParsedFile(path, [_parse_change(item, index) for index, item in enumerate(document)])
        else:
            raise ValueError(
                "it must be a JSON list of {RecordType, RecordID, data} objects, or a legacy-records "
                "sample file with legacy_table_name and records"
            )
    except ValueError as exc:
        raise CommandError(f"{path}: {exc}. Nothing was loaded.") from exc
    return _last_of_each_id(parsed)


def _parse_change(item: Any, index: int) -> Change:
    """One change of a list file: a v2/v3 push record without a SyncID, read by that codec. SyncType
    may be left out (an insert or update)."""
    if not isinstance(item, dict):
        raise ValueError(f"item {index} is not a JSON object")
    record_type = item.get("RecordType")
    if not isinstance(record_type, str) or not record_type:
        raise ValueError(f"item {index} has no RecordType")
    decoded = named.decode_record({**item, "SyncType": item.get("SyncType") or "U"})
    if isinstance(decoded, Refusal):
        raise ValueError(f"item {index} ({record_type} {text(item.get('RecordID'))}): {decoded.reason}")
    return decoded


def _parse_sample(path: Path, document: dict[str, Any]) -> ParsedFile:
    record_type = document.get("legacy_table_name")
    entries = document.get("records")
    if not isinstance(record_type, str) or not record_type:
        raise ValueError("legacy_table_name must be the record type's name")
    if not isinstance(entries, list):
        raise ValueError("records must be a list of {fixture_const, record} objects")
    spec = get_registry().get(record_type)
    parsed = ParsedFile(path, [])
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("record"), dict):
            raise ValueError(f"records[{index}] is not a {{fixture_const, record}} object")
        data = entry["record"]
        # An unknown type is left to the write path, which refuses each record with the reason.
        record_id = text(data.get(spec.key_field)) if spec else ""
        if spec and not record_id:
            # Some sample fixtures are fragments (a partial pull body, an embedded value), not records.
            parsed.skipped.append(text(entry.get("fixture_const")) or f"records[{index}]")
            continue
        parsed.changes.append(
            Change(record_type=record_type, record_id=record_id, action="upsert", data=data)
        )
    return parsed


def _last_of_each_id(parsed: ParsedFile) -> ParsedFile:
    """One change per record, the file's last: batches then cannot split two versions of a record,
    which would make every run rewrite it."""
    latest: dict[tuple[str, str], Change] = {}
    without_id: list[Change] = []
    for change in parsed.changes:
        if not change.record_id:
            without_id.append(change)
            continue
        key = (change.record_type, change.record_id)
        if key in latest:
            parsed.repeated += 1
        latest[key] = change
    parsed.changes = list(latest.values()) + without_id
    return parsed
