"""The agent's status over HTTP, for the application beside it: loopback only, off by default.

The calls are those a FERRED-style point-of-sale application polls: whether sync is online, how many
changes wait, and the last snapshot, plus a way to ask for one.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .agent import Agent
from .transport import Refused, Stopped, Unreachable

LOOPBACK = "127.0.0.1"
NO_STORE = "This agent has no store yet: set `store` in its configuration, or assign one to the site."


class StatusHandler(BaseHTTPRequestHandler):
    agent: Agent  # set on the class made by `serve_status`
    server_version = "syncagent"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the host has its own logs
        return

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _loopback_client(self) -> bool:
        return ipaddress.ip_address(self.client_address[0]).is_loopback

    def do_GET(self) -> None:
        if not self._loopback_client():
            return self._send(403, {"error": "The agent's status is served to this machine only."})
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        status = self.agent.status()
        counts = status["outbox"]
        if path == "/api/inventario/status":
            return self._send(200, {"online": status["online"]})
        if path == "/api/inventario/sync-pendientes":
            return self._send(
                200,
                {
                    "pending": counts["pending"],
                    "synced": counts["synced"],
                    "errors": counts["error"] + counts["inbound_errors"],
                    "online": status["online"],
                    "branch": status["store"],
                },
            )
        if path == "/api/sync/snapshot/status":
            if not status["store"]:
                return self._send(400, {"error": NO_STORE})
            return self._send(
                200,
                {
                    "online": status["online"],
                    "branch": status["store"],
                    "lastSnapshot": status["last_snapshot"],
                },
            )
        if path in ("/status", ""):
            return self._send(200, status)
        return self._send(404, {"error": f"No such call: GET {path}."})

    def do_POST(self) -> None:
        if not self._loopback_client():
            return self._send(403, {"error": "The agent's status is served to this machine only."})
        parts = urllib.parse.urlsplit(self.path)
        if parts.path.rstrip("/") != "/api/sync/snapshot":
            return self._send(404, {"error": f"No such call: POST {parts.path}."})
        full_text = (urllib.parse.parse_qs(parts.query).get("full") or ["false"])[0].lower()
        if full_text not in ("true", "false", "1", "0"):
            return self._send(400, {"error": f"full must be true or false, not '{full_text}'."})
        if not self.agent.store:
            return self._send(400, {"error": NO_STORE})
        try:
            snapshot = self.agent.snapshot(full=full_text in ("true", "1"))
        except Unreachable as exc:
            return self._send(503, {"error": f"The primary is unreachable: {exc}"})
        except (Stopped, Refused) as exc:
            return self._send(502, {"error": str(exc)})
        return self._send(
            200,
            {
                "timestamp": snapshot["at"],
                "full": snapshot["full"],
                "counts": snapshot["counts"],
                "total": snapshot["total"],
                "complete": snapshot["complete"],
            },
        )


def serve_status(agent: Agent, *, port: int) -> ThreadingHTTPServer:
    """Start the endpoint on 127.0.0.1:`port` (0: any free port) in a daemon thread; shut it down
    with `.shutdown()`."""
    handler = type("BoundStatusHandler", (StatusHandler,), {"agent": agent})
    server = ThreadingHTTPServer((LOOPBACK, port), handler)
    threading.Thread(target=server.serve_forever, name="syncagent-status", daemon=True).start()
    return server
