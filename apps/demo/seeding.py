"""Writing the demo data set through the primary's normal write path, and reporting it."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TextIO

from tqdm import tqdm

from apps.queue.services import primary_changes_apply
from apps.records.changes import Change

from .dataset import DemoResult, TableCount, ensure_sites, generate_dataset
from .generators import BATCH, DemoSize, RecordData


# Writing it ------------------------------------------------------------------------------------
def seed_demo(
    *,
    size: DemoSize,
    sites: int = 2,
    seed: int = 1,
    password: str = "demo",
    progress: bool | None = False,
    progress_file: TextIO | None = None,
) -> DemoResult:
    """Create the demo sites and write the data set through the primary's normal write path.

    Idempotent for a given seed: a second run finds every record unchanged and queues nothing new.
    `progress`: True shows one bar per table, None only when `progress_file` is a terminal.
    """
    started = time.perf_counter()
    result = DemoResult(sites=ensure_sites(count=sites, password=password, seed=seed))
    for record_type, total, records in generate_dataset(size=size, sites=result.sites, seed=seed):
        bar = tqdm(
            total=total,
            desc=f"{record_type:<16}",
            unit="rec",
            file=progress_file,
            disable=None if progress is None else not progress,
            leave=True,
            smoothing=0.1,
        )
        with bar:
            count = TableCount(record_type)
            table_started = time.perf_counter()
            for batch in _batched(records, BATCH):
                _apply(record_type, batch, count, result)
                bar.update(len(batch))
            count.seconds = time.perf_counter() - table_started
            result.counts.append(count)
    result.seconds = time.perf_counter() - started
    return result


def _batched(records: Iterable[RecordData], size: int) -> Iterator[list[RecordData]]:
    batch: list[RecordData] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply(record_type: str, batch: list[RecordData], count: TableCount, result: DemoResult) -> None:
    changes = [
        Change(
            record_type=record_type,
            record_id=r["ID"],
            action="upsert",
            data=r,
            store_id=r.get("store_ID", ""),
        )
        for r in batch
    ]
    written = primary_changes_apply(changes=changes)
    count.generated += len(batch)
    count.added += written.added
    count.updated += written.updated
    count.unchanged += written.unchanged
    count.refused += len(written.refused)
    result.refusals.extend(written.refused[: max(0, 20 - len(result.refusals))])


def format_summary(result: DemoResult) -> str:
    header = (
        f"{'record type':<18}{'records':>9}{'added':>9}{'updated':>9}{'unchanged':>11}{'refused':>9}"
        f"{'seconds':>9}"
    )
    rows = [header, "-" * len(header)]
    for c in result.counts:
        rows.append(
            f"{c.record_type:<18}{c.generated:>9}{c.added:>9}{c.updated:>9}{c.unchanged:>11}{c.refused:>9}"
            f"{c.seconds:>9.1f}"
        )
    totals = TableCount("total")
    for c in result.counts:
        for name in ("generated", "added", "updated", "unchanged", "refused"):
            setattr(totals, name, getattr(totals, name) + getattr(c, name))
    rows.append("-" * len(header))
    rows.append(
        f"{'total':<18}{totals.generated:>9}{totals.added:>9}{totals.updated:>9}"
        f"{totals.unchanged:>11}{totals.refused:>9}{result.seconds:>9.1f}"
    )
    rows.append(f"({result.seconds:.1f} s, {totals.generated / max(result.seconds, 1e-9):.0f} records/s)")
    for refusal in result.refusals:
        rows.append(f"refused {refusal.change.record_type} {refusal.change.record_id}: {refusal.reason}")
    return "\n".join(rows)


def basic_header(name: str, password: str) -> str:
    from base64 import b64encode

    from apps.sites.services import password_to_sha256

    token = b64encode(f"{name}:{password_to_sha256(password)}".encode()).decode()
    return f"Basic {token}"


def format_credentials(result: DemoResult, *, url: str = "http://127.0.0.1:8000") -> str:
    lines = [f"Server: {url}", ""]
    for s in result.sites:
        password = s.password if s.created else "(unchanged: the site existed already)"
        lines.append(f"  site {s.site_id}  name {s.name}  password {password}")
        lines.append(f"          store {s.store_name} ({s.store_code})  id {s.store_id}  name_ID {s.name_id}")
        lines.append(f"          user  {s.username} / {s.password if s.created else '(unchanged)'}")
    if result.sites:
        first = result.sites[0]
        lines += [
            "",
            f"Example, site {first.site_id} ({first.name}):",
            f"  Authorization: {basic_header(first.name, first.password)}",
            f"  curl -H 'Authorization: {basic_header(first.name, first.password)}' \\",
            "       -H 'msupply-site-uuid: demo-device' \\",
            f"       '{url}/sync/v3/queued_records/count?from_site={first.site_id}&to_site=1'",
        ]
    lines.append("")
    return "\n".join(lines)
