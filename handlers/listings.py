"""Lists: a reporter's own reports (``/mijnmeldingen``) and an official's open ones (``/open``)."""

from handlers.buttons import OpenPage, ReportAction
from handlers.context import Context
from handlers.delivery import official_actions
from handlers.i18n import Markup
from handlers.messages import Button
from handlers.rendering import age, category_name, report_number
from storage.listing_queries import my_reports_page, open_reports_page
from storage.models import Report
from storage.queries import ADMIN, active_roles

LIST_LIMIT = 20


def my_reports(ctx: Context) -> None:
    rows = my_reports_page(ctx.session, ctx.person.id, LIST_LIMIT)
    if not rows:
        return ctx.reply(ctx.t("mine.none"))
    lines, buttons = [ctx.t("mine.header")], []
    for report, park, category in rows:
        number = report_number(park, report)
        lines.append(ctx.t("mine.line", number=number, category=category_name(category, ctx.language),
                           status=ctx.t(status_key(report)), age=age(ctx.services.texts, ctx.language,
                                                                       report.created_at, ctx.now)))
        if report.status == "open":
            buttons.append([Button(ctx.t("mine.withdraw_button", number=number), data=ReportAction(report.id, "wd"))])
    ctx.reply(Markup("\n".join(lines)), buttons)
    return None


def status_key(report: Report) -> str:
    if report.status != "open":
        return f"status.{report.status}"
    return "status.feedback_given" if report.first_feedback_at else "status.awaiting_feedback"


def open_reports(ctx: Context, page: int = 1) -> None:
    """One page of the official's open reports, oldest first, with buttons to turn the page."""
    roles = [(role.park_id, role.role) for role in active_roles(ctx.session, ctx.person.id) if role.role != ADMIN]
    if not roles:
        return ctx.reply(ctx.t("open.not_official"))
    page = max(page, 1)
    rows, total = open_reports_page(ctx.session, ctx.person.id, roles, limit=LIST_LIMIT,
                                    offset=(page - 1) * LIST_LIMIT)
    if not total:
        return ctx.reply(ctx.t("open.none"))
    pages = -(-total // LIST_LIMIT)
    if not rows:  # a page past the end (the list shrank): show the last one
        return open_reports(ctx, pages)
    lines, buttons = [ctx.t("open.header", count=total)], []
    for row in rows:
        report, number = row.report, report_number(row.park, row.report)
        lines.append(ctx.t(
            "open.line", number=number, category=category_name(row.category, ctx.language),
            age=age(ctx.services.texts, ctx.language, report.created_at, ctx.now),
            lead=row.lead.display_name if row.lead else ctx.t("open.no_lead"), reminders=report.reminder_count,
            status=ctx.t(status_key(report))))
        buttons.append([Button(f"{number}: {button.label}", data=button.data)
                        for button in official_actions(ctx, ctx.person, report)[0]])
    if pages > 1:
        lines.append(ctx.t("open.page", page=page, pages=pages))
        turn = []
        if page > 1:
            turn.append(Button(ctx.t("open.previous"), data=OpenPage(page - 1)))
        if page < pages:
            turn.append(Button(ctx.t("open.next"), data=OpenPage(page + 1)))
        buttons.append(turn)
    ctx.reply(Markup("\n".join(lines)), buttons)
    return None


def open_page(ctx: Context, args: str) -> None:
    """``/open 3`` shows page 3; anything else the first page."""
    text = (args or "").strip()
    open_reports(ctx, int(text) if text.isdigit() and 0 < len(text) < 6 else 1)
