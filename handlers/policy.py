"""A park's reminder policy as working-time arithmetic."""

from datetime import datetime, time, timedelta

from handlers.working_time import WorkingTime, add_wall_clock
from storage.models import Park, Report


def working_time_of(park: Park) -> WorkingTime:
    return WorkingTime(
        timezone=park.timezone,
        start=time.fromisoformat(park.work_start),
        end=time.fromisoformat(park.work_end),
        days=frozenset(int(day) for day in park.work_days.split(",") if day.strip()),
    )


def next_reminder(park: Park, report: Report, after: datetime, first: bool) -> datetime:
    """When the next reminder for ``report`` is due, counted from ``after``."""
    if report.urgent:
        seconds = park.urgent_first_reminder_after_s if first else park.urgent_repeat_every_s
        if not park.urgent_in_working_time:
            return add_wall_clock(after, timedelta(seconds=seconds))
    else:
        seconds = park.first_reminder_after_s if first else park.repeat_every_s
    return working_time_of(park).add(after, timedelta(seconds=seconds))
