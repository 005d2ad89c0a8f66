"""Retention per park: report content is deleted a set time after the report ended.

What a purge deletes: the report's texts (where, when, what), its location and photo
references, the texts of its questions, answers and feedback, who acted on it (event
persons, recipients, the who-saw-what log), its outgoing messages and any prompt waiting
for text about it, and the link to the reporter. What stays: the anonymous figures the
statistics need (park, number, category, roles, status, urgency, the moments of sending,
first feedback, closing, reminder count and rating).

A report ends when it is closed or withdrawn; open reports are never purged. Admins read
the retention in ``/beleid`` and change it with ``/beleid bewaren 1j`` (``/policy keep 1y``).
Prompts (a park question, a wait for free text) and rate-limit records go after
``PROMPT_RETENTION``; drafts expire through ``bot.draft_idle_timeout`` and delivered
outgoing messages through ``bot.outbox_retention``. Answers to a park's requests go the same
time after the request closed (``handlers.park_privacy``).
"""

import re
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from handlers import audit, park_privacy
from handlers.context import Context
from handlers.durations import parse_duration
from handlers.i18n import Markup
from handlers.services import Services
from storage.models import (
    OutboxMessage, Park, PendingCommand, PendingInput, RateEvent, Report, ReportAccess, ReportEvent,
    ReportRecipient,
)

SETTING_NAMES = {"bewaren": "retention", "bewaartermijn": "retention", "keep": "retention",
                 "retention": "retention"}
MIN_RETENTION = timedelta(days=1)
MAX_RETENTION = timedelta(days=10 * 365)
PROMPT_RETENTION = timedelta(days=7)
PURGE_BATCH = 200
ENDED = ("closed", "withdrawn")
_LONG_UNITS = re.compile(
    r"^\s*(\d{1,4})\s*(j|jr|jaar|jaren|y|yr|year|years|mnd|maand|maanden|month|months)\s*$", re.I)


# ---- the sweep ----------------------------------------------------------------------------------

def run_retention(services: Services) -> int:
    """Purge every ended report past its park's retention, and old prompts; the number of reports purged."""
    with services.db.transaction() as session:
        now = services.clock.now()
        purged = 0
        for park in session.exec(select(Park)).all():
            for report in _expired_reports(session, park, now):
                purge_report(session, report, now)
                purged += 1
            park_privacy.purge_expired_replies(session, park, now)  # answers to requests (issue 12)
        _prune_prompts(session, now - max(PROMPT_RETENTION, services.settings.draft_idle_timeout))
        return purged


def _expired_reports(session: Session, park: Park, now: datetime) -> list[Report]:
    cutoff = now - timedelta(seconds=park.retention_s)
    ended_at = func.coalesce(col(Report.closed_at), col(Report.withdrawn_at))
    return list(session.exec(
        select(Report).where(Report.park_id == park.id, col(Report.purged_at).is_(None),
                             col(Report.status).in_(ENDED), ended_at <= cutoff)
        .order_by(col(Report.id)).limit(PURGE_BATCH).with_for_update(skip_locked=True)))


def purge_report(session: Session, report: Report, now: datetime) -> None:
    """Delete everything of the report but its anonymous figures (see the module docstring)."""
    report.where_text = report.when_text = None
    report.latitude = report.longitude = None
    report.what = ""
    report.photos = []
    report.reporter_person_id = None
    report.lead_person_id = None
    report.anonymous = True
    report.next_reminder_at = None
    report.purged_at = now
    session.add(report)
    for event in session.exec(select(ReportEvent).where(ReportEvent.report_id == report.id)):
        event.person_id = None
        if event.kind != "rating":
            event.text = None
        session.add(event)
    for table in (ReportRecipient, ReportAccess, PendingInput, OutboxMessage):
        session.exec(delete(table).where(col(table.report_id) == report.id))
    session.flush()


def _prune_prompts(session: Session, cutoff: datetime) -> None:
    session.exec(delete(PendingInput).where(col(PendingInput.created_at) <= cutoff))
    session.exec(delete(PendingCommand).where(col(PendingCommand.created_at) <= cutoff))
    session.exec(delete(RateEvent).where(col(RateEvent.created_at) <= cutoff))


# ---- /beleid bewaren --------------------------------------------------------------------------------

def parse_retention(value: str) -> timedelta | None:
    """``1j``, ``18 maanden``, ``2y``, ``90d``, ``26w`` → a duration within the allowed range, else None."""
    match = _LONG_UNITS.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        days = amount * (365 if unit[0] in "jy" else 30)
        duration = timedelta(days=days)
    else:
        try:
            duration = parse_duration(value.strip())
        except ValueError:
            return None
    return duration if MIN_RETENTION <= duration <= MAX_RETENTION else None


def change(ctx: Context, park: Park, value: str) -> Markup | None:
    """Set the park's retention; the confirmation, or None after answering with the problem."""
    duration = parse_retention(value)
    if duration is None:
        ctx.reply(ctx.t("retention.bad_value", value=value))
        return None
    before = {"retention": park.retention_s}
    park.retention_s = int(duration.total_seconds())
    ctx.session.add(park)
    audit.record(ctx, park, "policy.retention", park.slug, before=before, after={"retention": park.retention_s})
    return ctx.t("retention.changed", duration=describe_retention(ctx, park.retention_s))


def describe(ctx: Context, park: Park) -> Markup:
    """The retention as one sentence of ``/beleid``."""
    return ctx.t("retention.sentence", duration=describe_retention(ctx, park.retention_s))


def describe_retention(ctx: Context, seconds: int) -> Markup:
    days = seconds // 86400
    for unit, size in (("years", 365), ("months", 30), ("weeks", 7), ("days", 1)):
        if days and days % size == 0 and (size > 1 or seconds % 86400 == 0):
            return _amount(ctx, unit, days // size)
    return _amount(ctx, "hours", max(1, seconds // 3600))


def _amount(ctx: Context, unit: str, n: int) -> Markup:
    return ctx.t(f"retention.{unit}_{'one' if n == 1 else 'many'}", n=n)
