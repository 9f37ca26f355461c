"""When a schedule runs next: slots in the schedule's own time zone, computed with zoneinfo.

A slot is a wall-clock time in the zone (daily 02:00 stays 02:00 across DST changes). A wall time that
does not exist on a spring-forward day runs at the same offset as before the change (02:30 becomes
03:30); one that happens twice on a fall-back day runs at its first occurrence. Only the next slot after
`after` is ever returned, so slots missed while nothing was running collapse into one run.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FREQUENCIES = ("hourly", "daily", "weekly")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """A schedule setting that cannot work, in words."""


def parse_sync_time(text: str) -> time:
    match = _HH_MM.match(text or "")
    if not match:
        raise ScheduleError(f"syncTime must be HH:MM on a 24-hour clock (such as 02:30), not '{text}'.")
    return time(int(match.group(1)), int(match.group(2)))


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"timeZone '{name}' is not a known IANA time zone (such as Pacific/Auckland)."
        ) from exc


def parse_day_of_week(value: int | str | None) -> int | None:
    """0 Monday ... 6 Sunday, from a number or a day's English name."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() in DAYS:
        return DAYS.index(value.strip().lower())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    raise ScheduleError(f"dayOfWeek must be monday ... sunday (or 0 for Monday ... 6), not '{value}'.")


def check_schedule(*, frequency: str, sync_time: str, day_of_week: int | None, time_zone: str) -> None:
    if frequency not in FREQUENCIES:
        raise ScheduleError(f"frequency must be one of {', '.join(FREQUENCIES)}, not '{frequency}'.")
    parse_sync_time(sync_time)
    parse_zone(time_zone)
    if frequency == "weekly" and day_of_week is None:
        raise ScheduleError("A weekly schedule needs dayOfWeek (monday ... sunday).")


def _at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def next_slot(
    *, frequency: str, sync_time: str, day_of_week: int | None, time_zone: str, after: datetime
) -> datetime:
    """The first slot strictly after `after` (an aware datetime), in UTC."""
    check_schedule(frequency=frequency, sync_time=sync_time, day_of_week=day_of_week, time_zone=time_zone)
    wall, zone = parse_sync_time(sync_time), parse_zone(time_zone)
    after = after.astimezone(UTC)
    if frequency == "hourly":
        # Hourly counts real hours, not wall-clock ones, at the given minute of the local hour (which
        # differs from the UTC minute in zones such as Asia/Kolkata).
        local = after.astimezone(zone)
        slot = local.replace(minute=wall.minute, second=0, microsecond=0).astimezone(UTC)
        while slot <= after:
            slot += timedelta(hours=1)
        while slot - timedelta(hours=1) > after:
            slot -= timedelta(hours=1)
        return slot
    day = after.astimezone(zone).date() - timedelta(days=1)  # the day before, in case of offsets
    while True:
        if frequency == "daily" or day.weekday() == day_of_week:
            slot = _at(day, wall, zone)
            if slot > after:
                return slot
        day += timedelta(days=1)
