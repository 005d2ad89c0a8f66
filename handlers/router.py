"""The entry point: one incoming message → one database transaction → outbox rows."""

import asyncio
import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from handlers import (
    admin_buttons, admin_categories, commands, groups, help_texts, invites, language, listings, membership,
    park_choice, park_conversations, park_request_help, park_requests, park_scan, park_updates, report_actions,
    report_flow,
)
from handlers.buttons import (
    AnswerQuestion, DraftStep, LanguageChoice, OpenPage, ParkChoice, ParkDraftStep, ReportAction, ReportPark,
    RequestTool, ScanChoice, ShowSignals, UpdateReaction, unpack,
)
from handlers.context import Context, LaterFile
from handlers import my_data, rate_limits  # privacy and abuse limits (issue 13)
from handlers.delivery import submit
from handlers.messages import Button, Incoming, Outcome
from handlers.numbers import as_id
from handlers.outbox import enqueue_to
from handlers.park_language import adopt_park_language
from handlers.services import Services
from storage.inbox import mark_applied
from storage.models import ParkLevelDraft, Park, PendingInput, Person, Report, ReportDraft
from storage.queries import active_roles, group_by_chat, park_by_slug

NUMBER_PATTERN = re.compile(r"^\s*([A-Za-z]{1,8})-?([0-9]+)\b\s*(.*)$", re.S)


async def handle(services: Services, incoming: Incoming) -> Outcome:
    """Handle one incoming message; everything it changes and sends is committed together.

    The transaction runs in the database's thread pool, off the event loop. With an
    ``update_key`` the inbox records the update in the same transaction; a key already
    applied changes and sends nothing.
    """
    member_of = await _membership_needed(services, incoming)
    outcome, later_files = await services.db.run(lambda: _apply(services, incoming, member_of))
    await _send_later_files(services, later_files)
    return outcome


def _apply(services: Services, incoming: Incoming, member_of: set[int]) -> tuple[Outcome, list[LaterFile]]:
    with services.db.transaction() as session:
        now = services.clock.now()
        if incoming.update_key and not mark_applied(session, incoming.update_key, now):
            return Outcome(already_applied=True), []
        person, under_way = _upsert_person(session, incoming, now)
        adopt_park_language(session, person, member_of)
        ctx = Context(session=session, services=services, person=person, chat=incoming.chat,
                      incoming=incoming, now=now, member_of_parks=member_of)
        membership.remember_confirmed(ctx)
        if incoming.chat.is_private:
            _private(ctx, under_way)
        else:
            _group(ctx)
    return Outcome(toast=ctx.toast), ctx.later_files


async def _send_later_files(services: Services, later: list[LaterFile]) -> None:
    """Files made off the event loop after the answer (charts), each enqueued when ready."""
    for item in later:
        attachment = await asyncio.to_thread(item.render)
        if attachment is None:
            continue

        def enqueue_file(item=item, attachment=attachment) -> None:
            with services.db.transaction() as session:
                person = session.get(Person, item.person_id)
                enqueue_to(session, now=services.clock.now(), person=person, text=item.caption,
                           attachment=attachment)
        await services.db.run(enqueue_file)


# ---- who is writing ------------------------------------------------------------------------------

@dataclass(frozen=True)
class UnderWay:
    """What the person was in the middle of when the update came, read together with the person."""

    report_draft: ReportDraft | None = None
    park_draft: bool = False  # a park-level conversation (handlers.park_conversations)
    waiting_for_text: bool = False  # a question or feedback the bot asked them to type (PendingInput)


@cache
def _person_and_conversations():
    """The statement, built once (it runs for every update; building it cost more than running it)."""
    return (select(Person, ReportDraft,
                   select(ParkLevelDraft.id).where(ParkLevelDraft.person_id == Person.id).exists(),
                   select(PendingInput.id).where(PendingInput.person_id == Person.id).exists())
            .outerjoin(ReportDraft, col(ReportDraft.person_id) == col(Person.id))
            .where(Person.platform == bindparam("platform"), Person.external_id == bindparam("external_id")))


def _upsert_person(session: Session, incoming: Incoming, now) -> tuple[Person, UnderWay]:
    """The sender's row (written only when something changed) and their conversations under way:
    one statement for what used to be four lookups on every private message."""
    sender = incoming.sender
    found = session.exec(_person_and_conversations(),
                         params={"platform": sender.platform, "external_id": sender.external_id}).first()
    person, under_way = None, UnderWay()
    if found is not None:
        person, under_way = found[0], UnderWay(found[1], bool(found[2]), bool(found[3]))
    changes = {"display_name": sender.display_name[:255], "username": sender.username}
    if person is None:
        person = Person(platform=sender.platform, external_id=sender.external_id, created_at=now)
    if sender.language_code and not person.language_chosen:
        changes["language"] = sender.language_code[:8]
    if incoming.chat.is_private:
        changes["private_chat_id"] = incoming.chat.chat_id
    changed = {name: value for name, value in changes.items() if getattr(person, name) != value}
    if person.id is not None and not changed:
        return person, under_way  # the usual case: nothing to write
    for name, value in changed.items():
        setattr(person, name, value)
    session.add(person)
    session.flush()
    return person, under_way


