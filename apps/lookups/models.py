"""The search index of the online look-ups: one narrow row per patient, prescriber or policy."""

from django.db import models


class SearchEntry(models.Model):
    """Lowercased search keys of one record, kept in step by the write path (indexing.py).

    The records themselves are JSON in `records.Record`; searching that would read every name. Here
    every key has an index that starts with `kind`, so a prefix search reads one index range.
    """

    class Kind(models.TextChoices):
        PATIENT = "patient", "patient (a name of type patient)"
        PRESCRIBER = "prescriber", "prescriber (a clinician)"
        POLICY = "policy", "insurance policy (nameInsuranceJoin)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    record_id = models.CharField(max_length=100, help_text="The name, clinician or policy id.")
    name_id = models.CharField(max_length=100, blank=True, help_text="For a policy: the patient.")
    last = models.CharField(max_length=100, blank=True)
    first = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=100, blank=True, help_text="Code; for a policy its number.")
    barcode = models.CharField(max_length=100, blank=True)
    dob = models.CharField(max_length=10, blank=True, help_text="Date of birth, YYYY-MM-DD.")
    is_deleted = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "search entries"
        constraints = [
            models.UniqueConstraint(fields=["kind", "record_id"], name="search_kind_record_unique")
        ]
        indexes = [
            models.Index(fields=["kind", "last", "first"], name="search_last_idx"),
            models.Index(fields=["kind", "first"], name="search_first_idx"),
            models.Index(fields=["kind", "code"], name="search_code_idx"),
            models.Index(fields=["kind", "barcode"], name="search_barcode_idx"),
            models.Index(fields=["kind", "dob"], name="search_dob_idx"),
            models.Index(fields=["kind", "name_id"], name="search_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id}"
