"""Who saw what: ``/logboek melding SP-0042`` (``/audit report SP-0042``) for the park's admins.

The trail of one report, oldest first: delivered to (``received``; platforms give no read
receipts, so delivery stands for opening), claimed, feedback, question, answer, closed,
withdrawn, rated, exported (``/mijngegevens``). Officials and admins are named; the reporter
is only ever "the reporter", also when they chose to be named. Acts are ``ReportEvent`` rows;
deliveries and exports are ``ReportAccess`` rows. Both go with the report's content after the
park's retention (``handlers.retention.purge_report``).
"""

import re
from datetime import datetime

from sqlmodel import Session, col, select

from handlers import park_choice
from handlers.context import Context
from handlers.i18n import Markup
from handlers.rendering import local_time, report_number
from storage.models import Park, Person, Report, ReportAccess, ReportEvent

WORDS = ("melding", "report")
SHOWN_EVENTS = ("sent", "claim", "feedback", "question", "answer", "close", "withdraw", "rating")
LOG_LIMIT = 60
_ARGS = re.compile(r"^\s*(?:melding|report)\s+([A-Za-z]{1,8})-?(\d{1,6})\s*$", re.I)


def record(session: Session, report_id: int, person_id: int | None, action: str, now: datetime) -> None:
    session.add(ReportAccess(report_id=report_id, person_id=person_id, action=action, created_at=now))


def wants(args: str) -> bool:
    """Whether ``/logboek`` was asked for one report's trail."""
    return args.strip().lower().split(" ", 1)[0] in WORDS


def show(ctx: Context, args: str) -> None:
    admin_parks = park_choice.admin_parks(ctx)
    if not admin_parks:
        return ctx.reply(ctx.t("admin.not_admin"))
    match = _ARGS.match(args)
    found = None
    if match:
        prefix, number = match.group(1).upper(), int(match.group(2))
        found = next(((park, report) for park in admin_parks if park.prefix.upper() == prefix
                      for report in ctx.session.exec(select(Report).where(
                          Report.park_id == park.id, Report.number == number))), None)
    if found is None:
        return ctx.reply(ctx.t("reportlog.unknown", value=args.strip()))
    park, report = found
    entries = [] if report.purged_at else _entries(ctx, report)
    number = report_number(park, report)
    if not entries:
        return ctx.reply(ctx.t("reportlog.none", number=number))
    lines = [ctx.t("reportlog.header", number=number, park=park.name)]
    for moment, person_id, action in entries[-LOG_LIMIT:]:
        lines.append(ctx.t("reportlog.line", when=local_time(park, moment, ctx.language),
                           who=_who(ctx, report, person_id), action=ctx.t(f"reportlog.action_{action}")))
    ctx.reply(Markup("\n".join(lines)))
    return None


def _entries(ctx: Context, report: Report) -> list[tuple[datetime, int | None, str]]:
    events = ctx.session.exec(select(ReportEvent).where(
        ReportEvent.report_id == report.id, col(ReportEvent.kind).in_(SHOWN_EVENTS))).all()
    accesses = ctx.session.exec(select(ReportAccess).where(ReportAccess.report_id == report.id)).all()
    # Same moment: sending comes before receiving, and each table keeps its own order.
    rows = [(event.created_at, event.kind != "sent", 0, event.id, event.person_id, event.kind) for event in events]
    rows += [(access.created_at, True, 1, access.id, access.person_id, access.action) for access in accesses]
    return [(row[0], row[4], row[5]) for row in sorted(rows, key=lambda row: row[:4])]


def _who(ctx: Context, report: Report, person_id: int | None) -> str:
    if person_id is None:
        return ctx.t("reportlog.nobody")
    if person_id == report.reporter_person_id:
        return ctx.t("reportlog.reporter")
    person = ctx.session.get(Person, person_id)
    return person.display_name or ctx.t("reportlog.erased")