async def _membership_needed(services: Services, incoming: Incoming) -> set[int]:
    """Parks whose linked group the sender is in, asked of the platform before any transaction:
    only the parks the person is known in, or the one a link or button names (handlers.membership)."""
    return await membership.confirmed_parks(services, incoming)


# ---- groups --------------------------------------------------------------------------------------

def _group(ctx: Context) -> None:
    incoming = ctx.incoming
    if incoming.migrated_to_chat_id:
        return groups.migrate(ctx, incoming.migrated_to_chat_id)
    _remember_member(ctx)
    command = commands.find(incoming.command)
    if command is not None and commands.run(ctx, command, incoming.args, in_group=True):
        return None
    if incoming.press:
        match unpack(incoming.press.data):
            case UpdateReaction(update_id, action):  # "useful" under a park update in the group
                return park_updates.on_button(ctx, update_id, action)
        ctx.toast = ctx.t("input.stale_button")
    return None  # ordinary group chatter is none of the bot's business


def _remember_member(ctx: Context) -> None:
    """Whoever speaks in a linked group is in it (``handlers.membership``)."""
    group = group_by_chat(ctx.session, ctx.chat.platform, ctx.chat.chat_id)
    if group is not None:
        membership.remember(ctx.session, ctx.person.id, group.park_id, ctx.now)


def group_help(ctx: Context, _args: str) -> None:
    group = group_by_chat(ctx.session, ctx.chat.platform, ctx.chat.chat_id)
    park = ctx.session.get(Park, group.park_id) if group else None
    ctx.reply(ctx.t("group.help"), groups.report_button(ctx, park) if park else None)


# ---- private chat --------------------------------------------------------------------------------

def _private(ctx: Context, under_way: UnderWay) -> None:
    incoming = ctx.incoming
    if incoming.edited:  # what was sent was handled; an edit changes nothing, so say how to correct it
        return ctx.reply(ctx.t("input.edit_ignored"))
    if incoming.press:
        return _press(ctx, incoming.press.data, under_way)
    if incoming.command:
        return _command(ctx, incoming.command, incoming.args)
    # an update, a request, a reply to one (park level)
    if under_way.park_draft and park_conversations.on_private_message(ctx):
        return None
    pending = report_actions.pending_of(ctx) if under_way.waiting_for_text else None
    if pending is not None:
        return report_actions.on_pending_text(ctx, pending)
    draft = under_way.report_draft
    if draft is not None:
        return report_flow.on_message(ctx, draft)
    if incoming.text and invites.looks_like_code(incoming.text):
        return invites.redeem(ctx, incoming.text.strip())
    return help_texts.not_understood(ctx)


def _press(ctx: Context, data: str, under_way: UnderWay) -> None:
    if my_data.is_forget_button(data):  # /vergeet's confirmation (its own small format, see handlers.my_data)
        return my_data.on_press(ctx, data)
    match unpack(data):
        case DraftStep(draft_id, step, value):
            draft = under_way.report_draft
            if draft is None or draft.id != draft_id or draft.step != step:
                ctx.toast = ctx.t("input.stale_button")
                return None
            if report_flow.on_press(ctx, draft, step, value) == "send":
                if draft.park_id not in ctx.member_of_parks:  # left the group while writing
                    ctx.session.delete(draft)
                    return ctx.reply(ctx.t("report.membership_ended", park=ctx.session.get(Park, draft.park_id).name))
                if rate_limits.may_report(ctx):
                    submit(ctx, draft)
            return None
        case ReportPark(park_id):
            return _start_report_in(ctx, park_id)
        case ParkChoice(pending_id, park_id):
            pending = park_choice.take_pending(ctx, pending_id, park_id)
            if pending is None:
                ctx.toast = ctx.t("input.stale_button")
                return None
            return _command(ctx, pending.command, pending.args)
        case LanguageChoice(chosen):
            return language.choose(ctx, chosen)
        case ShowSignals():
            return signals(ctx, "")
        case ReportAction(report_id, action):
            return report_actions.on_press(ctx, "r", report_id, action)
        case OpenPage(page):
            return listings.open_reports(ctx, page)
        case AnswerQuestion(question_id):
            return report_actions.on_press(ctx, "q", question_id, "ans")
        case ParkDraftStep(draft_id, step, value):
            return park_conversations.on_press(ctx, draft_id, step, value)
        case RequestTool(action, ident):
            return park_requests.on_tool(ctx, action, ident)
        case ScanChoice(scan_id, position, value):
            return park_scan.on_button(ctx, scan_id, position, value)
        case UpdateReaction(update_id, action):
            return park_updates.on_button(ctx, update_id, action)
        case pressed:
            if admin_buttons.on_press(ctx, pressed):
                return None
    ctx.toast = ctx.t("input.stale_button")
    return None


