"""A tqdm progress bar for an import run, shown on a terminal only (cron output stays clean)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm


def bar_factory(stream: TextIO, *, label: str) -> Callable[[int, int], Callable[[int], None]]:
    def start(total: int, rows: int) -> Callable[[int], None]:
        bar = tqdm(total=total, desc=label, unit="rec", file=stream, disable=not stream.isatty(), leave=True)

        def advance(count: int) -> None:
            bar.update(count)
            if bar.n >= total:
                bar.close()

        if total == 0:
            bar.close()
        return advance

    return start
