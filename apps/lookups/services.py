"""Making a patient found online visible in the caller's store (POST /api/v4/name_store_join)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.lib.transactions import atomic_with_retry
from apps.queue.fanout import fan_out, queue_for_site
from apps.records.changes import Change
from apps.records.models import Record
from apps.records.services import records_write
from apps.sites.models import PRIMARY_SITE_ID, Site, Store, new_record_id


class VisibilityRefused(Exception):
    """Why the patient cannot be made visible, in words; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Visibility:
    join_id: str
    created: bool
    queued: int


@atomic_with_retry
def patient_make_visible(*, site: Site, store_id: str, name_id: str) -> Visibility:
    """Join the name to the store (through the write path) and queue the patient, with its policies
    and notes, to the caller's site at once, so its next pull has them whatever the join's routing."""
    if not Store.objects.filter(pk=store_id, site=site).exists():
        raise VisibilityRefused(f"Store {store_id} is not active on this site.", 403)
    name = Record.objects.filter(record_type_id="name", record_id=name_id, is_deleted=False).first()
    if name is None:
        raise VisibilityRefused(f"There is no name {name_id} on the primary.", 404)
    related = list(
        Record.objects.filter(
            record_type_id__in=("nameInsuranceJoin", "name_note"), ref_id=name_id, is_deleted=False
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # The name first: the join that follows refers to it.
    queued = queue_for_site(site_id=site.pk, record_pks=[name.pk, *related])
    existing = (
        Record.objects.filter(
            record_type_id="name_store_join", ref_id=name_id, store_id=store_id, is_deleted=False
        )
        .values_list("record_id", flat=True)
        .first()
    )
    if existing:
        return Visibility(join_id=existing, created=False, queued=queued)
    join_id = new_record_id()
    data = {"ID": join_id, "name_ID": name_id, "store_ID": store_id, "inactive": False}
    change = Change(
        record_type="name_store_join", record_id=join_id, action="upsert", data=data, store_id=store_id
    )
    written = records_write(changes=[change], source_site_id=PRIMARY_SITE_ID)
    queued += fan_out(record_pks=written.written_pks, source_site_id=PRIMARY_SITE_ID)
    return Visibility(join_id=join_id, created=True, queued=queued)
