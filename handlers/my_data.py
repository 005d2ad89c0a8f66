"""See and erase my data: ``/mijngegevens`` (``/mydata``) and ``/vergeet`` (``/forget``).

``/mijngegevens`` shows everything held about the person: the account, roles, reports with
their status, texts and the conversation about them, the contact choice per report
(consent to be named), the language choice, a report being written and a text the bot is
waiting for, and issue 12's park-level data (memberships, help replies, "useful" marks,
updates and requests written). It is sent as text split over messages, then once more as a
JSON file with the same facts (``handlers.my_data_export``), through the outbox like
``/statistiek``'s CSV: a document on Telegram, an ``m.file`` on Matrix.

``/vergeet`` erases the person's personal data after a confirmation:

* open reports stay for the officials who still work on them, anonymised (the name is no
  longer shown, reminders stop) and the officials are told the reporter can no longer be
  reached; they are deleted like any report after the park's retention once closed;
* ended reports lose their content at once (as after the retention);
* roles end (open reports of an official go to the officials still routed); the last
  admin of a park must hand over first;
* drafts, waiting prompts, rate-limit records and messages to the person are deleted;
* help replies, "useful" marks, park memberships, park-level conversations and their place
  in an open scan (with the answers given there) are deleted (``handlers.park_level_privacy``);
* the account keeps only an empty row, so the audit trail and figures stay consistent. If
  the person writes again later, they are a new person.

An admin can do the same on request: ``/vergeet SP-0042`` (the reporter of that report) or
``/vergeet #12`` (a role from ``/instanties``), confirmed and recorded in the audit log.
"""

from dataclasses import dataclass

from sqlmodel import col, delete, select

from handlers import admin_officials, audit, my_data_export, park_choice, park_level_privacy
from handlers.context import Context
from handlers.i18n import Markup
from handlers.listings import status_key
from handlers.messages import Button
from handlers.outbox import enqueue
from handlers.rendering import category_name, local_time, report_number, role_label, when_line, where_line
from handlers.retention import purge_report, describe_retention
from storage.models import (
    Category, OutboxMessage, Park, PendingCommand, PendingInput, Person, RateEvent, Report, ReportAccess,
    ReportDraft, ReportEvent, Role,
)
from storage.queries import ADMIN, people_with_roles, recipients_of

COMMANDS = {"mijngegevens": "mydata", "mydata": "mydata", "vergeet": "forget", "forget": "forget"}
BUTTON_PREFIX = "fg:"
MESSAGE_LIMIT = 3500  # characters of HTML per message; Telegram allows 4,096 after parsing
CONVERSATION_KINDS = ("feedback", "question", "answer", "close", "rating", "withdraw")
ACT_KINDS = ("claim", "feedback", "question", "close")


def run(ctx: Context, command: str, args: str) -> bool:
    """Run ``/mijngegevens`` or ``/vergeet`` if that is the command; False otherwise."""
    name = COMMANDS.get(command)
    if name == "mydata":
        show(ctx)
    elif name == "forget":
        ask_to_forget(ctx, args.strip())
    return name is not None


# ---- /mijngegevens ------------------------------------------------------------------------------

def show(ctx: Context) -> None:
    sections = [_account(ctx), *_roles(ctx), *_reports(ctx), *_acts(ctx), *_park_level(ctx), *_waiting(ctx),
                ctx.t("mydata.footer")]
    for chunk in split_messages([section for section in sections if section]):
        ctx.reply(chunk)
    ctx.reply(ctx.t("mydata.file_caption"), attachment=my_data_export.export(ctx.session, ctx.person, ctx.now))


