"""Answering a request: the member's private, guided reply to the requesting official.

    TEXT (photos, files welcome) ─▶ PHOTOS (and files) ─▶ CONTACT ─▶ PREVIEW ─▶ sent to the requesting official

It starts from the group's "I can help" link (``/start h_<park>_<id>``) or ``/helpen SP-O3``;
only members of the park's group (or people with a role in the park) may answer.

Files and videos (camera footage) are kept as the platform's references, as photos are, and go
to the official by reference on the same platform. Across platforms the bot has to fetch and
upload them, so a file larger than the way across allows is refused at once, with the limit
said, and the reply goes on without it: a Telegram bot may fetch 20 MB (``getFile``), and
upload 50 MB to Telegram. Files pass as they are (name, contents, whatever metadata is in them);
only images are cleaned of metadata when they cross platforms (``bot.photo_cleaning``).
"""

from dataclasses import replace

from handlers import park_drafts
from handlers.context import Context
from handlers.i18n import escape
from handlers.messages import Button, SharedFile
from handlers.numbers import as_id
from handlers.buttons import RequestTool
from handlers.park_requests import CONTACT, HELP, PHOTOS, PREVIEW, TEXT, by_label, label, park_of_payload
from handlers.park_updates import signature
from handlers.rendering import person_label
from storage.models import Park, ParkLevelDraft, ParkRequest, Person, RequestReply
from storage.queries import ADMIN, group_by_chat, has_role, park_by_slug

#: Files and videos one reply may carry.
MAX_FILES = 5
#: What a Telegram bot may fetch (``getFile``) and upload: the way across platforms.
TELEGRAM_FETCH_LIMIT = 20 * 1024 * 1024
TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024


def start_help(ctx: Context, request: ParkRequest | None) -> None:
    """A member wants to help with a request: the guided private reply starts."""
    if request is None:
        return ctx.reply(ctx.t("request.unknown"))
    park = ctx.session.get(Park, request.park_id)
    member = request.park_id in ctx.member_of_parks or has_role(
        ctx.session, ctx.person.id, park.id, [ADMIN, *ctx.services.settings.official_roles])
    if not member:
        return ctx.reply(ctx.t("request.help_not_member", park=park.name))
    if request.status != "open":
        return ctx.reply(ctx.t("request.already_closed", label=label(park, request)))
    draft = park_drafts.begin(ctx, HELP, TEXT, {"request": request.id, "text": None, "photos": [],
                                                "files": [], "anonymous": True})
    author = ctx.session.get(Person, request.author_person_id)
    ctx.reply(ctx.t("help.intro", label=label(park, request), park=park.name, text=request.text,
                    signature=signature(ctx, ctx.language, request.author_role, author, False)))
    return ask(ctx, draft)


def help_command(ctx: Context, args: str) -> None:
    """``/helpen SP-O3``: the same as the group's button (where there is no link, as on Matrix)."""
    return start_help(ctx, by_label(ctx, args))


def help_from_group(ctx: Context, args: str) -> None:
    """``/helpen SP-O3`` written in the park's group: it continues privately; the group sees nothing of it."""
    group = group_by_chat(ctx.session, ctx.chat.platform, ctx.chat.chat_id)
    if group is None:
        return None
    private = replace(ctx.in_private(), member_of_parks=ctx.member_of_parks | {group.park_id})
    help_command(private, args)
    ctx.toast = private.toast
    return None


def start_help_from_payload(ctx: Context, payload: str) -> None:
    request_id = as_id(payload.rsplit("_", 1)[-1])
    request = ctx.session.get(ParkRequest, request_id) if request_id is not None else None
    park = park_by_slug(ctx.session, park_of_payload(payload) or "")
    if request is not None and (park is None or request.park_id != park.id):
        request = None
    return start_help(ctx, request)


def ask(ctx: Context, draft: ParkLevelDraft) -> None:
    b = lambda key, value: park_drafts.button(ctx, draft, key, value)  # noqa: E731
    if draft.step == TEXT:
        return ctx.reply(ctx.t("help.ask_text", max=park_drafts.MAX_TEXT))
    if draft.step == PHOTOS:
        return ctx.reply(ctx.t("help.ask_photos", max=ctx.services.settings.max_photos),
                         [[b("report.photos_done", "done")]])
    if draft.step == CONTACT:
        return ctx.reply(ctx.t("help.ask_contact"), [[b("contact.anonymous_button", "anon")],
                                                    [b("contact.named_button", "named")]])
    data = draft.data
    request = ctx.session.get(ParkRequest, data["request"])
    park = ctx.session.get(Park, request.park_id)
    who = ctx.t("contact.anonymous") if data["anonymous"] else ctx.t("contact.named")
    return ctx.reply(ctx.t("help.preview", label=label(park, request), text=data["text"], photos=len(data["photos"]),
                           files=len(data.get("files", [])), who=who),
                     [[b("help.send", "send")], [b("update.cancel", "cancel")]])


