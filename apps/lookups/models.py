"""The search index of the online look-ups: one narrow row per patient, prescriber or policy, and one
row per suffix of each key that is searched with "contains"."""

from django.db import models

# The longest suffix text kept (characters). Longer searches read the index with their first
# SUFFIX_LENGTH characters and are checked against the whole key (selectors.contains).
SUFFIX_LENGTH = 24
# Suffixes shorter than this are not stored: shorter searches are matched as a prefix (selectors).
MIN_CONTAINS = 3


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


class SearchSuffix(models.Model):
    """One suffix of one search key: "the key contains x" is "some suffix of it starts with x".

    A B-tree index cannot serve `LIKE '%x%'`, but it serves "starts with" as one range; with every
    suffix stored, "contains" is that range on (kind, field, suffix). The cost of a search grows with
    the number of matches, not with the number of names. Trigrams were the other choice: smaller, but
    a search must intersect one list per trigram (the lists of common trigrams are long) and then
    check every candidate, where the suffix range answers at once. The price is one row per character
    of each searched key (a 12-letter name: 10 rows): docs/protocol.md, "Online look-ups".
    """

    class Field(models.TextChoices):
        LAST = "last", "last name"
        FIRST = "first", "first name"
        CODE = "code", "code (a prescriber's registration code, a policy number)"
        BARCODE = "barcode", "barcode"

    # No cascade in Python: indexing.py deletes an entry's suffixes itself, with one query per batch
    # (a cascade would load the entries first, and a rebuild would load them all).
    entry = models.ForeignKey(SearchEntry, on_delete=models.DO_NOTHING, related_name="suffixes")
    kind = models.CharField(max_length=10, choices=SearchEntry.Kind.choices)
    field = models.CharField(max_length=8, choices=Field.choices)
    suffix = models.CharField(max_length=SUFFIX_LENGTH)

    class Meta:
        verbose_name_plural = "search suffixes"
        indexes = [
            # Covering: a search reads this index range and nothing else of the table.
            models.Index(fields=["kind", "field", "suffix", "entry"], name="search_suffix_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}.{self.field} {self.suffix!r}"