def _park_level(ctx: Context) -> list[Markup]:
    """Issue 12's data: memberships, help replies (with their texts), "useful" marks, what an official posted."""
    held = park_level_privacy.held_about(ctx.session, ctx.person)
    lines = []
    for member in held["park_memberships"]:
        lines.append(ctx.t("mydata.park_member", park=member["park"], since=member["since"][:10],
                           updates=ctx.t("yes") if member["private_updates"] else ctx.t("no")))
    for reply in held["help_replies"]:
        lines.append(ctx.t("mydata.help_reply", request=reply["request"], sent=reply["sent"][:10],
                           text=reply["text"], photos=len(reply["photos"])))
        if reply["files"]:
            lines.append(ctx.t("mydata.help_reply_files", count=len(reply["files"])))
    if held["useful_marks"]:
        lines.append(ctx.t("mydata.useful_marks", count=len(held["useful_marks"])))
    if held["updates_written"] or held["requests_written"]:
        lines.append(ctx.t("mydata.park_posts", updates=len(held["updates_written"]),
                           requests=len(held["requests_written"])))
    if held["park_conversation_in_progress"]:
        lines.append(ctx.t("mydata.park_draft"))
    return [Markup("\n".join([ctx.t("mydata.park_header"), *lines]))] if lines else []


def split_messages(sections: list[str], limit: int = MESSAGE_LIMIT) -> list[Markup]:
    """Join sections into messages of at most ``limit`` characters, splitting only between lines."""
    messages: list[str] = []
    current = ""
    for line in "\n\n".join(sections).split("\n"):
        while len(line) > limit:  # one line longer than a message: cut it (user text is escaped: cut at a space)
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            head, line = line[:cut], line[cut:]
            if current:
                messages.append(current)
            messages.append(_close_entity(head))
            current = ""
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            messages.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        messages.append(current)
    return [Markup(message) for message in messages if message.strip()]


def _close_entity(text: str) -> str:
    """Never end a cut in the middle of an HTML entity such as ``&amp;``."""
    amp = text.rfind("&")
    return text[:amp] if amp != -1 and ";" not in text[amp:] else text


def _account(ctx: Context) -> Markup:
    person = ctx.person
    language = ctx.t("mydata.language_chosen" if person.language_chosen else "mydata.language_from_app",
                     lang=ctx.language)
    return ctx.t("mydata.account", platform=person.platform, name=person.display_name or "—",
                 username=f"@{person.username}" if person.username else "—", choice=language,
                 since=person.created_at.strftime("%Y-%m-%d"))


def _roles(ctx: Context) -> list[Markup]:
    roles = ctx.session.exec(select(Role).where(Role.person_id == ctx.person.id).order_by(col(Role.id))).all()
    if not roles:
        return [ctx.t("mydata.no_roles")]
    lines = [ctx.t("mydata.roles_header")]
    for role in roles:
        park = ctx.session.get(Park, role.park_id)
        state = (ctx.t("mydata.role_revoked", when=local_time(park, role.revoked_at, ctx.language))
                 if role.revoked_at else ctx.t("mydata.role_away") if role.away_since else ctx.t("mydata.role_active"))
        lines.append(ctx.t("mydata.role_line", role=role_label(ctx.services.texts, ctx.language, role.role),
                           park=park.name, since=local_time(park, role.verified_at, ctx.language), state=state))
    return [Markup("\n".join(lines))]


def _reports(ctx: Context) -> list[Markup]:
    reports = ctx.session.exec(select(Report).where(Report.reporter_person_id == ctx.person.id)
                               .order_by(col(Report.id))).all()
    if not reports:
        return [ctx.t("mydata.no_reports")]
    sections = [ctx.t("mydata.reports_header", count=len(reports))]
    for report in reports:
        park = ctx.session.get(Park, report.park_id)
        sections.append(_report(ctx, park, report))
        ctx.session.add(ReportAccess(report_id=report.id, person_id=ctx.person.id, action="exported",
                                     created_at=ctx.now))
    return sections


