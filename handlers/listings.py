"""Lists: a reporter's own reports (``/mijnmeldingen``) and an official's open ones (``/open``)."""

from sqlmodel import col, select

from handlers import report_actions
from handlers.buttons import ReportAction
from handlers.context import Context
from handlers.delivery import official_actions
from handlers.i18n import Markup
from handlers.messages import Button
from handlers.rendering import age, category_name, report_number
from storage.models import Category, Park, Person, Report
from storage.queries import active_roles

LIST_LIMIT = 20


def my_reports(ctx: Context) -> None:
    rows = ctx.session.exec(
        select(Report, Park).join(Park, col(Park.id) == col(Report.park_id))
        .where(Report.reporter_person_id == ctx.person.id)
        .order_by(col(Report.created_at).desc()).limit(LIST_LIMIT)
    ).all()
    if not rows:
        return ctx.reply(ctx.t("mine.none"))
    lines, buttons = [ctx.t("mine.header")], []
    for report, park in rows:
        number = report_number(park, report)
        category = ctx.session.get(Category, report.category_id)
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


def open_reports(ctx: Context) -> None:
    rows = report_actions.open_reports_for(ctx)
    if not any(role.role != "admin" for role in active_roles(ctx.session, ctx.person.id)):
        return ctx.reply(ctx.t("open.not_official"))
    if not rows:
        return ctx.reply(ctx.t("open.none"))
    lines, buttons = [ctx.t("open.header", count=len(rows))], []
    for report, park in rows[:LIST_LIMIT]:
        number = report_number(park, report)
        lead = ctx.session.get(Person, report.lead_person_id) if report.lead_person_id else None
        category = ctx.session.get(Category, report.category_id)
        lines.append(ctx.t(
            "open.line", number=number, category=category_name(category, ctx.language),
            age=age(ctx.services.texts, ctx.language, report.created_at, ctx.now),
            lead=lead.display_name if lead else ctx.t("open.no_lead"), reminders=report.reminder_count,
            status=ctx.t(status_key(report))))
        buttons.extend(official_actions(ctx, ctx.person, report)[:1])
        buttons[-1] = [Button(f"{number}: {button.label}", data=button.data) for button in buttons[-1]]
    ctx.reply(Markup("\n".join(lines)), buttons)
    return None