def on_message(ctx: Context, draft: ParkLevelDraft) -> None:
    data = dict(draft.data)
    if ctx.incoming.unsupported:  # a voice message, a sticker: said plainly, and the step asked again
        ctx.reply(ctx.t("help.cannot_forward"))
        return ask(ctx, draft)
    if ctx.incoming.file is not None and draft.step in (TEXT, PHOTOS):
        return _take_file(ctx, draft, ctx.incoming.file)
    if ctx.incoming.photo is not None and draft.step in (TEXT, PHOTOS):
        limit = ctx.services.settings.max_photos
        if len(data["photos"]) >= limit:
            return ctx.reply(ctx.t("report.photos_full", max=limit),
                             [[park_drafts.button(ctx, draft, "report.photos_done", "done")]])
        data["photos"] = [*data["photos"], ctx.incoming.photo]
        park_drafts.move(ctx, draft, draft.step, data)
        return ctx.reply(ctx.t("help.photo_added", count=len(data["photos"])),
                         [[park_drafts.button(ctx, draft, "report.photos_done", "done")]] if draft.step == PHOTOS
                         else None)
    park_drafts.take_text(ctx, draft, ask, PHOTOS)
    return None


def _take_file(ctx: Context, draft: ParkLevelDraft, shared: SharedFile) -> None:
    """A file or video joins the reply, unless there are enough or it cannot reach the official."""
    data = dict(draft.data)
    files = list(data.get("files", []))
    done = [[park_drafts.button(ctx, draft, "report.photos_done", "done")]] if draft.step == PHOTOS else None
    if len(files) >= MAX_FILES:
        return ctx.reply(ctx.t("help_files.full", max=MAX_FILES), done)
    limit = _crossing_limit(ctx, ctx.session.get(ParkRequest, data["request"]))
    if limit is not None and shared.size > limit:
        return ctx.reply(ctx.t("help_files.too_big", max=limit // (1024 * 1024)), done)
    data["files"] = [*files, shared.as_json()]
    park_drafts.move(ctx, draft, draft.step, data)
    return ctx.reply(ctx.t("help_files.added", count=len(data["files"])), done)


def _crossing_limit(ctx: Context, request: ParkRequest) -> int | None:
    """The largest file that can reach the request's official; None when it goes by reference (same platform)."""
    official = ctx.session.get(Person, request.author_person_id)
    if official.platform == ctx.person.platform:
        return None
    return TELEGRAM_FETCH_LIMIT if ctx.person.platform == "telegram" else TELEGRAM_UPLOAD_LIMIT


def on_press(ctx: Context, draft: ParkLevelDraft, value: str) -> None:
    data = dict(draft.data)
    if draft.step == PHOTOS and value == "done":
        park_drafts.move(ctx, draft, CONTACT, data)
        return ask(ctx, draft)
    if draft.step == CONTACT and value in ("anon", "named"):
        data["anonymous"] = value == "anon"
        park_drafts.move(ctx, draft, PREVIEW, data)
        return ask(ctx, draft)
    if draft.step == PREVIEW and value == "cancel":
        park_drafts.end(ctx, draft)
        return ctx.reply(ctx.t("help.cancelled"))
    if draft.step == PREVIEW and value == "send":
        return _send_help(ctx, draft)
    ctx.toast = ctx.t("input.stale_button")
    return None


def _send_help(ctx: Context, draft: ParkLevelDraft) -> None:
    data = dict(draft.data)
    park_drafts.end(ctx, draft)
    request = ctx.session.get(ParkRequest, data["request"])
    park = ctx.session.get(Park, request.park_id)
    if request.status != "open":
        return ctx.reply(ctx.t("request.already_closed", label=label(park, request)))
    reply = RequestReply(request_id=request.id, helper_person_id=ctx.person.id, anonymous=data["anonymous"],
                         text=data["text"], photos=list(data["photos"]), files=list(data.get("files", [])),
                         created_at=ctx.now)
    ctx.session.add(reply)
    ctx.session.flush()
    for official in _followers(ctx, request):
        _deliver_reply(ctx, official, park, request, reply)
    return ctx.reply(ctx.t("help.sent", label=label(park, request)))


def _followers(ctx: Context, request: ParkRequest) -> list[Person]:
    """Who follows a request up: its official while they hold a role in the park."""
    author = ctx.session.get(Person, request.author_person_id)
    return [author] if has_role(ctx.session, author.id, request.park_id, [request.author_role]) else []


def _deliver_reply(ctx: Context, official: Person, park: Park, request: ParkRequest, reply: RequestReply) -> None:
    helper = ctx.session.get(Person, reply.helper_person_id)
    who = ctx.t_for(official, "contact.anonymous") if reply.anonymous else escape(person_label(helper))
    number = label(park, request)
    ctx.send_to(official, ctx.t_for(official, "help.to_official", label=number, who=who, text=reply.text,
                                    photos=len(reply.photos), files=len(reply.files or [])),
                [[Button(ctx.t_for(official, "request.answer_button"), data=RequestTool("a", reply.id)),
                  Button(ctx.t_for(official, "request.close_button"), data=RequestTool("c", request.id))]],
                purpose="request_reply")
    for index, photo in enumerate(reply.photos, start=1):
        ctx.send_to(official, ctx.t_for(official, "help.photo_caption", label=number, index=index,
                                        total=len(reply.photos)), photo=photo, purpose="request_reply")
    files = reply.files or []
    for index, shared in enumerate(files, start=1):
        ctx.send_to(official, ctx.t_for(official, "help_files.caption", label=number, index=index, total=len(files)),
                    file=shared, purpose="request_reply")
