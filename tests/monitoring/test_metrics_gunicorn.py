"""/metrics under a real multi-worker gunicorn (MariaDB only): the counts of every worker are added up,
and outlive the worker that counted them."""

from __future__ import annotations

import http.client
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.monitoring.test_metrics import value
from tests.support import wait_until

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.skipif(connection.vendor != "mysql", reason="needs MySQL/MariaDB and gunicorn"),
    pytest.mark.django_db(transaction=True),
]

TOKEN = "gunicorn-metrics-token"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    from bench.server import Gunicorn  # needs mysqlclient: imported only where MariaDB runs

    db = connection.settings_dict
    url = f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT']}/{db['NAME']}"
    saved = os.environ.get("METRICS_TOKEN")
    os.environ["METRICS_TOKEN"] = TOKEN
    try:
        running = Gunicorn(url, tmp_path / "gunicorn.log", workers=2)
    finally:
        if saved is None:
            os.environ.pop("METRICS_TOKEN")
        else:
            os.environ["METRICS_TOKEN"] = saved
    try:
        yield running
    finally:
        running.stop()


def get(server: Any, path: str, **headers: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_counts_of_every_worker_survive_the_workers(server):
    before = value(
        get(server, "/metrics", Authorization=f"Bearer {TOKEN}")[1],
        "syncserver_requests_total",
        endpoint="HealthView",
    )
    for _ in range(8):
        assert get(server, "/health")[0] == 200
    # Replace both workers: a worker's own memory is gone, so only counts kept across processes remain.
    for pid in server.worker_pids():
        os.kill(pid, signal.SIGTERM)
        wait_until(
            lambda pid=pid: pid not in server.worker_pids() and len(server.worker_pids()) == 2,
            what=f"gunicorn to replace worker {pid}",
        )
    assert get(server, "/metrics")[0] == 401

    status, text = get(server, "/metrics", Authorization=f"Bearer {TOKEN}")

    assert status == 200
    assert value(text, "syncserver_requests_total", endpoint="HealthView") - before == 8
