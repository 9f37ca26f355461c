"""Typed record fields: every value is kept in one canonical text form, whatever form it arrived in.

Clients send the same value in many forms: the mSupply Mobile app sends dates as ISO timestamps
(`2024-03-01T10:15:00.000Z`) and times as `HH:MM:SS`, legacy servers send dates as `YYYY-MM-DD` with
`0000-00-00` for none and times as seconds since midnight, typed sources send JSON numbers and
booleans. The registry gives each field a type; `to_wire` turns any accepted form into the one text
that v1, v2 and v3 pulls carry, so a record reads the same whichever client wrote it. The forms are
those the real clients parse (docs/protocol.md, "Typed fields"):

- date `YYYY-MM-DD`; an empty date is `0000-00-00T00:00:00`, which the mobile app's date parser knows as
  empty (it turns a bare `0000-00-00` into an invalid date);
- time `HH:MM:SS`; datetime `YYYY-MM-DDTHH:MM:SSZ` (UTC);
- boolean `true`/`false`; integer and real as decimal text (a whole real without `.0`);
- JSON as its text; text as given.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

import orjson

FieldType = Literal["text", "integer", "real", "boolean", "date", "time", "datetime", "json"]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)

EMPTY_DATE = "0000-00-00T00:00:00"
EMPTY_TIME = "00:00:00"

# What a field never set reads as on the wire.
EMPTY_WIRE: dict[str, str] = {
    "text": "",
    "integer": "0",
    "real": "0",
    "boolean": "false",
    "date": EMPTY_DATE,
    "time": EMPTY_TIME,
    "datetime": EMPTY_DATE,
    "json": "",
}

# Strings that JavaScript clients produce for a value they did not have (`String(undefined)`).
_NO_VALUE = frozenset({"", "null", "undefined", "nan", "none"})
_ZERO_DATES = frozenset({"0000-00-00", "0000-00-00T00:00:00", "0000-00-00T00:00:00Z", "00/00/0000"})
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})
_DATE_PREFIX = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:$|[T ])")
_TIME = re.compile(r"(\d{1,3}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


class InvalidValue(ValueError):
    """A value that cannot be read as its field's type; the message says what was expected."""


def text_wire(value: Any) -> str:
    """Any JSON value as text: strings as given, `true`/`false`, numbers in decimal, objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    return orjson.dumps(value).decode()


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _NO_VALUE)


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue("a finite number")
        return _number_text(value)
    if isinstance(value, str):
        stripped = value.strip()
        if re.fullmatch(r"[+-]?\d+", stripped):
            return str(int(stripped))
        try:
            number = float(stripped)
        except ValueError:
            raise InvalidValue("a number") from None
        if not math.isfinite(number):
            raise InvalidValue("a finite number")
        return _number_text(number)
    raise InvalidValue("a number")


def _boolean(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and value in (0, 1):
        return "true" if value else "false"
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return "true"
        if lowered in _FALSE:
            return "false"
    raise InvalidValue("true or false")


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue("a date YYYY-MM-DD")
    stripped = value.strip()
    if stripped in _ZERO_DATES:
        return EMPTY_DATE
    match = _DATE_PREFIX.match(stripped)
    if not match:
        raise InvalidValue("a date YYYY-MM-DD")
    try:
        # Only the calendar date counts: an ISO timestamp's date is read as written.
        return date(*map(int, match.groups())).isoformat()
    except ValueError:
        raise InvalidValue("a real calendar date YYYY-MM-DD") from None


def _time(value: Any) -> str:
    if isinstance(value, bool):
        raise InvalidValue("a time HH:MM:SS or seconds since midnight")
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        seconds = int(float(value))
        if seconds < 0:
            raise InvalidValue("a time HH:MM:SS or seconds since midnight")
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if isinstance(value, str):
        stripped = value.strip()
        if "T" in stripped:  # an ISO timestamp: its time of day
            stripped = stripped.split("T", 1)[1].rstrip("Z").split("+")[0]
        match = _TIME.match(stripped)
        if match:
            hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
            if minutes < 60 and seconds < 60:
                return f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    raise InvalidValue("a time HH:MM:SS or seconds since midnight")


def _datetime(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidValue("a date and time YYYY-MM-DDTHH:MM:SS")
    stripped = value.strip()
    if stripped in _ZERO_DATES:
        return EMPTY_DATE
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise InvalidValue("a date and time YYYY-MM-DDTHH:MM:SS") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.isoformat(timespec=spec) + "Z"


def _json(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


_CONVERTERS = {
    "integer": _number,
    "real": _number,
    "boolean": _boolean,
    "date": _date,
    "time": _time,
    "datetime": _datetime,
    "json": _json,
}


def to_wire(kind: str, value: Any) -> str:
    """`value` in the canonical text of type `kind`; raises InvalidValue saying what was expected."""
    if kind == "text":
        return text_wire(value)
    if _is_empty(value):
        return EMPTY_WIRE[kind]
    return _CONVERTERS[kind](value)


def from_wire(kind: str, text: str) -> Any:
    """The typed JSON value of a canonical wire text (for clients that take typed JSON)."""
    if kind == "boolean":
        return text == "true"
    if kind in ("integer", "real"):
        number = float(text or 0)
        return int(number) if number.is_integer() and kind == "integer" else number
    if kind in ("date", "datetime"):
        return None if text == EMPTY_DATE else text
    if kind == "json":
        return orjson.loads(text) if text else None
    return text