def _command(ctx: Context, name: str, args: str) -> None:
    command = commands.find(name)
    if command is None or not commands.run(ctx, command, args, in_group=False):
        help_texts.not_understood(ctx)


def signals(ctx: Context, args: str) -> None:
    """The "what to look for" cards of the person's park(s)."""
    draft = report_flow.draft_of(ctx.session, ctx.person.id)
    parks = ([ctx.session.get(Park, draft.park_id)] if draft else
             sorted(_parks_of(ctx), key=lambda park: park.id))
    park = park_choice.choose(ctx, parks, "signals", args)
    if park is None:
        if not parks:
            ctx.reply(ctx.t("signals.no_park"))
        return None
    ctx.reply(admin_categories.signal_cards(ctx, park))
    if draft is not None and draft.step == report_flow.CATEGORY:
        report_flow.ask(ctx, draft)
    return None


def _parks_of(ctx: Context) -> list[Park]:
    """Parks the person belongs to: by role, or as a member of a linked group (checked on /melden)."""
    ids = {role.park_id for role in active_roles(ctx.session, ctx.person.id)}
    ids |= {report.park_id for report in ctx.session.exec(
        select(Report).where(Report.reporter_person_id == ctx.person.id))}
    ids |= ctx.member_of_parks
    return [ctx.session.get(Park, park_id) for park_id in ids]


def start(ctx: Context, payload: str) -> None:
    payload = payload.strip()
    if payload.startswith(groups.REPORT_PAYLOAD_PREFIX):
        park = park_by_slug(ctx.session, payload[len(groups.REPORT_PAYLOAD_PREFIX):].lower())
        if park is None:
            return ctx.reply(ctx.t("report.unknown_park"))
        return _start_report_in(ctx, park.id)
    if park_requests.park_of_payload(payload) is not None:  # the "I can help" link under a request
        return park_request_help.start_help_from_payload(ctx, payload)
    if payload:
        return invites.redeem(ctx, payload)
    return ctx.reply(ctx.t("help.welcome"))


def report(ctx: Context) -> None:
    draft = report_flow.draft_of(ctx.session, ctx.person.id)
    if draft is not None:
        return report_flow.start(ctx, ctx.session.get(Park, draft.park_id))
    parks = [ctx.session.get(Park, park_id) for park_id in sorted(ctx.member_of_parks)]
    if not parks:
        return ctx.reply(ctx.t("report.not_member"))
    if len(parks) == 1:
        return report_flow.start(ctx, parks[0])
    ctx.reply(ctx.t("report.which_park"), [[Button(park.name, data=ReportPark(park.id))] for park in parks])
    return None


def _start_report_in(ctx: Context, park_id: int) -> None:
    park = ctx.session.get(Park, park_id)
    if park is None or park_id not in ctx.member_of_parks:
        return ctx.reply(ctx.t("report.not_member"))
    membership.remember(ctx.session, ctx.person.id, park.id, ctx.now)
    return report_flow.start(ctx, park)


def stop(ctx: Context) -> None:
    if park_conversations.on_stop(ctx):
        return None
    pending = report_actions.pending_of(ctx)
    if pending is not None:
        ctx.session.delete(pending)
        return ctx.reply(ctx.t("pending.cancelled"))
    if report_flow.cancel(ctx):
        return ctx.reply(ctx.t("report.cancelled"))
    return ctx.reply(ctx.t("stop.nothing"))


def official_command(ctx: Context, action: str, args: str) -> None:
    """``/feedback SP-0042 text`` and friends: the same actions as the buttons."""
    match = NUMBER_PATTERN.match(args or "")
    if not match:
        return ctx.reply(ctx.t("command.needs_number"))
    prefix, number, text = match.group(1).upper(), as_id(match.group(2)), match.group(3).strip()
    report = ctx.session.exec(
        select(Report).join(Park, col(Park.id) == col(Report.park_id))
        .where(Park.prefix == prefix, Report.number == number)).first()
    found = report_actions.official_report(ctx, report.id if report else -1)
    if found is None:
        return None
    report, park = found
    if action == "claim" or not text:
        return report_actions.on_press(ctx, "r", report.id, action)
    if len(text) > report_actions.MAX_MESSAGE:
        return ctx.reply(ctx.t("input.too_long", max=report_actions.MAX_MESSAGE, length=len(text)))
    if not report_actions.require_open(ctx, report, park):
        return None
    if action == "fbt":
        report_actions.give_feedback(ctx, report, park, text=text)
    elif action == "clt":
        report_actions.close(ctx, report, park, text=text)
    else:
        report_actions.ask_reporter(ctx, report, park, text)
    return None
