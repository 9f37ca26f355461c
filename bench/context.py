"""What every workload is given (the servers, the sizes, a scratch folder), and the log line they print.

Its own module so that run.py, which imports the workloads, is imported by none of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Sizes
from .server import DbParams, Gunicorn, RssMeter


@dataclass
class Context:
    sizes: Sizes
    db: DbParams
    url: str
    tmp: Path
    smoke: bool
    server: Gunicorn | None = None
    meter: RssMeter | None = None
    factory: Any = None

    def job(self, site_id: int, **extra: Any) -> dict[str, Any]:
        from .seed import PASSWORD, site_name

        assert self.server is not None
        return {
            "port": self.server.port,
            "site_id": site_id,
            "name": site_name(site_id),
            "password": PASSWORD,
        }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fill_pull_queue(ctx: Context, site_id: int) -> int:
    from .seed import HISTORY_STORE, fill_queue

    conn = ctx.db.connect()
    n = fill_queue(conn, site_id=site_id, count=ctx.sizes.pull_queue, where=f"store_id = '{HISTORY_STORE}'")
    conn.close()
    return n
