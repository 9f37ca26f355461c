"""The central copy of every record, and the registry mirror it is joined with."""

from django.db import models

from apps.sites.models import Site


class RecordType(models.Model):
    """One legacy table, as declared in fixtures/registry.json (read-only mirror; see registry.py)."""

    SCOPE_CHOICES = [
        ("central", "central: every site"),
        ("store", "store: the site where the store is active"),
        ("transfer", "transfer: the store's site and the other party's site"),
    ]

    name = models.CharField(max_length=64, primary_key=True)
    table_number = models.PositiveIntegerField(unique=True)
    scope = models.CharField(max_length=16, choices=SCOPE_CHOICES)
    dump_order = models.PositiveIntegerField()
    key_field = models.CharField(max_length=64)
    store_field = models.CharField(max_length=64, blank=True)
    parent_type = models.CharField(max_length=64, blank=True)
    mobile_via = models.CharField(
        max_length=64, blank=True, help_text="Join table that decides which records a mobile store sees."
    )
    mobile_match = models.CharField(max_length=8, blank=True)
    mobile = models.BooleanField(
        default=False, help_text="The mobile app integrates this table: it is in the mobile initial dump."
    )
    field_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["table_number"]

    def __str__(self) -> str:
        return self.name


class Record(models.Model):
    """The latest state of one record. `wire` is its v2/v3 pull form, encoded once per change.

    `wire` is the one deliberate exception to "wire formats only in the api app": storing the pull
    form once is what lets a pull splice stored text into its body instead of encoding every record
    (apps/api/codecs/__init__.py, docs/development/structure.md).
    """

    class ChangeType(models.TextChoices):
        INSERT = "I", "insert"
        UPDATE = "U", "update"
        DELETE = "D", "delete"
        MERGE = "M", "merged into another record"

    record_type = models.ForeignKey(
        RecordType, on_delete=models.PROTECT, db_column="record_type", db_index=False
    )
    record_id = models.CharField(max_length=100)
    store_id = models.CharField(
        max_length=100, blank=True, help_text="The store the record belongs to (empty for central data)."
    )
    ref_id = models.CharField(
        max_length=100, blank=True, help_text="The registry's ref_field: parent, or joined item/name."
    )
    transfer_name_id = models.CharField(
        max_length=100, blank=True, help_text="For transfers, the name_ID of the other party."
    )
    data = models.TextField(help_text="The record exactly as last received (JSON).")
    wire = models.TextField(
        help_text="The canonical form pulls send: every field, registry spelling, every value a string."
    )
    change_type = models.CharField(max_length=1, choices=ChangeType.choices)
    merged_into = models.CharField(max_length=100, blank=True)
    is_deleted = models.BooleanField(default=False)
    source_site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The site that changed it last.",
        db_index=False,  # record_source_modified_idx starts with it
    )
    created_by_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    modified_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], name="record_type_id_unique")
        ]
        indexes = [
            # Covers the dump's filters (central records have store_id ''), so a dump reads no wide rows.
            models.Index(fields=["store_id", "record_type", "is_deleted"], name="record_store_type_idx"),
            models.Index(fields=["record_type", "ref_id"], name="record_ref_idx"),
            models.Index(fields=["transfer_name_id"], name="record_transfer_idx"),
            models.Index(fields=["record_id"], name="record_id_idx"),
            # A site's own changes since its dump leave its snapshot (apps/queue/snapshot.py): counted
            # from this index, without reading the snapshot's rows.
            models.Index(fields=["source_site", "modified_at"], name="record_source_modified_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type_id} {self.record_id}"


class UnknownField(models.Model):
    """A field name a client sent that the registry does not know. The record was kept with it (v2/v3
    pulls carry it); the operator adds it to fixtures/registry.json so v1 can number it."""

    record_type = models.CharField(max_length=64)
    name = models.CharField(max_length=128)
    example = models.CharField(max_length=200, blank=True, help_text="A value seen (cut to 200 characters).")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record_type", "name"], name="unknown_field_unique")]
        ordering = ["record_type", "name"]

    def __str__(self) -> str:
        return f"{self.record_type}.{self.name}"
