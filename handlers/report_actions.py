"""What officials and reporters do with a sent report: claim, feedback, questions, close, withdraw.

Buttons carry a ``ReportAction`` or an ``AnswerQuestion``. Every action checks, in
the database, that this person may do it to this report, whatever the button says.
"""

from sqlmodel import col, select

from handlers import rate_limits
from handlers.buttons import AnswerQuestion, ReportAction
from handlers.context import Context
from handlers.i18n import escape
from handlers.messages import Button
from handlers.rendering import person_label, report_number, role_label
from storage.models import Park, PendingInput, Person, Report, ReportEvent, ReportRecipient
from storage.queries import ADMIN, has_role, is_recipient, people_with_roles, recipients_of, role_names

READY_FEEDBACK = ("1", "2", "3")
READY_CLOSE = ("1", "2")
MAX_MESSAGE = 2000
OFFICIAL_ACTIONS = {"claim", "fb", "fbt", "ask", "close", "clt"} | {f"fb{n}" for n in READY_FEEDBACK} | {
    f"cl{n}" for n in READY_CLOSE}
REPORTER_ACTIONS = {"ok", "no", "wd", "wdy"}


# ---- access ---------------------------------------------------------------------------------

def official_report(ctx: Context, report_id: int) -> tuple[Report, Park] | None:
    """The report if this person is one of its officials; otherwise tell them and return None."""
    report = ctx.session.get(Report, report_id)
    if (report is None or not is_recipient(ctx.session, report.id, ctx.person.id)
            or not has_role(ctx.session, ctx.person.id, report.park_id, report.roles)):
        _refuse(ctx, "report.not_found")
        return None
    return report, ctx.session.get(Park, report.park_id)


def reporter_report(ctx: Context, report_id: int) -> tuple[Report, Park] | None:
    report = ctx.session.get(Report, report_id)
    if report is None or report.reporter_person_id != ctx.person.id:
        _refuse(ctx, "report.not_found")
        return None
    return report, ctx.session.get(Park, report.park_id)


def _refuse(ctx: Context, key: str, **values) -> None:
    if ctx.incoming.press:
        ctx.toast = ctx.t(key, **values)
    else:
        ctx.reply(ctx.t(key, **values))


def require_open(ctx: Context, report: Report, park: Park) -> bool:
    if report.status == "open":
        return True
    _refuse(ctx, f"report.already_{report.status}", number=report_number(park, report))
    return False


def official_role_label(ctx: Context, official: Person, report: Report, language: str) -> str:
    roles = [role for role in role_names(ctx.session, official.id, report.park_id) if role in report.roles]
    return role_label(ctx.services.texts, language, roles[0] if roles else "official")


# ---- button presses ---------------------------------------------------------------------------

def on_press(ctx: Context, kind: str, ident: int, action: str) -> None:
    if kind == "q" and action == "ans":
        return _start_answer(ctx, ident)
    if action in REPORTER_ACTIONS:
        found = reporter_report(ctx, ident)
        if found:
            _reporter_action(ctx, *found, action)
        return None
    if action not in OFFICIAL_ACTIONS:
        return _refuse(ctx, "input.stale_button")
    found = official_report(ctx, ident)
    if found is None:
        return None
    report, park = found
    if not require_open(ctx, report, park):
        return None
    number = report_number(park, report)
    if action == "claim":
        claim(ctx, report, park)
    elif action == "fb":
        _ready_made_menu(ctx, report, number, "feedback", "fb", READY_FEEDBACK)
    elif action.startswith("fb") and action[2:] in READY_FEEDBACK:
        give_feedback(ctx, report, park, ready=action[2:])
    elif action == "close":
        _ready_made_menu(ctx, report, number, "close", "cl", READY_CLOSE)
    elif action.startswith("cl") and action[2:] in READY_CLOSE:
        close(ctx, report, park, ready=action[2:])
    else:
        kind = {"fbt": "feedback", "ask": "question", "clt": "close"}[action]
        wait_for_text(ctx, kind, report)
        ctx.reply(ctx.t(f"pending.ask_{kind}", number=number, max=MAX_MESSAGE))
    return None


