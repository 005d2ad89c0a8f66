"""Requests with follow-up (``/oproep``, ``/request``): an official asks the park for help.

The request is posted in the park's group(s) with an "I can help" button (a link into the
private chat on Telegram; ``!helpen SP-O3`` in a Matrix room's direct chat). Answering is a
private, guided reply (:mod:`handlers.park_request_help`). The official answers a helper (``h:a:<reply id>``) or closes the request (``h:c:<request
id>``); closing sends the closing message to everyone who helped. Until then the request is
reminded to its official on the park's reminder policy. The group never sees who helped.
"""

import re
from dataclasses import dataclass

from sqlmodel import col, func, select

from handlers import audit, park_choice, park_drafts
from handlers.context import Context
from handlers.buttons import RequestTool
from handlers.i18n import Markup
from handlers.messages import Button
from handlers.outbox import enqueue
from handlers.park_updates import author_parks, author_role, signature
from handlers.policy import next_reminder
from handlers.rendering import age
from storage.models import Park, ParkLevelDraft, ParkRequest, Person, RequestReply
from storage.queries import ADMIN, groups_of_park, has_role

POST, HELP, ANSWER, CLOSE = "request", "help", "answer", "close"
TEXT = park_drafts.TEXT
PREVIEW, PHOTOS, CONTACT = "preview", "photos", "contact"
HELP_PAYLOAD_PREFIX = "h_"
LABEL_PATTERN = re.compile(r"^\s*([A-Za-z]{1,8})-?[Oo](\d{1,6})\b\s*(.*)$", re.S)
READY_CLOSE = ("1", "2")
LIST_LIMIT = 20


@dataclass(frozen=True)
class _Routine:
    """A request follows the park's normal (not urgent) reminder schedule."""

    urgent: bool = False


def label(park: Park, request: ParkRequest) -> str:
    return f"{park.prefix}-O{request.number}"


def help_payload(park: Park, request: ParkRequest) -> str:
    return f"{HELP_PAYLOAD_PREFIX}{park.slug}_{request.id}"


def park_of_payload(payload: str) -> str | None:
    """The park slug of an ``h_<slug>_<id>`` payload (its membership is checked before handling)."""
    if not payload.startswith(HELP_PAYLOAD_PREFIX) or "_" not in payload[len(HELP_PAYLOAD_PREFIX):]:
        return None
    return payload[len(HELP_PAYLOAD_PREFIX):].rsplit("_", 1)[0].lower()


# ---- posting a request ------------------------------------------------------------------------

def command(ctx: Context, args: str) -> None:
    """``/oproep [text]``, ``/oproep sluit SP-O3 [text]``."""
    head, _, rest = args.strip().partition(" ")
    if head.lower() in ("sluit", "close") and (not rest.strip() or LABEL_PATTERN.match(rest)):
        return close_command(ctx, rest)
    parks = author_parks(ctx)
    if not parks:
        return ctx.reply(ctx.t("request.not_official"))
    text = args.strip()
    if len(text) > park_drafts.MAX_TEXT:
        return ctx.reply(ctx.t("input.too_long", max=park_drafts.MAX_TEXT, length=len(text)))
    park = park_choice.choose(ctx, parks, "oproep", args)
    if park is None:
        return None
    if not groups_of_park(ctx.session, park.id):
        return ctx.reply(ctx.t("request.no_group", park=park.name))
    draft = park_drafts.begin(ctx, POST, PREVIEW if text else TEXT, {"park": park.id, "text": text or None})
    return ask(ctx, draft)


def ask(ctx: Context, draft: ParkLevelDraft) -> None:
    data = draft.data
    if draft.kind == POST:
        if draft.step == TEXT:
            return ctx.reply(ctx.t("request.ask_text", max=park_drafts.MAX_TEXT))
        park = ctx.session.get(Park, data["park"])
        upcoming = label(park, ParkRequest(park_id=park.id, number=_highest_number(ctx, park) + 1, author_person_id=0,
                                           author_role="", text="", created_at=ctx.now))
        body = _group_text(ctx, ctx.language, park, upcoming, data["text"], author_role(ctx, park.id) or ADMIN,
                           ctx.person, platform_has_buttons=True)
        return ctx.reply(Markup(ctx.t("request.preview", park=park.name) + "\n\n" + body),
                         [[park_drafts.button(ctx, draft, "request.post", "send")],
                          [park_drafts.button(ctx, draft, "update.cancel", "cancel")]])
    if draft.kind == ANSWER:
        return ctx.reply(ctx.t("request.ask_answer", max=park_drafts.MAX_TEXT))
    return ctx.reply(ctx.t("request.ask_closing", max=park_drafts.MAX_TEXT))


