"""The HTTP client: runs in separate processes (spawned, no Django), one keep-alive connection each.

gunicorn's sync workers close the connection after each response; http.client then reconnects on the
next request, as a real client would.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import multiprocessing
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

SYNC_ID = re.compile(rb'"SyncID":"([^"]+)"')  # queue ids are digits, snapshot ids are not


class RequestFailed(Exception):
    pass


def basic_auth(name: str, password: str) -> str:
    secret = hashlib.sha256(password.encode()).hexdigest()
    return "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()


@dataclass
class Outcome:
    """What one client process did: wall-clock start and end, per-request latencies (s), records."""

    start: float = 0.0
    end: float = 0.0
    latencies: list[float] = field(default_factory=list)
    records: int = 0
    failures: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class Site:
    def __init__(self, port: int, site_id: int, name: str, password: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        self.site_id = site_id
        self.headers = {
            "Authorization": basic_auth(name, password),
            "msupply-site-uuid": f"bench-device-{site_id}",
            "Connection": "keep-alive",
        }

    def request(self, method: str, path: str, body: bytes | None = None, **query: Any) -> Any:
        payload = self.request_raw(method, path, body, **query)
        document = orjson.loads(payload)
        if isinstance(document, dict) and document.get("error"):
            raise RequestFailed(f"{method} {path}: {document['error']}")
        return document

    def pull_sync_ids(self, limit: int) -> list[bytes]:
        """The SyncIDs of a pulled batch, found without parsing the whole body.

        A satellite's JSON parsing is its own time, not the server's: orjson.loads of a 1 MB pull
        takes about 3 ms here, which would be counted as server latency. The tests parse and check
        pull bodies in full; here a body that is not a JSON array fails the run.
        """
        payload = self.request_raw("GET", "queued_records", limit=limit)
        if not payload.startswith(b"["):
            raise RequestFailed(f"GET queued_records: not a JSON array: {payload[:300]!r}")
        return SYNC_ID.findall(payload)

    def request_raw(self, method: str, path: str, body: bytes | None = None, **query: Any) -> bytes:
        params = urlencode({"from_site": self.site_id, "to_site": 1, **query})
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, f"/sync/v3/{path}?{params}", body=body, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (http.client.HTTPException, OSError):
            # A connection the server closed between requests: reconnect once.
            self.conn.close()
            self.conn.request(method, f"/sync/v3/{path}?{params}", body=body, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        if response.status != 200:
            raise RequestFailed(f"{method} {path}: HTTP {response.status}: {payload[:300]!r}")
        return payload


def _wait(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def _timed(outcome: Outcome, call: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    result = call()
    outcome.latencies.append(time.perf_counter() - t0)
    return result


def push(job: dict[str, Any]) -> Outcome:
    """POST each body file (a batch of records) to queued_records; every record must be applied."""
    site = Site(job["port"], job["site_id"], job["name"], job["password"])
    outcome = Outcome()
    _wait(job["start_at"])
    outcome.start = time.time()
    try:
        for path in job["files"]:
            body = Path(path).read_bytes()
            result = _timed(outcome, lambda body=body: site.request("POST", "queued_records", body))
            if result.get("quarantined"):
                raise RequestFailed(f"push quarantined records: {result['quarantinedRecords'][:3]}")
            outcome.records += result["applied"]
    except RequestFailed as exc:
        outcome.failures.append(str(exc))
    outcome.end = time.time()
    return outcome


def peek(job: dict[str, Any]) -> Outcome:
    """GET the head of the queue `reps` times (peeks never change the queue)."""
    site = Site(job["port"], job["site_id"], job["name"], job["password"])
    outcome = Outcome()
    _wait(job["start_at"])
    outcome.start = time.time()
    try:
        for _ in range(job["reps"]):
            rows = _timed(outcome, lambda: site.pull_sync_ids(job["limit"]))
            if len(rows) != job["expect"]:
                raise RequestFailed(f"peek returned {len(rows)} records, expected {job['expect']}")
            outcome.records += len(rows)
    except RequestFailed as exc:
        outcome.failures.append(str(exc))
    outcome.end = time.time()
    return outcome


def drain(job: dict[str, Any]) -> Outcome:
    """Pull `limit` and acknowledge them until the queue is empty; latencies are per pull + ack."""
    site = Site(job["port"], job["site_id"], job["name"], job["password"])
    outcome = Outcome()
    pulls: list[float] = []
    _wait(job["start_at"])
    outcome.start = time.time()
    try:
        while True:
            t0 = time.perf_counter()
            rows = site.pull_sync_ids(job["limit"])
            pulls.append(time.perf_counter() - t0)
            if not rows:
                break
            ids = [sync_id.decode() for sync_id in rows]
            site.request("POST", "acknowledged_records", orjson.dumps({"SyncRecordIDs": ids}))
            outcome.latencies.append(time.perf_counter() - t0)
            outcome.records += len(rows)
        left = site.request("GET", "queued_records/count")["NumRecords"]
        if left:
            raise RequestFailed(f"the queue still holds {left} records after the drain")
        if job.get("expect") is not None and outcome.records != job["expect"]:
            raise RequestFailed(f"drained {outcome.records} records, expected {job['expect']}")
    except RequestFailed as exc:
        outcome.failures.append(str(exc))
    outcome.end = time.time()
    outcome.extra["pull_latencies"] = pulls
    return outcome


def dump(job: dict[str, Any]) -> Outcome:
    site = Site(job["port"], job["site_id"], job["name"], job["password"])
    outcome = Outcome()
    _wait(job["start_at"])
    outcome.start = time.time()
    try:
        result = _timed(outcome, lambda: site.request("GET", "initial_dump", type="full"))
        outcome.records = result["NumRecords"]
        if job.get("expect") is not None and outcome.records != job["expect"]:
            raise RequestFailed(f"initial_dump queued {outcome.records}, expected {job['expect']}")
    except RequestFailed as exc:
        outcome.failures.append(str(exc))
    outcome.end = time.time()
    return outcome


def run_parallel(func: Callable[[dict[str, Any]], Outcome], jobs: list[dict[str, Any]]) -> list[Outcome]:
    """Each job in its own spawned process (no Django, no shared GIL with the server or the bench)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(jobs)) as pool:
        # Spawning takes a moment: start everyone together once they are all up.
        start_at = time.time() + 1.0 + 0.2 * len(jobs)
        return pool.map(func, [{**job, "start_at": start_at} for job in jobs], chunksize=1)
