"""A tqdm progress bar per import run, shown on a terminal only (cron output stays clean)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm


def bar_factory(stream: TextIO) -> Callable[[str, int], Callable[[int], None]]:
    def start(label: str, total: int) -> Callable[[int], None]:
        bar = tqdm(total=total, desc=label, unit="rec", file=stream, disable=not stream.isatty(), leave=True)

        def advance(count: int) -> None:
            bar.update(count)
            if bar.n >= total:
                bar.close()

        if total == 0:
            bar.close()
        return advance

    return start
