"""A fault-injecting HTTP proxy for the agent's tests: one request per connection (the agent's
urllib sends `Connection: close`), each met with the next fault of a schedule, then passed through.

Faults: `drop_before` (closed before the request reaches the primary), `drop_after` (the primary
answered, the agent never reads it), `delay` (a short pause, then through), `503` and `429` (answered by
the proxy with Retry-After, the primary never sees it).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from urllib.parse import urlsplit

FAULTS = ("drop_before", "drop_after", "delay", "503", "429")
RETRY_AFTER = 7


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _busy(status: str) -> bytes:
    reason = {"503": "Service Unavailable", "429": "Too Many Requests"}[status]
    body = b'{"error": "busy, injected by the test proxy"}'
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nRetry-After: {RETRY_AFTER}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


class FaultProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.schedule: deque[str] = deque()
        self.applied: list[str] = []  # the fault (or "ok") each request met, in order
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def inject(self, *faults: str) -> None:
        self.schedule.extend(faults)

    def close(self) -> None:
        # Wakes the accept() of the serving thread (a plain close does not, on Linux).
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed
                return
            with conn, contextlib.suppress(OSError):
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        request = _read_request(conn)
        fault = self.schedule.popleft() if self.schedule else "ok"
        self.applied.append(fault)
        if fault == "drop_before" or not request:
            return
        if fault in ("503", "429"):
            conn.sendall(_busy(fault))
            return
        if fault == "delay":
            time.sleep(0.02)
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall(request)
            response = b""
            while chunk := upstream.recv(65536):
                response += chunk
        if fault == "drop_after":
            return
        conn.sendall(response)