def _acts(ctx: Context) -> list[Markup]:
    """What the person did on other people's reports, as an official: which report, what, when (no texts:
    those belong to the report and are deleted with it)."""
    rows = ctx.session.exec(
        select(ReportEvent, Report, Park).join(Report, col(Report.id) == col(ReportEvent.report_id))
        .join(Park, col(Park.id) == col(Report.park_id))
        .where(ReportEvent.person_id == ctx.person.id, col(ReportEvent.kind).in_(ACT_KINDS),
               Report.reporter_person_id != ctx.person.id)
        .order_by(col(ReportEvent.id))).all()
    if not rows:
        return []
    lines = [ctx.t("mydata.acts_header", count=len(rows))]
    for event, report, park in rows:
        lines.append(ctx.t("mydata.act_line", when=local_time(park, event.created_at, ctx.language),
                           number=report_number(park, report), kind=ctx.t(f"mydata.kind_{event.kind}")))
    return [Markup("\n".join(lines))]


def _report(ctx: Context, park: Park, report: Report) -> Markup:
    texts, language = ctx.services.texts, ctx.language
    category = ctx.session.get(Category, report.category_id)
    lines = [
        ctx.t("mydata.report_title", number=report_number(park, report), park=park.name,
              status=ctx.t(status_key(report)), sent=local_time(park, report.created_at, language)),
        ctx.t("field.category", value=category_name(category, language)),
        ctx.t("field.where", value=where_line(texts, language, report.where_text, report.latitude, report.longitude)),
        ctx.t("field.when", value=when_line(texts, language, report.when_kind, report.when_text)),
        ctx.t("field.what", value=report.what),
        ctx.t("field.photos", value=len(report.photos)),
        ctx.t("mydata.consent_named" if not report.anonymous else "mydata.consent_anonymous"),
        ctx.t("field.urgent", value=ctx.t("yes") if report.urgent else ctx.t("no")),
    ]
    events = ctx.session.exec(select(ReportEvent).where(
        ReportEvent.report_id == report.id, col(ReportEvent.kind).in_(CONVERSATION_KINDS))
        .order_by(col(ReportEvent.id))).all()
    for event in events:
        who = ctx.t("mydata.you") if event.person_id == ctx.person.id else _official_role(ctx, event, report)
        text = _event_text(ctx, event)
        lines.append(ctx.t("mydata.event_line", when=local_time(park, event.created_at, language), who=who,
                           kind=ctx.t(f"mydata.kind_{event.kind}"), text=text))
    return Markup("\n".join(lines))


def _official_role(ctx: Context, event: ReportEvent, report: Report) -> str:
    roles = ctx.session.exec(select(Role.role).where(Role.person_id == event.person_id,
                                                    Role.park_id == report.park_id)).all()
    routed = [role for role in roles if role in report.roles] or ["official"]
    return role_label(ctx.services.texts, ctx.language, routed[0])


def _event_text(ctx: Context, event: ReportEvent) -> str:
    text = event.text or ""
    if text.startswith("ready:") and event.kind in ("feedback", "close"):
        return ctx.t(f"{event.kind}.ready.{text[6:]}")
    if event.kind == "rating":
        return ctx.t("rating.ok" if text == "answered" else "rating.not_enough")
    return text


def _waiting(ctx: Context) -> list[Markup]:
    sections = []
    draft = ctx.session.exec(select(ReportDraft).where(ReportDraft.person_id == ctx.person.id)).first()
    if draft is not None:
        data = draft.data
        sections.append(ctx.t("mydata.draft", park=ctx.session.get(Park, draft.park_id).name,
                              where=data.get("where_text") or "—", when=data.get("when_text") or "—",
                              what=data.get("what") or "—", photos=len(data.get("photos", []))))
    pending = ctx.session.exec(select(PendingInput).where(PendingInput.person_id == ctx.person.id)).first()
    if pending is not None:
        report = ctx.session.get(Report, pending.report_id)
        sections.append(ctx.t("mydata.pending", number=report_number(ctx.session.get(Park, report.park_id), report)))
    return sections


# ---- /vergeet -----------------------------------------------------------------------------------

