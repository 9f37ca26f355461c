"""Workload sizes: the full benchmark, the CI smoke run, and a scale factor in between."""

from __future__ import annotations

from dataclasses import dataclass, replace

WORKLOADS = ("push", "pull", "drain", "dump", "fanout", "head", "bootstrap")


@dataclass(frozen=True)
class Sizes:
    push_total: int = 100_000
    push_batch: int = 500
    push_sites: int = 10
    pull_queue: int = 100_000
    pull_batch: int = 500
    central: int = 200_000
    fanout_sites: int = 1_000
    fanout_one_reps: int = 20
    fanout_edits: int = 10_000
    fanout_edit_sites: int = 100
    head_small: int = 10_000
    head_big: int = 5_000_000
    head_reps: int = 200
    bootstrap_records: tuple[int, ...] = (100_000, 1_000_000)
    bootstrap_sites: int = 10
    bootstrap_parallel_records: int = 20_000


FULL = Sizes()
SMOKE = Sizes(
    push_total=1_000,
    push_batch=100,
    push_sites=10,
    pull_queue=1_000,
    pull_batch=100,
    central=2_000,
    fanout_sites=20,
    fanout_one_reps=3,
    fanout_edits=200,
    fanout_edit_sites=5,
    head_small=1_000,
    head_big=10_000,
    head_reps=10,
    bootstrap_records=(2_000,),
    bootstrap_parallel_records=200,
)


def scaled(sizes: Sizes, factor: float) -> Sizes:
    """Every volume times `factor` (batch sizes and repetitions stay), at least one batch each."""
    if factor == 1:
        return sizes

    def s(value: int, floor: int) -> int:
        return max(floor, int(value * factor))

    return replace(
        sizes,
        push_total=s(sizes.push_total, sizes.push_batch * sizes.push_sites),
        pull_queue=s(sizes.pull_queue, sizes.pull_batch),
        central=s(sizes.central, 1_000),
        fanout_sites=s(sizes.fanout_sites, 2),
        fanout_edits=s(sizes.fanout_edits, 10),
        fanout_edit_sites=s(sizes.fanout_edit_sites, 2),
        head_small=s(sizes.head_small, sizes.pull_batch),
        head_big=s(sizes.head_big, 2 * sizes.head_small),
        bootstrap_records=tuple(s(n, sizes.pull_batch) for n in sizes.bootstrap_records),
        bootstrap_parallel_records=s(sizes.bootstrap_parallel_records, sizes.pull_batch),
    )