def _group_text(ctx: Context, language: str, park: Park, number: str, text: str, role: str, author: Person,
                platform_has_buttons: bool, platform: str | None = None) -> Markup:
    texts = ctx.services.texts.on(platform)
    body = texts(language, "request.in_group", park=park.name, label=number, text=text,
                              signature=signature(ctx, language, role, author, False))
    if not platform_has_buttons:
        body = Markup(body + "\n\n" + texts(language, "request.help_command", label=number))
    return body


def _highest_number(ctx: Context, park: Park) -> int:
    return ctx.session.exec(select(func.max(ParkRequest.number)).where(ParkRequest.park_id == park.id)).one() or 0


def post(ctx: Context, draft: ParkLevelDraft) -> None:
    data = dict(draft.data)
    park_drafts.end(ctx, draft)
    park = ctx.session.get(Park, data["park"])
    role = author_role(ctx, park.id)
    if role is None:
        return ctx.reply(ctx.t("request.not_official"))
    ctx.session.exec(select(Park).where(Park.id == park.id).with_for_update()).one()  # serialises numbering
    request = ParkRequest(park_id=park.id, number=_highest_number(ctx, park) + 1, author_person_id=ctx.person.id,
                          author_role=role, text=data["text"], created_at=ctx.now)
    request.next_reminder_at = next_reminder(park, _Routine(), ctx.now, first=True)
    ctx.session.add(request)
    ctx.session.flush()
    number = label(park, request)
    language = ctx.services.texts.language_for(park.language)
    for group in groups_of_park(ctx.session, park.id):
        port = ctx.services.platforms.get(group.platform)
        link = port.private_chat_link(help_payload(park, request)) if port else None
        body = _group_text(ctx, language, park, number, request.text, role, ctx.person,
                           platform_has_buttons=link is not None, platform=group.platform)
        buttons = [[Button(ctx.services.texts(language, "request.help_button"), url=link)]] if link else None
        enqueue(ctx.session, now=ctx.now, platform=group.platform, chat_id=group.chat_id, text=body, buttons=buttons,
                purpose="request")
    audit.record(ctx, park, "request.posted", subject=number)
    return ctx.reply(ctx.t("request.posted", label=number))


def on_press(ctx: Context, draft: ParkLevelDraft, value: str) -> None:
    if draft.kind == POST and draft.step == PREVIEW:
        if value == "send":
            return post(ctx, draft)
        if value == "cancel":
            park_drafts.end(ctx, draft)
            return ctx.reply(ctx.t("request.cancelled"))
    ctx.toast = ctx.t("input.stale_button")
    return None


def on_message(ctx: Context, draft: ParkLevelDraft) -> None:
    text = park_drafts.take_text(ctx, draft, ask, PREVIEW if draft.kind == POST else None)
    if text is None or draft.kind == POST:
        return None
    park_drafts.end(ctx, draft)
    if draft.kind == ANSWER:
        reply = ctx.session.get(RequestReply, draft.data["reply"])
        if reply is None:  # the helper had their data erased meanwhile (/vergeet, issue 13)
            return ctx.reply(ctx.t("request.helper_erased"))
        found = _official_request(ctx, reply.request_id)
        if found is not None:
            answer_helper(ctx, *found, reply, text)
        return None
    found = _official_request(ctx, draft.data["request"])
    if found is not None:
        close(ctx, *found, text)
    return None


# ---- the official's tools ---------------------------------------------------------------------

def on_tool(ctx: Context, action: str, ident: int) -> None:
    if action == "a":
        reply = ctx.session.get(RequestReply, ident)
        if reply is None:  # erased by the helper's /vergeet, or after the retention (issue 13)
            return _refuse(ctx, "request.helper_erased")
        found = _official_request(ctx, reply.request_id if reply else -1)
        if found is None:
            return None
        park_drafts.begin(ctx, ANSWER, TEXT, {"reply": reply.id})
        return ctx.reply(ctx.t("request.ask_answer", max=park_drafts.MAX_TEXT))
    found = _official_request(ctx, ident)
    if found is None:
        return None
    request, park = found
    if request.status != "open":
        return _refuse(ctx, "request.already_closed", label=label(park, request))
    if action == "c":
        buttons = [[Button(ctx.t(f"request.ready_close.{n}"), data=RequestTool(f"c{n}", request.id))]
                   for n in READY_CLOSE]
        buttons.append([Button(ctx.t("close.own_text"), data=RequestTool("ct", request.id))])
        return ctx.reply(ctx.t("request.close_choose", label=label(park, request)), buttons)
    if action == "ct":
        park_drafts.begin(ctx, CLOSE, TEXT, {"request": request.id})
        return ctx.reply(ctx.t("request.ask_closing", max=park_drafts.MAX_TEXT))
    return close(ctx, request, park, None, ready=action[1:])


