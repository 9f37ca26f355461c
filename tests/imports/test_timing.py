"""Next-run computation: slots in the schedule's zone, at 23:59, at the end of the week, across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.imports.timing import ScheduleError, next_slot


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def slot(after: datetime, frequency: str = "daily", sync_time: str = "00:00", day=None, zone: str = "UTC"):
    return next_slot(frequency=frequency, sync_time=sync_time, day_of_week=day, time_zone=zone, after=after)


def test_daily_at_23_59_runs_the_same_day_before_it_and_the_next_day_at_or_after_it():
    assert slot(utc(2026, 3, 10, 23, 58), sync_time="23:59") == utc(2026, 3, 10, 23, 59)
    assert slot(utc(2026, 3, 10, 23, 59), sync_time="23:59") == utc(2026, 3, 11, 23, 59)
    assert slot(utc(2026, 12, 31, 23, 59, 30), sync_time="23:59") == utc(2027, 1, 1, 23, 59)


def test_weekly_on_sunday_night_wraps_to_the_next_week_once_passed():
    # 2026-03-15 is a Sunday (day 6).
    assert slot(utc(2026, 3, 15, 23, 58), "weekly", "23:59", day=6) == utc(2026, 3, 15, 23, 59)
    assert slot(utc(2026, 3, 15, 23, 59), "weekly", "23:59", day=6) == utc(2026, 3, 22, 23, 59)
    assert slot(utc(2026, 3, 16, 0, 0), "weekly", "00:00", day=0) == utc(2026, 3, 23, 0, 0)


def test_daily_keeps_the_wall_clock_time_across_the_spring_and_autumn_changes():
    # Europe/Berlin: UTC+1 in winter, UTC+2 from 2026-03-29 02:00 local, back on 2026-10-25 03:00.
    assert slot(utc(2026, 3, 28, 12), sync_time="06:00", zone="Europe/Berlin") == utc(2026, 3, 29, 4)
    assert slot(utc(2026, 3, 27, 12), sync_time="06:00", zone="Europe/Berlin") == utc(2026, 3, 28, 5)
    assert slot(utc(2026, 10, 24, 12), sync_time="06:00", zone="Europe/Berlin") == utc(2026, 10, 25, 5)


def test_a_wall_time_skipped_by_the_clock_change_runs_once_an_hour_later_and_a_repeated_one_runs_once():
    # 02:30 does not exist in Berlin on 2026-03-29: it runs at 03:30 CEST (01:30 UTC).
    assert slot(utc(2026, 3, 28, 12), sync_time="02:30", zone="Europe/Berlin") == utc(2026, 3, 29, 1, 30)
    # 02:30 happens twice on 2026-10-25: the first one (CEST, 00:30 UTC), then the next day.
    first = slot(utc(2026, 10, 24, 12), sync_time="02:30", zone="Europe/Berlin")
    assert first == utc(2026, 10, 25, 0, 30)
    assert slot(first, sync_time="02:30", zone="Europe/Berlin") == utc(2026, 10, 26, 1, 30)


def test_hourly_runs_every_real_hour_at_the_local_minute_even_across_dst():
    assert slot(utc(2026, 3, 10, 10, 15), "hourly", "00:20") == utc(2026, 3, 10, 10, 20)
    assert slot(utc(2026, 3, 10, 10, 20), "hourly", "00:20") == utc(2026, 3, 10, 11, 20)
    # Kolkata is UTC+5:30: minute 00 local is minute 30 UTC.
    assert slot(utc(2026, 3, 10, 10, 0), "hourly", "00:00", zone="Asia/Kolkata") == utc(2026, 3, 10, 10, 30)
    # Across Berlin's spring change: one hour apart in real time.
    assert slot(utc(2026, 3, 29, 0, 45), "hourly", "00:50", zone="Europe/Berlin") == utc(2026, 3, 29, 0, 50)
    assert slot(utc(2026, 3, 29, 0, 50), "hourly", "00:50", zone="Europe/Berlin") == utc(2026, 3, 29, 1, 50)


def test_missed_slots_collapse_into_the_next_one_after_now():
    assert slot(utc(2026, 5, 20, 8), sync_time="02:00") == utc(2026, 5, 21, 2)


@pytest.mark.parametrize(
    ("frequency", "sync_time", "day", "zone", "words"),
    [
        ("monthly", "02:00", None, "UTC", "frequency"),
        ("daily", "24:00", None, "UTC", "HH:MM"),
        ("daily", "2:00", None, "UTC", "HH:MM"),
        ("daily", "02:00", None, "Mars/Olympus", "time zone"),
        ("weekly", "02:00", None, "UTC", "dayOfWeek"),
    ],
)
def test_impossible_settings_are_refused_in_words(frequency, sync_time, day, zone, words):
    with pytest.raises(ScheduleError, match=words):
        slot(utc(2026, 1, 1), frequency, sync_time, day, zone)
