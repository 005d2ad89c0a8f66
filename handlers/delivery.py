"""Sending a finished report: number it, route it, deliver it privately to officials."""

from handlers import report_log
from handlers.buttons import ReportAction
from handlers.context import Context
from handlers.i18n import Markup, escape
from handlers.messages import Button
from handlers.policy import next_reminder
from handlers.rendering import report_details, report_number, role_label
from handlers.report_flow import photo_captions
from storage.models import Category, Park, Person, Report, ReportDraft, ReportEvent, ReportRecipient
from storage.queries import ADMIN, next_report_number, people_with_roles, routed_officials


def official_actions(ctx: Context, official: Person, report: Report) -> list[list[Button]]:
    t = lambda key: ctx.t_for(official, key)  # noqa: E731
    rid = report.id
    return [
        [Button(t("action.claim"), data=ReportAction(rid, "claim")), Button(t("action.feedback"), data=ReportAction(rid, "fb"))],
        [Button(t("action.ask"), data=ReportAction(rid, "ask")), Button(t("action.close"), data=ReportAction(rid, "close"))],
    ]


def official_view(ctx: Context, official: Person, park: Park, report: Report) -> Markup:
    """The report as an official reads it; the reporter's name only when they chose so."""
    texts = ctx.services.texts
    language = texts.language_for(official.language)
    category = ctx.session.get(Category, report.category_id)
    reporter = None if report.anonymous else ctx.session.get(Person, report.reporter_person_id)
    header = texts(language, "delivery.header_urgent" if report.urgent else "delivery.header",
                   number=report_number(park, report), park=park.name)
    details = report_details(
        texts, language, category=category, where_text=report.where_text, lat=report.latitude,
        lon=report.longitude, when_kind=report.when_kind, when_text=report.when_text, what=report.what,
        photo_count=len(report.photos), anonymous=report.anonymous, urgent=report.urgent, reporter=reporter,
        photo_captions=report.photo_captions,
    )
    return Markup(f"{header}\n\n{details}")


def submit(ctx: Context, draft: ReportDraft) -> Report:
    """Turn the draft into a numbered report and deliver it, all in the caller's transaction."""
    park = ctx.session.get(Park, draft.park_id)
    data = draft.data
    category = ctx.session.get(Category, data["category_id"])
    report = Report(
        park_id=park.id, number=next_report_number(ctx.session, park), category_id=category.id,
        roles=list(category.roles), where_text=data.get("where_text"), latitude=data.get("latitude"),
        longitude=data.get("longitude"), when_kind=data.get("when_kind", "now"), when_text=data.get("when_text"),
        what=data["what"], photos=list(data.get("photos", [])), photo_captions=photo_captions(data),
        anonymous=data.get("anonymous", True),
        urgent=data.get("urgent", False), reporter_person_id=ctx.person.id, created_at=ctx.now,
    )
    report.next_reminder_at = next_reminder(park, report, ctx.now, first=True)
    ctx.session.add(report)
    ctx.session.delete(draft)
    ctx.session.flush()
    ctx.session.add(ReportEvent(report_id=report.id, person_id=ctx.person.id, kind="sent", created_at=ctx.now))

    officials = routed_officials(ctx.session, park.id, report.roles)
    for official in officials:  # a new report has no recipients yet, and routed officials are distinct
        ctx.session.add(ReportRecipient(report_id=report.id, person_id=official.id))
        deliver_to(ctx, official, park, report)
    number = report_number(park, report)
    covered = [role for role in report.roles if people_with_roles(ctx.session, park.id, [role])]
    uncovered = [role for role in report.roles if role not in covered]
    if officials:
        ctx.reply(ctx.t("report.sent", number=number, roles=role_labels(ctx.services.texts, ctx.language, covered)))
    else:
        ctx.reply(ctx.t("report.sent_no_officials", number=number))
    if uncovered:
        alert_uncovered_roles(ctx, park, report, uncovered, covered)
    return report


def deliver_to(ctx: Context, official: Person, park: Park, report: Report) -> None:
    """The report's message, its location and its photos to one official."""
    number = report_number(park, report)
    ctx.send_to(official, official_view(ctx, official, park, report), official_actions(ctx, official, report),
                purpose="delivery", report_id=report.id)
    report_log.record(ctx.session, report.id, official.id, "received", ctx.now)
    if report.latitude is not None and report.longitude is not None:
        ctx.send_to(official, None, location=(report.latitude, report.longitude),
                    purpose="delivery_extra", report_id=report.id)
    captions = list(report.photo_captions or [])
    for index, photo in enumerate(report.photos, start=1):
        own = captions[index - 1] if index <= len(captions) else None
        caption = ctx.t_for(official, "delivery.photo_caption_text" if own else "delivery.photo_caption",
                            number=number, index=index, total=len(report.photos), caption=own)
        ctx.send_to(official, caption, photo=photo, purpose="delivery_extra", report_id=report.id)


def role_labels(texts, language: str, roles: list[str]) -> Markup:
    """Roles as their labels in the reader's language: "politie (wijkagent), gemeente"."""
    return Markup(", ".join(escape(role_label(texts, language, role)) for role in roles))


def alert_uncovered_roles(ctx: Context, park: Park, report: Report, uncovered: list[str], covered: list[str],
                          revoked: Person | None = None) -> None:
    """Tell the park's admins which routed roles of a report have no verified official, and why now."""
    texts = ctx.services.texts
    number = report_number(park, report)
    for admin in people_with_roles(ctx.session, park.id, [ADMIN]):
        language = texts.language_for(admin.language)
        roles = role_labels(texts, language, uncovered)
        if revoked is not None:
            text = ctx.t_for(admin, "admin.no_officials_after_revoke", number=number, roles=roles,
                             name=revoked.display_name)
        elif covered:
            text = ctx.t_for(admin, "admin.roles_missing", number=number, roles=roles,
                             received=role_labels(texts, language, covered))
        else:
            text = ctx.t_for(admin, "admin.no_officials", number=number, roles=roles)
        ctx.send_to(admin, text, purpose="alert", report_id=report.id)