def _ready_made_menu(ctx: Context, report: Report, number: str, kind: str, action: str,
                     ready: tuple[str, ...]) -> None:
    """Ready-made answers as one tap each, plus "write my own"."""
    buttons = [[Button(ctx.t(f"{kind}.ready.{n}"), data=ReportAction(report.id, f"{action}{n}"))] for n in ready]
    buttons.append([Button(ctx.t(f"{kind}.own_text"), data=ReportAction(report.id, f"{action}t"))])
    ctx.reply(ctx.t(f"{kind}.choose", number=number), buttons)


def wait_for_text(ctx: Context, kind: str, report: Report, question_id: int | None = None) -> None:
    pending = ctx.session.exec(select(PendingInput).where(PendingInput.person_id == ctx.person.id)).first()
    if pending is None:
        pending = PendingInput(person_id=ctx.person.id, kind=kind, report_id=report.id, created_at=ctx.now)
    pending.kind, pending.report_id, pending.question_id, pending.created_at = kind, report.id, question_id, ctx.now
    ctx.session.add(pending)


def pending_of(ctx: Context) -> PendingInput | None:
    return ctx.session.exec(select(PendingInput).where(PendingInput.person_id == ctx.person.id)).first()


def on_pending_text(ctx: Context, pending: PendingInput) -> None:
    """The free text the bot was waiting for (unless the wait is so old it may be meant otherwise)."""
    if pending.created_at + ctx.services.settings.draft_idle_timeout <= ctx.now:
        ctx.session.delete(pending)
        report = ctx.session.get(Report, pending.report_id)
        number = report_number(ctx.session.get(Park, report.park_id), report)
        return ctx.reply(ctx.t("pending.expired", number=number))
    text = (ctx.incoming.text or "").strip()
    if ctx.incoming.text is None or ctx.incoming.unsupported:
        return ctx.reply(ctx.t("input.text_expected"))
    if not text:
        return ctx.reply(ctx.t("input.empty"))
    if len(text) > MAX_MESSAGE:
        return ctx.reply(ctx.t("input.too_long", max=MAX_MESSAGE, length=len(text)))
    if pending.kind == "answer":
        found = reporter_report(ctx, pending.report_id)
    else:
        found = official_report(ctx, pending.report_id)
    ctx.session.delete(pending)
    if found is None:
        return None
    report, park = found
    if not require_open(ctx, report, park):
        return None
    if pending.kind == "feedback":
        give_feedback(ctx, report, park, text=text)
    elif pending.kind == "close":
        close(ctx, report, park, text=text)
    elif pending.kind == "question":
        ask_reporter(ctx, report, park, text)
    elif pending.kind == "answer":
        answer_question(ctx, report, park, pending.question_id, text)
    return None


# ---- the actions --------------------------------------------------------------------------------

def claim(ctx: Context, report: Report, park: Park) -> None:
    number = report_number(park, report)
    if report.lead_person_id == ctx.person.id:
        return _refuse(ctx, "claim.already_yours", number=number)
    if report.lead_person_id is not None:
        lead = ctx.session.get(Person, report.lead_person_id)
        return _refuse(ctx, "claim.taken", number=number, name=lead.display_name)
    report.lead_person_id = ctx.person.id
    ctx.session.add(report)
    _event(ctx, report, "claim")
    ctx.reply(ctx.t("claim.done", number=number))
    for other in recipients_of(ctx.session, report.id):
        if other.id != ctx.person.id:
            role = official_role_label(ctx, ctx.person, report, ctx.services.texts.language_for(other.language))
            ctx.send_to(other, ctx.t_for(other, "claim.told_others", number=number, name=ctx.person.display_name,
                                         role=role), purpose="notice", report_id=report.id)
    return None


