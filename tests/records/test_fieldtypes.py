"""Every form a client sends a typed value in becomes the one canonical text that pulls carry."""

from __future__ import annotations

import pytest

from apps.records.fieldtypes import EMPTY_DATE, InvalidValue, from_wire, to_wire


@pytest.mark.parametrize(
    ("kind", "value", "wire"),
    [
        # Dates: the app's ISO timestamps, legacy YYYY-MM-DD, and every spelling of "none".
        ("date", "2026-11-30T21:15:04.123Z", "2026-11-30"),
        ("date", "2026-11-30", "2026-11-30"),
        ("date", "0000-00-00", EMPTY_DATE),
        ("date", "0000-00-00T00:00:00Z", EMPTY_DATE),
        ("date", "", EMPTY_DATE),
        ("date", None, EMPTY_DATE),
        # Times: legacy seconds since midnight, the app's HH:MM:SS, HH:MM.
        ("time", 47046, "13:04:06"),
        ("time", "47046", "13:04:06"),
        ("time", "21:15:04", "21:15:04"),
        ("time", "7:05", "07:05:00"),
        ("time", "", "00:00:00"),
        ("datetime", "2026-11-30T21:15:04+02:00", "2026-11-30T19:15:04Z"),
        ("datetime", "2026-11-30T21:15:04.500Z", "2026-11-30T21:15:04.500Z"),
        ("datetime", "2026-11-30", "2026-11-30T00:00:00Z"),
        ("datetime", "", EMPTY_DATE),
        ("boolean", True, "true"),
        ("boolean", "FALSE", "false"),
        ("boolean", "1", "true"),
        ("boolean", None, "false"),
        ("integer", "007", "7"),
        ("integer", 2.0, "2"),
        ("integer", "undefined", "0"),  # String(undefined), as a JavaScript client sends a missing number
        ("real", "1.50", "1.5"),
        ("real", 1e-07, "1e-07"),
        ("real", "", "0"),
        ("json", {"a": [1, 2]}, '{"a":[1,2]}'),
        ("json", '{"kept": "as sent"}', '{"kept": "as sent"}'),
        ("json", None, ""),
        ("text", 12, "12"),
        ("text", None, ""),
        ("text", False, "false"),
    ],
)
def test_each_form_becomes_the_canonical_text(kind, value, wire):
    assert to_wire(kind, value) == wire


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("date", "2026-02-30", "a real calendar date"),
        ("date", "30/11/2026", "a date YYYY-MM-DD"),
        ("time", "25:61", "a time"),
        ("time", -5, "a time"),
        ("boolean", "maybe", "true or false"),
        ("integer", "a lot", "a number"),
        ("real", "inf", "a finite number"),
        ("datetime", "yesterday", "a date and time"),
    ],
)
def test_a_value_that_is_not_of_its_type_is_refused_saying_what_was_expected(kind, value, expected):
    with pytest.raises(InvalidValue, match=expected):
        to_wire(kind, value)


@pytest.mark.parametrize(
    ("kind", "wire", "typed"),
    [
        ("boolean", "true", True),
        ("integer", "7", 7),
        ("real", "1.5", 1.5),
        ("date", EMPTY_DATE, None),
        ("date", "2026-11-30", "2026-11-30"),
        ("json", '{"a":1}', {"a": 1}),
        ("json", "", None),
        ("text", "x", "x"),
    ],
)
def test_the_canonical_text_reads_back_as_typed_json(kind, wire, typed):
    assert from_wire(kind, wire) == typed
