"""A park's reminder policy as working-time arithmetic.

Durations in working time count whole days as working days (``2d`` = two full working days,
e.g. Monday 10:00 → Wednesday 10:00) and the rest as working hours; urgent reports count
wall-clock time unless the park says otherwise.
"""

from datetime import datetime, time, timedelta
from functools import lru_cache

from handlers.working_time import WorkingTime, add_wall_clock
from storage.models import Park, Report


def working_time_of(park: Park) -> WorkingTime:
    return _working_time(park.timezone, park.work_start, park.work_end, park.work_days)


@lru_cache(maxsize=256)
def _working_time(timezone: str, start: str, end: str, days: str) -> WorkingTime:
    """Pure and immutable, so shared: its holiday calendar is built once per year, not per reminder."""
    return WorkingTime(timezone=timezone, start=time.fromisoformat(start), end=time.fromisoformat(end),
                       days=frozenset(int(day) for day in days.split(",") if day.strip()))


def next_reminder(park: Park, report: Report, after: datetime, first: bool) -> datetime:
    """When the next reminder for ``report`` is due, counted from ``after``."""
    if report.urgent:
        seconds = park.urgent_first_reminder_after_s if first else park.urgent_repeat_every_s
        if not park.urgent_in_working_time:
            return add_wall_clock(after, timedelta(seconds=seconds))
    else:
        seconds = park.first_reminder_after_s if first else park.repeat_every_s
    return working_time_of(park).add(after, working_duration(park, timedelta(seconds=seconds)))


def working_duration(park: Park, duration: timedelta) -> timedelta:
    """A policy duration in working time: each whole day is one working day (start to end)."""
    hours = working_time_of(park)
    day = datetime.combine(datetime.min, hours.end) - datetime.combine(datetime.min, hours.start)
    return duration.days * day + (duration - timedelta(days=duration.days))


def describe_duration(texts, language: str, duration: timedelta, working: bool) -> str:
    """``2 werkdagen``, ``4 werkuren``, ``30 minuten``: readable in both languages."""
    days, rest = duration.days, duration - timedelta(days=duration.days)
    hours, minutes = int(rest.total_seconds() // 3600), int(rest.total_seconds() % 3600 // 60)
    seconds = int(rest.total_seconds() % 60)
    kind = "working" if working else "clock"
    parts = []
    for amount, unit in ((days, "days"), (hours, "hours"), (minutes, "minutes"), (seconds, "seconds")):
        if amount:
            parts.append(texts(language, f"duration.{kind}_{unit}_{'one' if amount == 1 else 'many'}", n=amount))
    return " ".join(parts) or texts(language, "duration.zero")