def give_feedback(ctx: Context, report: Report, park: Park, *, ready: str | None = None, text: str | None = None) -> None:
    number = _relay_to_reporter(ctx, report, park, "feedback", ready, text)
    ctx.reply(ctx.t("feedback.sent", number=number))


def close(ctx: Context, report: Report, park: Park, *, ready: str | None = None, text: str | None = None) -> None:
    """Close with a closing message; the reporter always receives it (no silent close)."""
    report.status = "closed"
    report.closed_at = ctx.now
    number = _relay_to_reporter(ctx, report, park, "close", ready, text)
    ctx.reply(ctx.t("close.done", number=number))
    for other in recipients_of(ctx.session, report.id):
        if other.id != ctx.person.id:
            ctx.send_to(other, ctx.t_for(other, "close.told_others", number=number, name=ctx.person.display_name),
                        purpose="notice", report_id=report.id)


def ask_reporter(ctx: Context, report: Report, park: Park, text: str) -> None:
    reporter = ctx.session.get(Person, report.reporter_person_id) if report.reporter_person_id else None
    if reporter is None or reporter.forgotten_at is not None:  # erased their data (/vergeet)
        return ctx.reply(ctx.t("forget.reporter_unreachable", number=report_number(park, report)))
    if not rate_limits.may_ask(ctx):
        return None
    event = _event(ctx, report, "question", text)
    role = official_role_label(ctx, ctx.person, report, ctx.services.texts.language_for(reporter.language))
    number = report_number(park, report)
    ctx.send_to(reporter, ctx.t_for(reporter, "question.to_reporter", number=number, role=role, text=text),
                [[Button(ctx.t_for(reporter, "question.answer_button"), data=AnswerQuestion(event.id))]],
                purpose="question", report_id=report.id)
    ctx.reply(ctx.t("question.sent", number=number))


def _start_answer(ctx: Context, question_id: int) -> None:
    question = ctx.session.get(ReportEvent, question_id)
    if question is None or question.kind != "question":
        return _refuse(ctx, "report.not_found")
    found = reporter_report(ctx, question.report_id)
    if found is None:
        return None
    report, park = found
    if not require_open(ctx, report, park):
        return None
    wait_for_text(ctx, "answer", report, question_id=question.id)
    ctx.reply(ctx.t("pending.ask_answer", number=report_number(park, report), max=MAX_MESSAGE))
    return None


def answer_question(ctx: Context, report: Report, park: Park, question_id: int | None, text: str) -> None:
    question = ctx.session.get(ReportEvent, question_id) if question_id else None
    _event(ctx, report, "answer", text)
    number = report_number(park, report)
    asker = ctx.session.get(Person, question.person_id) if question and question.person_id else None
    if asker is not None:
        who = ctx.t_for(asker, "contact.anonymous") if report.anonymous else escape(person_label(ctx.person))
        ctx.send_to(asker, ctx.t_for(asker, "answer.to_official", number=number, who=who, text=text),
                    [[Button(ctx.t_for(asker, "action.feedback"), data=ReportAction(report.id, "fb")),
                      Button(ctx.t_for(asker, "action.ask"), data=ReportAction(report.id, "ask"))]],
                    purpose="answer", report_id=report.id)
    ctx.reply(ctx.t("answer.sent", number=number))