def ask_to_forget(ctx: Context, args: str) -> None:
    """Without arguments: erase me (after confirming). With ``SP-0042`` or ``#12``: an admin's request."""
    if not args:
        blocker = _last_admin_of(ctx, ctx.person)
        if blocker is not None:
            return ctx.reply(ctx.t("forget.last_admin", park=blocker.name))
        return ctx.reply(ctx.t("forget.confirm", retention=_retention_words(ctx)),
                         [[Button(ctx.t("forget.yes"), data=ForgetButton("me"))],
                          [Button(ctx.t("forget.no"), data=ForgetButton("no"))]])
    target = _admin_target(ctx, args)
    if target is None:
        return None
    person, park, subject = target
    blocker = _last_admin_of(ctx, person)
    if blocker is not None:
        return ctx.reply(ctx.t("forget.last_admin_other", park=blocker.name))
    data = ForgetButton(f"{park.id}:{person.id}")
    return ctx.reply(ctx.t("forget.confirm_admin", subject=subject, park=park.name),
                     [[Button(ctx.t("forget.yes_admin"), data=data)],
                      [Button(ctx.t("forget.no"), data=ForgetButton("no"))]])


@dataclass(frozen=True)
class ForgetButton:
    """``/vergeet``'s confirmation buttons: ``fg:me``, ``fg:no``, ``fg:<park id>:<person id>`` (an admin's)."""

    value: str

    def pack(self) -> str:
        return f"{BUTTON_PREFIX}{self.value}"


def is_forget_button(data: str) -> bool:
    return data.startswith(BUTTON_PREFIX)


def on_press(ctx: Context, data: str) -> None:
    value = data[len(BUTTON_PREFIX):]
    if value == "no":
        return ctx.reply(ctx.t("forget.kept"))
    if value == "me":
        if _last_admin_of(ctx, ctx.person) is not None:
            ctx.toast = ctx.t("input.stale_button")
            return None
        return forget(ctx, ctx.person, by_admin_of=None)
    park_id, _, person_id = value.partition(":")
    admin_of = {park.id: park for park in park_choice.admin_parks(ctx)}
    person = ctx.session.get(Person, int(person_id)) if person_id.isdigit() else None
    park = admin_of.get(int(park_id)) if park_id.isdigit() else None
    if (person is None or park is None or person.forgotten_at is not None
            or not _belongs_to(ctx, person, park) or _last_admin_of(ctx, person) is not None):
        ctx.toast = ctx.t("input.stale_button")
        return None
    return forget(ctx, person, by_admin_of=park)


def _admin_target(ctx: Context, args: str) -> tuple[Person, Park, str] | None:
    admin_parks = park_choice.admin_parks(ctx)
    if not admin_parks:
        ctx.reply(ctx.t("admin.not_admin"))
        return None
    if args.startswith("#"):
        named = admin_officials._named_role(ctx, args)  # answers by itself when it names nothing of theirs
        return (named[2], named[1], f"#{named[0].id} {named[2].display_name}") if named else None
    report = _report_by_number(ctx, args, admin_parks)
    if report is None or report.reporter_person_id is None:
        ctx.reply(ctx.t("forget.unknown_target", value=args))
        return None
    person = ctx.session.get(Person, report.reporter_person_id)
    if person.forgotten_at is not None:
        ctx.reply(ctx.t("forget.already", value=args))
        return None
    park = ctx.session.get(Park, report.park_id)
    return person, park, ctx.t("forget.reporter_of", number=report_number(park, report))


def _report_by_number(ctx: Context, text: str, parks: list[Park]) -> Report | None:
    prefix, _, number = text.strip().upper().partition("-")
    for park in parks:
        if park.prefix.upper() == prefix and number.isdigit():
            return ctx.session.exec(select(Report).where(Report.park_id == park.id,
                                                         Report.number == int(number))).first()
    return None


def _belongs_to(ctx: Context, person: Person, park: Park) -> bool:
    """The person reported in, or holds a role in, the park (so its admin may act for them)."""
    reported = ctx.session.exec(select(Report.id).where(Report.reporter_person_id == person.id,
                                                       Report.park_id == park.id)).first()
    role = ctx.session.exec(select(Role.id).where(Role.person_id == person.id, Role.park_id == park.id,
                                                 col(Role.revoked_at).is_(None))).first()
    return reported is not None or role is not None


