"""The agent: an outbox pushed to the primary, a queue drained into the host, a loop with backoff.

One cycle: check the primary is reachable (and the credentials good), push the oldest pending changes
in batches, then pull, hand each record to the host (or the built-in mirror) and acknowledge, until the
queue is empty. Only transport trouble costs an attempt; a refusal of the agent itself stops it.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .config import Config
from .state import State, now_text
from .transport import Primary, Refused, Stopped, Unreachable
from .wire import V1Schema, named_envelope

Callback = Callable[[dict[str, Any]], None]
logger = logging.getLogger("syncagent")


@dataclass
class CycleResult:
    online: bool = False
    pushed: int = 0
    quarantined: int = 0
    push_errors: int = 0
    pulled: int = 0
    acknowledged: int = 0
    kept_as_error: int = 0
    blocked: bool = False  # the host failed on a record; the rest of the queue waits for the next cycle
    error: str = ""
    retry_after: float | None = None
    pulled_by_type: Counter[str] = field(default_factory=Counter)

    @property
    def idle(self) -> bool:
        """Reached the primary and moved everything: nothing more to do until something changes."""
        return self.online and not self.error and not self.blocked


class Agent:
    def __init__(
        self,
        config: Config,
        *,
        state: State | None = None,
        callback: Callback | None = None,
        sleep: Callable[[float], object] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.state = state or State(config.state_path)
        self.callback = callback
        self.rng = rng or random.Random()
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        # Waiting on the stop event rather than time.sleep: a stop request ends the wait at once.
        self.sleep = sleep or self.stopping.wait
        self.consecutive_failures = 0
        self._primary: Primary | None = None
        self._schema: V1Schema | None = None

    # The host's side -----------------------------------------------------------------------------
    def enqueue(
        self,
        *,
        record_type: str,
        record_id: str,
        data: dict[str, Any] | None = None,
        sync_type: str = "U",
        store_id: str = "",
    ) -> str:
        """Queue one change for the primary; returns the SyncID it will carry on every attempt."""
        return self.state.enqueue(
            record_type=record_type, record_id=record_id, data=data, sync_type=sync_type, store_id=store_id
        )

    def retry_errors(self) -> dict[str, int]:
        """Errors are retried only on demand: outbox errors go back to pending (same SyncIDs), and
        pulled records the host failed on are handed to it once more."""
        requeued = self.state.retry_errors()
        delivered = 0
        for sync_id, record, _ in self.state.inbound_errors():
            try:
                self._deliver(record)
            except Exception:  # the host still cannot take it: it stays an error
                continue
            self.state.resolve_inbound(sync_id)
            delivered += 1
        return {"requeued": requeued, "delivered": delivered}

    # The primary ---------------------------------------------------------------------------------
    def primary(self) -> Primary:
        if self._primary is None:
            self.config.require_server()
            hardware_id = self.config.hardware_id or self.state.hardware_id()
            site_id = self.config.site_id or int(self.state.get("site_id", 0) or 0)
            self._primary = Primary(self.config, hardware_id=hardware_id, site_id=site_id)
        return self._primary

    def _identify(self) -> None:
        """Learn the site id and store from the primary's `site` call (v2/v3) when not configured."""
        primary = self.primary()
        store = self.config.store or self.state.get("store", "")
        if primary.site_id and (store or self.config.api_version == "v1"):
            return
        try:
            info = primary.site()
        except Refused:  # 409: no store assigned yet; a configured site id still lets it sync
            if primary.site_id:
                return
            raise
        primary.site_id = self.config.site_id or int(info["SiteID"])
        self.state.put(site_id=primary.site_id, store=self.config.store or info.get("StoreID", ""))

    @property
    def store(self) -> str:
        return self.config.store or self.state.get("store", "")

    def _encode(self, envelope: dict[str, Any]) -> dict[str, Any]:
        return self._v1().encode(envelope) if self.config.api_version == "v1" else envelope

    def _decode(self, record: dict[str, Any]) -> dict[str, Any]:
        return self._v1().decode(record) if self.config.api_version == "v1" else record

    def _v1(self) -> V1Schema:
        if self._schema is None:
            self._schema = V1Schema(self.primary().schema())
        return self._schema

    # One cycle -----------------------------------------------------------------------------------
    def cycle(self) -> CycleResult:
        """Reach the primary, push, pull. Raises Stopped when the primary refuses the agent itself."""
        with self.lock:
            result = CycleResult()
            try:
                self._identify()
                self.primary().count()
                result.online = True
                self._push_pending(result)
                self._drain(result)
            except (Unreachable, Refused) as exc:
                result.online = result.online and isinstance(exc, Refused)
                result.error = str(exc)
                result.retry_after = getattr(exc, "retry_after", None)
            except Stopped as exc:
                self.state.put(
                    online=False, last_error={"at": now_text(), "message": str(exc)}, stopped=str(exc)
                )
                raise
            self._remember(result)
            return result

    def _remember(self, result: CycleResult) -> None:
        summary = {k: v for k, v in asdict(result).items() if k not in ("pulled_by_type", "retry_after")}
        facts: dict[str, Any] = {"online": result.online, "last_cycle": {"at": now_text(), **summary}}
        if result.error:
            facts["last_error"] = {"at": now_text(), "message": result.error}
            logger.warning("cycle: %s", result.error)
        logger.info(
            "cycle: online=%s pushed=%d quarantined=%d pulled=%d kept_as_error=%d",
            result.online,
            result.pushed,
            result.quarantined,
            result.pulled,
            result.kept_as_error,
        )
        self.state.put(stopped="", **facts)

    def _push_pending(self, result: CycleResult) -> None:
        while batch := self.state.oldest_pending(self.config.push_batch):
            sync_ids = [e.sync_id for e in batch]
            try:
                answer = self.primary().push([self._encode(named_envelope(e)) for e in batch])
            except Unreachable as exc:
                self.state.use_attempt(sync_ids, error=str(exc), max_attempts=self.config.attempts)
                raise
            except Refused as exc:  # the batch as a whole was refused in words: retrying cannot help
                self.state.mark_error({s: str(exc) for s in sync_ids})
                result.push_errors += len(sync_ids)
                continue
            reasons = {
                str(q.get("SyncID")): str(q.get("reason") or "quarantined")
                for q in answer.get("quarantinedRecords") or []
            }
            quarantined = {s: f"quarantined by the primary: {reasons[s]}" for s in sync_ids if s in reasons}
            self.state.mark_error(quarantined, quarantined=True)
            self.state.mark_synced([s for s in sync_ids if s not in reasons])
            result.pushed += len(sync_ids)
            result.quarantined += len(quarantined)

    def _drain(self, result: CycleResult) -> None:
        while records := self.primary().pull(self.config.pull_batch):
            delivered: list[str] = []
            kept: list[str] = []
            # The mirror takes a whole batch in one local transaction (one commit, not one per record);
            # a host's callback keeps its own transactions.
            with self.state.transaction() if self.callback is None else contextlib.nullcontext():
                for wire_record in records:
                    record = self._decode(wire_record)
                    sync_id = str(record.get("SyncID", ""))
                    try:
                        self._deliver(record)
                    except Exception as exc:
                        error = f"{type(exc).__name__}: {exc}"
                        if self.state.callback_failed(record, error=error, max_failures=self.config.attempts):
                            kept.append(sync_id)  # kept locally as an error: it never blocks the queue
                            continue
                        result.blocked = True
                        result.error = (
                            f"the host failed on {record.get('RecordType')} {record.get('RecordID')}: {error}"
                        )
                        break
                    delivered.append(sync_id)
                    result.pulled_by_type[str(record.get("RecordType"))] += 1
                self.state.forget_failures(delivered)
            if delivered or kept:
                self.primary().acknowledge(delivered + kept)
            result.pulled += len(delivered)
            result.kept_as_error += len(kept)
            result.acknowledged += len(delivered) + len(kept)
            if result.blocked:
                return

    def _deliver(self, record: dict[str, Any]) -> None:
        if self.callback is None:
            self.state.mirror_apply(record)
        else:
            self.callback(record)

    # Snapshots -----------------------------------------------------------------------------------
    def snapshot(self, *, full: bool) -> dict[str, Any]:
        """`full`: push what is pending, have the primary rebuild the queue (initial_dump), clear the
        mirror, and drain it. Otherwise drain now. Records when and how many records per type."""
        with self.lock:
            result = CycleResult()
            queued = None
            try:
                self._identify()
                self._push_pending(result)
                if full:
                    queued = self.primary().initial_dump(full=True)
                    if self.callback is None:
                        self.state.mirror_clear()
                self._drain(result)
            except Unreachable as exc:
                self.state.put(online=False, last_error={"at": now_text(), "message": str(exc)})
                raise
            snapshot = {
                "at": now_text(),
                "full": full,
                "queued": queued,
                "counts": dict(sorted(result.pulled_by_type.items())),
                "total": result.pulled,
                "complete": not result.blocked,
            }
            self.state.put(last_snapshot=snapshot, online=True)
            return snapshot

    # The loop --------------------------------------------------------------------------------------
    def run(self, *, cycles: int | None = None, until_idle: bool = False) -> CycleResult:
        """Cycle every `interval`, or after a backoff when the primary was unreachable or busy."""
        done = 0
        result = CycleResult()
        while not self.stopping.is_set():
            result = self.cycle()
            done += 1
            if (
                self.stopping.is_set()
                or (cycles is not None and done >= cycles)
                or (until_idle and result.idle)
            ):
                return result
            self.sleep(self.next_delay(result))
        return result

    def next_delay(self, result: CycleResult) -> float:
        if result.online:
            self.consecutive_failures = 0
            return self.config.interval
        self.consecutive_failures += 1
        ceiling = min(
            self.config.backoff_max, self.config.backoff_base * 2 ** (self.consecutive_failures - 1)
        )
        # Jitter spreads out many satellites that lost the primary at the same moment.
        delay = ceiling * (0.5 + self.rng.random() / 2)
        return max(delay, result.retry_after or 0.0)

    # Status -------------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        counts = self.state.counts()
        return {
            "site": {
                "name": self.config.site_name,
                "id": self.config.site_id or self.state.get("site_id", 0),
            },
            "store": self.store,
            "server_url": self.config.server_url,
            "api_version": self.config.api_version,
            "online": bool(self.state.get("online", False)),
            "outbox": counts,
            "last_cycle": self.state.get("last_cycle"),
            "last_snapshot": self.state.get("last_snapshot"),
            "last_error": self.state.get("last_error"),
            "stopped": self.state.get("stopped", "") or None,
        }