def by_label(ctx: Context, text: str) -> ParkRequest | None:
    match = LABEL_PATTERN.match(text or "")
    if not match:
        return None
    return ctx.session.exec(
        select(ParkRequest).join(Park, col(Park.id) == col(ParkRequest.park_id))
        .where(Park.prefix == match.group(1).upper(), ParkRequest.number == int(match.group(2)))).first()


def _official_request(ctx: Context, request_id: int) -> tuple[ParkRequest, Park] | None:
    """The request if this person follows it up (its author, still in the role); else they are told."""
    request = ctx.session.get(ParkRequest, request_id)
    if request is None or request.author_person_id != ctx.person.id or not has_role(
            ctx.session, ctx.person.id, request.park_id, [request.author_role]):
        _refuse(ctx, "request.not_yours")
        return None
    return request, ctx.session.get(Park, request.park_id)


def _refuse(ctx: Context, key: str, **values) -> None:
    if ctx.incoming.press:
        ctx.toast = ctx.t(key, **values)
    else:
        ctx.reply(ctx.t(key, **values))


def answer_helper(ctx: Context, request: ParkRequest, park: Park, reply: RequestReply, text: str) -> None:
    helper = ctx.session.get(Person, reply.helper_person_id)
    reply.answered_at = ctx.now
    ctx.session.add(reply)
    role = signature(ctx, ctx.services.texts.language_for(helper.language), request.author_role, ctx.person, False)
    ctx.send_to(helper, ctx.t_for(helper, "request.answer_to_helper", label=label(park, request), role=role,
                                  text=text), purpose="request_answer")
    ctx.reply(ctx.t("request.answer_sent", label=label(park, request)))


def close_command(ctx: Context, args: str) -> None:
    """``/oproep sluit SP-O3 text`` (without text: the ready-made choices)."""
    request = by_label(ctx, args)
    if request is None:
        return ctx.reply(ctx.t("request.close_usage"))
    text = LABEL_PATTERN.match(args).group(3).strip()
    if not text:
        return on_tool(ctx, "c", request.id)
    if len(text) > park_drafts.MAX_TEXT:
        return ctx.reply(ctx.t("input.too_long", max=park_drafts.MAX_TEXT, length=len(text)))
    found = _official_request(ctx, request.id)
    if found is None:
        return None
    if found[0].status != "open":
        return ctx.reply(ctx.t("request.already_closed", label=label(found[1], found[0])))
    return close(ctx, *found, text)


def close(ctx: Context, request: ParkRequest, park: Park, text: str | None, ready: str | None = None) -> None:
    """Close with a closing message to everyone who helped (never shown to the group)."""
    if request.status != "open":
        return ctx.reply(ctx.t("request.already_closed", label=label(park, request)))
    request.status, request.closed_at, request.next_reminder_at = "closed", ctx.now, None
    request.closing_text = text if text is not None else f"ready:{ready}"
    ctx.session.add(request)
    number = label(park, request)
    helpers = _helpers(ctx, request)
    for helper in helpers:
        language = ctx.services.texts.language_for(helper.language)
        body = text if text is not None else ctx.services.texts(language, f"request.ready_close.{ready}")
        ctx.send_to(helper, ctx.t_for(helper, "request.closed_to_helper", label=number,
                                      role=signature(ctx, language, request.author_role, ctx.person, False),
                                      text=body), purpose="request_closed")
    audit.record(ctx, park, "request.closed", subject=number, after={"helpers": len(helpers)})
    ctx.reply(ctx.t("request.closed", label=number, helpers=len(helpers)))
    return None


def _helpers(ctx: Context, request: ParkRequest) -> list[Person]:
    ids = dict.fromkeys(reply.helper_person_id for reply in ctx.session.exec(
        select(RequestReply).where(RequestReply.request_id == request.id).order_by(col(RequestReply.id))))
    return [ctx.session.get(Person, person_id) for person_id in ids]


def list_open(ctx: Context) -> None:
    """``/oproepen``: the official's open requests with how many answered and how old they are."""
    rows = ctx.session.exec(
        select(ParkRequest, Park).join(Park, col(Park.id) == col(ParkRequest.park_id))
        .where(ParkRequest.author_person_id == ctx.person.id, ParkRequest.status == "open")
        .order_by(col(ParkRequest.id)).limit(LIST_LIMIT)).all()
    if not rows:
        return ctx.reply(ctx.t("request.none_open"))
    lines = [ctx.t("request.list_header")]
    for request, park in rows:
        answers = ctx.session.exec(select(func.count(col(RequestReply.id))).where(
            RequestReply.request_id == request.id)).one()
        lines.append(ctx.t("request.list_line", label=label(park, request), park=park.name, answers=answers,
                           age=age(ctx.services.texts, ctx.language, request.created_at, ctx.now)))
    return ctx.reply(Markup("\n".join(lines)), [[Button(ctx.t("request.close_button") + f" {label(park, request)}",
                                                       data=RequestTool("c", request.id))]
                                               for request, park in rows])
