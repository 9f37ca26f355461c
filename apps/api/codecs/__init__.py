"""The wire formats, one codec module per format, and the one map from API version to codec.

Each codec turns wire records into `Change`s (`decode_records`, `decode_record`) and queued records into
a pull body (`encode_records`). `numbered`: v1, fields by table and field number. `named`: v2 and v3,
fields by name. What every format shares (reading a push or acknowledge body) is in `common`.

The one deliberate exception to "wire formats only in api": the records app stores each record's
v2/v3 field values once, pre-encoded (`Record.wire`, apps/records/canonical.py), so a pull splices
stored text into its body instead of encoding every record again. That is what makes pulls fast.
"""

from __future__ import annotations

from types import ModuleType

from . import named, numbered

CODECS: dict[str, ModuleType] = {"v1": numbered, "v2": named, "v3": named}
API_VERSIONS = tuple(sorted(CODECS))


def codec_for(version: str) -> ModuleType:
    return CODECS[version]
