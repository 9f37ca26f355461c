"""Replaying quarantined records once an operator has fixed their cause, or discarding them.

A quarantined record keeps the raw text it was pushed as, so a replay decodes it again with the codec of
the API version it arrived through (an operator may have edited `raw` in the admin) and applies it as a
change of the site that pushed it, with the same ownership rules as a push. The SyncID check is skipped:
that SyncID was remembered when the record was first pushed. This lives in `api` because only `api`
knows the wire formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
from django.db import DatabaseError
from django.utils import timezone

from apps.lib.transactions import Busy, atomic_with_retry
from apps.queue.models import QuarantinedRecord
from apps.queue.services import site_changes_apply
from apps.records.changes import Change, Refusal

from .codecs import CODECS
from .codecs.common import MAX_JSON_DEPTH, nested_deeper_than

Status = QuarantinedRecord.Status


@dataclass
class ReplayResult:
    replayed: int = 0
    still_refused: int = 0
    reasons: list[str] = field(default_factory=list)


def replay_quarantined(*, quarantined: Iterable[QuarantinedRecord]) -> ReplayResult:
    """Apply each pending record again, each in its own transaction so one failure undoes no other.

    A record that applies is marked replayed; one that still cannot stays pending with the new reason.
    Records that are no longer pending (replayed or discarded meanwhile) are left alone.
    """
    result = ReplayResult()
    for record in quarantined:
        try:
            reason = _replay_one(pk=record.pk)
        except (DatabaseError, Busy) as exc:
            # The transaction rolled back; keep the record pending with what went wrong.
            reason = f"the database refused the change: {exc}"
            QuarantinedRecord.objects.filter(pk=record.pk, status=Status.PENDING).update(reason=reason)
        if reason is None:
            result.replayed += 1
        elif reason:
            result.still_refused += 1
            result.reasons.append(f"#{record.pk} {record.record_type} {record.record_id}: {reason}")
    return result


@atomic_with_retry
def _replay_one(*, pk: int) -> str | None:
    """None when the record was applied; the reason when it still cannot be; "" when not pending."""
    record = QuarantinedRecord.objects.select_for_update().select_related("site").filter(pk=pk).first()
    if record is None or record.status != Status.PENDING:
        return ""
    change = _decode(record)
    if isinstance(change, Change):
        # The operator may have fixed the type or id in `raw`; show what the record now is.
        record.record_type = change.record_type[:100]
        record.record_id = change.record_id[:100]
        record.store_id = change.store_id[:100]
        written = site_changes_apply(site=record.site, changes=[change])
        reason = written.refused[0].reason if written.refused else None
    else:
        reason = change.reason
    if reason is None:
        record.status = Status.REPLAYED
        record.resolved_at = timezone.now()
    else:
        record.reason = reason
    record.save(update_fields=["record_type", "record_id", "store_id", "status", "resolved_at", "reason"])
    return reason


def _decode(record: QuarantinedRecord) -> Change | Refusal:
    codec = CODECS.get(record.api_version)
    if codec is None:
        return _refused(f"no codec reads API version '{record.api_version}'; discard the record instead")
    try:
        item = orjson.loads(record.raw)
    except orjson.JSONDecodeError as exc:
        return _refused(f"the raw text is not valid JSON ({exc}); fix it in the admin and replay")
    if not isinstance(item, dict):
        return _refused("the raw text is not one JSON object; fix it in the admin and replay")
    if nested_deeper_than(item, MAX_JSON_DEPTH):
        return _refused(f"the raw text nests deeper than {MAX_JSON_DEPTH} levels; fix it in the admin")
    return codec.decode_record(item)


def _refused(reason: str) -> Refusal:
    return Refusal(Change(record_type="", record_id="", action="upsert"), reason)


def discard_quarantined(*, quarantined: Iterable[QuarantinedRecord]) -> int:
    """Give up on pending records (the site will resend or they were junk); returns how many."""
    pks = [record.pk for record in quarantined]
    return QuarantinedRecord.objects.filter(pk__in=pks, status=Status.PENDING).update(
        status=Status.DISCARDED, resolved_at=timezone.now()
    )
