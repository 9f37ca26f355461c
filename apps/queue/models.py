"""Per-site outgoing queues, pushed SyncIDs, quarantine and the sync log."""

from django.db import models

from apps.records.models import Record
from apps.sites.models import Site


class QueueEntry(models.Model):
    """One record waiting for one site. Its id is the SyncID the site acknowledges.

    There is at most one entry per (site, record): a newer change replaces it with a new row, so the
    record moves to the tail under a new SyncID and acknowledging the old one discards nothing. The entry
    points at the record, so a pull always sends the record's newest state.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, db_index=False)
    # No index of its own and no database constraint: every insert of a dump or fan-out maintains each
    # index of this table, and nothing looks entries up by record alone (the unique (site, record)
    # index serves the lookups). Records are never deleted, only marked deleted.
    record = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        verbose_name_plural = "queue entries"
        constraints = [models.UniqueConstraint(fields=["site", "record"], name="queue_site_record_unique")]
        # Reads the head of a queue by keyset on (site, id): the cost does not grow with the table.
        indexes = [models.Index(fields=["site", "id"], name="queue_site_head_idx")]

    def __str__(self) -> str:
        return f"{self.pk} → site {self.site_id}"


class PushedSyncId(models.Model):
    """A SyncID a site has pushed, kept for a retention period so a replayed push applies nothing."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, db_index=False)
    sync_id = models.CharField(max_length=100)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "sync_id"], name="pushed_site_sync_id_unique")]

    def __str__(self) -> str:
        return f"{self.sync_id} from site {self.site_id}"


class QuarantinedRecord(models.Model):
    """A pushed record that could not be applied, kept with its raw text until an operator fixes it."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        REPLAYED = "replayed", "replayed"
        DISCARDED = "discarded", "discarded"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="quarantined_records")
    sync_id = models.CharField(max_length=100, blank=True)
    record_type = models.CharField(max_length=100, blank=True)
    record_id = models.CharField(max_length=100, blank=True)
    store_id = models.CharField(max_length=100, blank=True)
    api_version = models.CharField(max_length=4)
    raw = models.TextField(help_text="The record exactly as received; edit it here, then replay.")
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    received_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "received_at"], name="quarantine_status_idx"),
            models.Index(fields=["site", "status"], name="quarantine_site_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id} from site {self.site_id}"


SYNC_LOG_NOTE_LENGTH = 200


class SyncLog(models.Model):
    """One sync call of one site: what moved, how long it took, what went wrong."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="sync_logs", db_index=False)
    call = models.CharField(max_length=32)
    api_version = models.CharField(max_length=4)
    status_code = models.PositiveSmallIntegerField(default=200)
    pushed = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    pulled = models.PositiveIntegerField(default=0)
    acknowledged = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    note = models.CharField(
        max_length=SYNC_LOG_NOTE_LENGTH,
        blank=True,
        help_text="What the call asked for, where it matters (initial_dump's type).",
    )
    device_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="The device the call came from, when the client says (table sync).",
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["site", "created_at"], name="synclog_site_idx")]

    def __str__(self) -> str:
        return f"{self.call} site {self.site_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class SiteDump(models.Model):
    """When a site last had its queue rebuilt by an initial dump, of which kind, and how many records.

    One row per site, replaced by every dump; GET sync_status reports it so a satellite (or its agent)
    can tell whether it ever was bootstrapped.
    """

    class Type(models.TextChoices):
        FULL = "full", "full"
        MOBILE = "mobile", "mobile store subset"

    site = models.OneToOneField(Site, on_delete=models.CASCADE, primary_key=True, related_name="last_dump")
    dumped_at = models.DateTimeField()
    dump_type = models.CharField(max_length=10, choices=Type.choices)
    record_count = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.dump_type} dump of site {self.site_id} at {self.dumped_at:%Y-%m-%d %H:%M:%S}"


class SnapshotCursor(models.Model):
    """Where a site stands in its initial dump: a snapshot read page by page, not a queue fill.

    The snapshot is every record routed to the site (the full set or the mobile subset), live, with no
    row in the site's queue, and not changed by the site itself since `taken_at`, in dump order: the
    registry's dump_order, then the table number, then the record's primary key. Records others change
    meanwhile reach the site through its ordinary queue (apps/queue/snapshot.py,
    docs/development/concurrency.md). The position is the last acknowledged key; `epoch` grows with
    every dump and is part of each SyncID, so acknowledgements of an earlier dump change nothing.
    """

    site = models.OneToOneField(Site, on_delete=models.CASCADE, primary_key=True, related_name="snapshot")
    epoch = models.PositiveIntegerField()
    full = models.BooleanField()
    taken_at = models.DateTimeField()
    after_order = models.PositiveIntegerField(default=0)
    after_table = models.PositiveIntegerField(default=0)
    after_record = models.PositiveBigIntegerField(default=0)
    finished = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"snapshot {self.epoch} of site {self.site_id}"