def _last_admin_of(ctx: Context, person: Person) -> Park | None:
    """A park of which ``person`` is the only admin left: they cannot disappear without a successor."""
    roles = ctx.session.exec(select(Role).where(Role.person_id == person.id, Role.role == ADMIN,
                                                col(Role.revoked_at).is_(None))).all()
    for role in roles:
        if len(people_with_roles(ctx.session, role.park_id, [ADMIN])) <= 1:
            return ctx.session.get(Park, role.park_id)
    return None


def _retention_words(ctx: Context) -> str:
    parks = {report.park_id for report in ctx.session.exec(
        select(Report).where(Report.reporter_person_id == ctx.person.id))}
    longest = max((ctx.session.get(Park, park_id).retention_s for park_id in parks), default=365 * 86400)
    return describe_retention(ctx, longest)


def forget(ctx: Context, person: Person, by_admin_of: Park | None) -> None:
    """Erase the person's personal data now (see the module docstring for what remains and why)."""
    kept: list[str] = []
    for report in ctx.session.exec(select(Report).where(Report.reporter_person_id == person.id)).all():
        park = ctx.session.get(Park, report.park_id)
        if report.status == "open":
            _anonymise_open_report(ctx, park, report)
            kept.append(report_number(park, report))
        else:
            purge_report(ctx.session, report, ctx.now)
    for role in ctx.session.exec(select(Role).where(Role.person_id == person.id,
                                                    col(Role.revoked_at).is_(None))).all():
        role.revoked_at = ctx.now
        ctx.session.add(role)
        ctx.session.flush()
        if role.role != ADMIN:
            admin_officials._reroute_after_revoke(ctx, ctx.session.get(Park, role.park_id), person)
    for table in (ReportDraft, PendingInput, PendingCommand, RateEvent):
        ctx.session.exec(delete(table).where(col(table.person_id) == person.id))
    park_level_privacy.forget(ctx.session, person)
    ctx.session.exec(delete(OutboxMessage).where(col(OutboxMessage.recipient_person_id) == person.id))
    if by_admin_of is not None:
        audit.record(ctx, by_admin_of, "privacy.forget", f"#{person.id}")
        ctx.reply(ctx.t("forget.done_admin", count=len(kept)))
    _tell_what_remains(ctx, person, kept, by_admin=by_admin_of is not None)
    person.display_name, person.username, person.language, person.language_chosen = "", None, None, False
    person.external_id = f"forgotten-{person.id}"
    person.private_chat_id = None
    person.forgotten_at = ctx.now
    ctx.session.add(person)
    return None


def _anonymise_open_report(ctx: Context, park: Park, report: Report) -> None:
    report.anonymous = True
    report.next_reminder_at = None
    ctx.session.add(report)
    number = report_number(park, report)
    for official in recipients_of(ctx.session, report.id):
        ctx.send_to(official, ctx.t_for(official, "forget.told_official", number=number),
                    purpose="notice", report_id=report.id)


def _tell_what_remains(ctx: Context, person: Person, kept: list[str], by_admin: bool) -> None:
    key = "forget.done_kept" if kept else "forget.done"
    text = ctx.t_for(person, key, numbers=", ".join(kept))
    if by_admin:
        text = Markup(ctx.t_for(person, "forget.by_admin") + "\n\n" + text)
    if person.private_chat_id:
        # To the chat itself, not to the person: their platform id is erased before this is delivered
        # (on Matrix a message to a person is addressed by that id).
        enqueue(ctx.session, now=ctx.now, platform=person.platform, chat_id=person.private_chat_id, text=text)


def unreachable(person: Person | None) -> bool:
    """The reporter erased their data (or the report was purged): nothing can reach them."""
    return person is None or person.forgotten_at is not None
