"""The reminder policy, read back as a sentence and changed from the chat.

``/beleid`` shows it; ``/beleid <setting> <value>`` changes one setting (Dutch / English):
eerste/first 2d, herhaal/repeat 1d, escalatie/escalate 3, spoed-eerste/urgent-first 1h,
spoed-herhaal/urgent-repeat 30m, werktijd/hours 08:00-18:00, werkdagen/days 1-5 (or 1,2,3),
tijdzone/timezone Europe/Amsterdam. A change reschedules the pending reminders at once.
"""

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, select

from handlers import audit, park_choice, retention
from handlers.context import Context
from handlers.durations import parse_duration
from handlers.i18n import Markup
from handlers.policy import describe_duration, next_reminder
from storage.models import Park, Report

SETTINGS = {"eerste": "first", "first": "first", "herhaal": "repeat", "repeat": "repeat",
            "escalatie": "escalate", "escalate": "escalate", "spoed-eerste": "urgent_first",
            "urgent-first": "urgent_first", "spoed-herhaal": "urgent_repeat", "urgent-repeat": "urgent_repeat",
            "werktijd": "hours", "hours": "hours", "werkdagen": "days", "days": "days",
            "tijdzone": "timezone", "timezone": "timezone", **retention.SETTING_NAMES}
DURATION_FIELDS = {"first": "first_reminder_after_s", "repeat": "repeat_every_s",
                   "urgent_first": "urgent_first_reminder_after_s", "urgent_repeat": "urgent_repeat_every_s"}
MAX_ESCALATE = 50
MAX_INTERVAL = timedelta(days=60)


def policy_command(ctx: Context, args: str) -> None:
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "policy", args)
    if park is None:
        if not park_choice.admin_parks(ctx):
            ctx.reply(ctx.t("admin.not_admin"))
        return None
    words = args.split(maxsplit=1)
    if not words:
        return ctx.reply(Markup(describe(ctx, park) + "\n\n" + ctx.t("policy.usage")))
    setting = SETTINGS.get(words[0].lower())
    value = words[1].strip() if len(words) > 1 else ""
    if setting is None or not value:
        return ctx.reply(ctx.t("policy.usage"))
    if setting == "retention":
        changed = retention.change(ctx, park, value)
        return ctx.reply(Markup(changed + "\n\n" + describe(ctx, park))) if changed else None
    before = snapshot(park)
    problem = _apply(park, setting, value)
    if problem:
        return ctx.reply(ctx.t(problem, value=value))
    ctx.session.add(park)
    moved = reschedule(ctx, park)
    audit.record(ctx, park, f"policy.{setting}", park.slug, before=before, after=snapshot(park))
    ctx.reply(Markup(ctx.tn("policy.changed", moved) + "\n\n" + describe(ctx, park)))
    return None


def _apply(park: Park, setting: str, value: str) -> str | None:
    """Change one setting; the translation key of the problem, or None."""
    if setting in DURATION_FIELDS:
        try:
            duration = parse_duration(value)
        except ValueError:
            return "policy.bad_duration"
        if duration <= timedelta(0) or duration > MAX_INTERVAL:
            return "policy.bad_duration"
        setattr(park, DURATION_FIELDS[setting], int(duration.total_seconds()))
    elif setting == "escalate":
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ESCALATE:
            return "policy.bad_number"
        park.escalate_after = int(value)
    elif setting == "hours":
        match = re.fullmatch(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})", value)
        try:
            start, end = (time.fromisoformat(part.zfill(5)) for part in match.groups()) if match else (None, None)
        except ValueError:
            start = end = None
        if start is None or end <= start:
            return "policy.bad_hours"
        park.work_start, park.work_end = start.strftime("%H:%M"), end.strftime("%H:%M")
    elif setting == "days":
        days = _days(value)
        if not days:
            return "policy.bad_days"
        park.work_days = ",".join(str(day) for day in days)
    elif setting == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return "policy.bad_timezone"
        park.timezone = value
    return None


def _days(value: str) -> list[int]:
    """``1-5``, ``1,2,3`` → ISO weekdays; empty when invalid."""
    days: set[int] = set()
    for part in re.split(r"[,\s]+", value.strip()):
        span = re.fullmatch(r"([1-7])(?:-([1-7]))?", part)
        if not span:
            return []
        first, last = int(span.group(1)), int(span.group(2) or span.group(1))
        if last < first:
            return []
        days.update(range(first, last + 1))
    return sorted(days)


def reschedule(ctx: Context, park: Park) -> int:
    """Recompute the next reminder of every open report still waiting for feedback."""
    reports = ctx.session.exec(select(Report).where(
        Report.park_id == park.id, Report.status == "open", col(Report.first_feedback_at).is_(None),
        col(Report.next_reminder_at).is_not(None))).all()
    for report in reports:
        base = report.last_reminded_at or report.created_at
        report.next_reminder_at = next_reminder(park, report, base, first=report.reminder_count == 0)
        ctx.session.add(report)
    return len(reports)


def describe(ctx: Context, park: Park) -> Markup:
    """The policy as a plain sentence in the reader's language."""
    language = ctx.language
    texts = ctx.services.texts
    days = [int(day) for day in park.work_days.split(",")]
    return Markup(ctx.tn(
        "policy.sentence", park.escalate_after,
        first=describe_duration(texts, language, timedelta(seconds=park.first_reminder_after_s), working=True),
        repeat=describe_duration(texts, language, timedelta(seconds=park.repeat_every_s), working=True),
        urgent_first=describe_duration(texts, language, timedelta(seconds=park.urgent_first_reminder_after_s),
                                       working=park.urgent_in_working_time),
        urgent_repeat=describe_duration(texts, language, timedelta(seconds=park.urgent_repeat_every_s),
                                        working=park.urgent_in_working_time),
        days=_day_names(ctx, days), start=park.work_start, end=park.work_end, timezone=park.timezone)
        + "\n" + retention.describe(ctx, park))


def _day_names(ctx: Context, days: list[int]) -> str:
    from babel.dates import get_day_names

    names = get_day_names("abbreviated", locale=ctx.language)
    return ", ".join(names[day - 1] for day in days)


def snapshot(park: Park) -> dict:
    return {"first": park.first_reminder_after_s, "repeat": park.repeat_every_s, "escalate": park.escalate_after,
            "urgent_first": park.urgent_first_reminder_after_s, "urgent_repeat": park.urgent_repeat_every_s,
            "hours": f"{park.work_start}-{park.work_end}", "days": park.work_days, "timezone": park.timezone}
