"""`syncagent run|status|snapshot|retry-errors|enqueue`."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
from typing import Any

from .agent import Agent, Callback
from .config import ConfigError, load_config
from .state import SYNC_TYPES
from .statusapi import serve_status
from .transport import Refused, Stopped, Unreachable

EXIT_STOPPED = 2
EXIT_UNREACHABLE = 3


def load_callback(spec: str) -> Callback | None:
    """`package.module:function`; empty means the built-in mirror."""
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ConfigError(f"callback must look like 'package.module:function', not '{spec}'.")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"Cannot load the callback '{spec}': {exc}.") from exc


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="syncagent",
        description="A satellite's sync agent: pushes its outbox to the primary and drains its queue.",
    )
    main.add_argument("--config", help="TOML file of settings (a [syncagent] table or top-level keys).")
    main.add_argument("--state", dest="state_path", help="The agent's SQLite database (state_path).")
    commands = main.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="Cycle every interval until stopped.")
    run.add_argument("--once", action="store_true", help="Run one cycle and exit.")
    run.add_argument("--status-port", type=int, help="Serve the status endpoint on 127.0.0.1:PORT.")
    status = commands.add_parser("status", help="Counts, online, site, store, last cycle/snapshot/error.")
    status.add_argument("--json", action="store_true", help="As JSON.")
    snapshot = commands.add_parser("snapshot", help="Drain the queue now; --full rebuilds it first.")
    snapshot.add_argument("--full", action="store_true", help="Ask the primary for a full initial dump.")
    commands.add_parser("retry-errors", help="Retry error entries and records the host failed on.")
    enqueue = commands.add_parser("enqueue", help="Queue one change for the primary.")
    enqueue.add_argument("record_type")
    enqueue.add_argument("record_id")
    enqueue.add_argument("--data", help="The record's fields as a JSON object (needed for I and U).")
    enqueue.add_argument("--sync-type", default="U", choices=SYNC_TYPES)
    enqueue.add_argument("--store", default="", help="The record's store id (StoreID).")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config(
            args.config, state_path=args.state_path, status_port=getattr(args, "status_port", None)
        )
        agent = Agent(config, callback=load_callback(config.callback))
        return COMMANDS[args.command](agent, args)
    except ConfigError as exc:
        print(f"syncagent: configuration: {exc}", file=sys.stderr)
        return 1
    except Stopped as exc:
        print(f"syncagent: stopped: {exc}", file=sys.stderr)
        return EXIT_STOPPED
    except (Unreachable, Refused) as exc:
        print(f"syncagent: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE


def cmd_run(agent: Agent, args: argparse.Namespace) -> int:
    if args.once:
        result = agent.cycle()
        print(json.dumps({k: v for k, v in vars(result).items() if k != "pulled_by_type"}))
        return 0 if result.online else EXIT_UNREACHABLE
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server = serve_status(agent, port=agent.config.status_port) if agent.config.status_port else None
    signal.signal(signal.SIGTERM, lambda *_: agent.stopping.set())
    try:
        agent.run()
    except KeyboardInterrupt:
        pass
    finally:
        if server:
            server.shutdown()
    return 0


def cmd_status(agent: Agent, args: argparse.Namespace) -> int:
    status = agent.status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(format_status(status))
    return 0


def format_status(status: dict[str, Any]) -> str:
    counts = status["outbox"]
    last_cycle = status["last_cycle"] or {}
    snapshot = status["last_snapshot"]
    error = status["last_error"] or {}
    lines = [
        f"site      {status['site']['name']} (id {status['site']['id'] or 'not known yet'})",
        f"primary   {status['server_url']} ({status['api_version']})",
        f"store     {status['store'] or '-'}",
        f"online    {'yes' if status['online'] else 'no'}",
        f"outbox    {counts['pending']} pending, {counts['synced']} synced, {counts['error']} error",
        f"inbound   {counts['inbound_errors']} record(s) the host failed on",
        f"cycle     {last_cycle.get('at', 'never')}",
        "snapshot  "
        + (
            f"{snapshot['at']} ({'full' if snapshot['full'] else 'drain'}, {snapshot['total']} records)"
            if snapshot
            else "never"
        ),
        f"error     {error.get('message', '-')}" + (f" ({error['at']})" if error else ""),
    ]
    if status["stopped"]:
        lines.append(f"STOPPED   {status['stopped']}")
    return "\n".join(lines)


def cmd_snapshot(agent: Agent, args: argparse.Namespace) -> int:
    snapshot = agent.snapshot(full=args.full)
    print(json.dumps(snapshot, indent=2))
    return 0


def cmd_retry_errors(agent: Agent, args: argparse.Namespace) -> int:
    print(json.dumps(agent.retry_errors()))
    return 0


def cmd_enqueue(agent: Agent, args: argparse.Namespace) -> int:
    try:
        data = None if args.data is None else json.loads(args.data)
        sync_id = agent.enqueue(
            record_type=args.record_type,
            record_id=args.record_id,
            data=data,
            sync_type=args.sync_type,
            store_id=args.store,
        )
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        print(f"syncagent: enqueue: {exc}", file=sys.stderr)
        return 1
    print(sync_id)
    return 0


COMMANDS = {
    "run": cmd_run,
    "status": cmd_status,
    "snapshot": cmd_snapshot,
    "retry-errors": cmd_retry_errors,
    "enqueue": cmd_enqueue,
}