def _reporter_action(ctx: Context, report: Report, park: Park, action: str) -> None:
    number = report_number(park, report)
    if action in ("ok", "no"):
        if report.first_feedback_at is None:
            return _refuse(ctx, "input.stale_button")
        report.rating = "answered" if action == "ok" else "not_enough"
        ctx.session.add(report)
        _event(ctx, report, "rating", report.rating)
        ctx.reply(ctx.t("rating.thanks_ok" if action == "ok" else "rating.thanks_not_enough", number=number))
        if action == "no":
            for official in _leads_or_recipients(ctx, report):
                ctx.send_to(official, ctx.t_for(official, "rating.not_enough_to_official", number=number),
                            [[Button(ctx.t_for(official, "action.feedback"), data=ReportAction(report.id, "fb"))]],
                            purpose="notice", report_id=report.id)
        return None
    if not require_open(ctx, report, park):
        return None
    if action == "wd":
        ctx.reply(ctx.t("withdraw.confirm", number=number),
                  [[Button(ctx.t("withdraw.yes"), data=ReportAction(report.id, "wdy"))]])
        return None
    report.status = "withdrawn"
    report.withdrawn_at = ctx.now
    report.next_reminder_at = None
    ctx.session.add(report)
    _event(ctx, report, "withdraw")
    ctx.reply(ctx.t("withdraw.done", number=number))
    for official in recipients_of(ctx.session, report.id):
        ctx.send_to(official, ctx.t_for(official, "withdraw.told_officials", number=number),
                    purpose="notice", report_id=report.id)
    return None


# ---- helpers ------------------------------------------------------------------------------------

def _leads_or_recipients(ctx: Context, report: Report) -> list[Person]:
    if report.lead_person_id:
        return [ctx.session.get(Person, report.lead_person_id)]
    return recipients_of(ctx.session, report.id)


def _relay_to_reporter(ctx: Context, report: Report, park: Park, kind: str, ready: str | None,
                       text: str | None) -> str:
    """Feedback or a closing message (ready-made ``ready`` or own ``text``) to the reporter, asking for a rating."""
    _event(ctx, report, kind, text if text is not None else f"ready:{ready}")
    _mark_feedback(ctx, report)
    reporter = ctx.session.get(Person, report.reporter_person_id)
    if reporter.forgotten_at is not None:  # erased their data (/vergeet): the official is told instead
        ctx.reply(ctx.t("forget.reporter_unreachable", number=report_number(park, report)))
    body = _message_for(ctx, reporter, kind, ready, text)
    role = official_role_label(ctx, ctx.person, report, ctx.services.texts.language_for(reporter.language))
    number = report_number(park, report)
    ctx.send_to(reporter, ctx.t_for(reporter, f"{kind}.to_reporter", number=number, role=role, text=body),
                _rating_buttons(ctx, reporter, report), purpose="feedback", report_id=report.id)
    return number


def _mark_feedback(ctx: Context, report: Report) -> None:
    """Feedback reached the reporter's outbox: reminders stop."""
    if report.first_feedback_at is None:
        report.first_feedback_at = ctx.now
    report.next_reminder_at = None
    ctx.session.add(report)


def _message_for(ctx: Context, reporter: Person, kind: str, ready: str | None, text: str | None) -> str:
    return text if text is not None else ctx.t_for(reporter, f"{kind}.ready.{ready}")


def _rating_buttons(ctx: Context, reporter: Person, report: Report) -> list[list[Button]]:
    return [[Button(ctx.t_for(reporter, "rating.ok"), data=ReportAction(report.id, "ok")),
             Button(ctx.t_for(reporter, "rating.not_enough"), data=ReportAction(report.id, "no"))]]


def _event(ctx: Context, report: Report, kind: str, text: str | None = None) -> ReportEvent:
    event = ReportEvent(report_id=report.id, person_id=ctx.person.id, kind=kind, text=text, created_at=ctx.now)
    ctx.session.add(event)
    ctx.session.flush()
    return event


def admins_of(ctx: Context, park_id: int) -> list[Person]:
    return people_with_roles(ctx.session, park_id, [ADMIN])


def open_reports_for(ctx: Context) -> list[tuple[Report, Park]]:
    """Open reports delivered to this official, in parks where they still hold a routed role."""
    rows = ctx.session.exec(
        select(Report, Park).join(ReportRecipient, col(ReportRecipient.report_id) == col(Report.id))
        .join(Park, col(Park.id) == col(Report.park_id))
        .where(ReportRecipient.person_id == ctx.person.id, Report.status == "open")
        .order_by(col(Report.created_at))
    )
    return [(r, p) for r, p in rows if has_role(ctx.session, ctx.person.id, r.park_id, r.roles)]
