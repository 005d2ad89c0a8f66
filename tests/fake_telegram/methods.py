"""The Bot API methods the fake implements: one function per method, registered by name."""

import asyncio
import itertools
import json
import time
from typing import TYPE_CHECKING, NamedTuple

from .limits import (
    MAX_ALBUM_SIZE, MAX_CALLBACK_ANSWER_LENGTH, ApiError, bad_request, forbidden,
    formatted_text, validate_commands, validate_language_code, validate_reply_markup,
    validate_scope,
)
from .params import Params
from .recorded import RecordedMessage
from .world import BOT_ID, FakeChat, plain

if TYPE_CHECKING:
    from .server import FakeTelegram

METHODS = {}
_MARKUP_ERROR = "can't parse reply keyboard markup JSON object"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
     "upload_document", "choose_sticker", "find_location", "record_video_note",
     "upload_video_note"}
)
_media_group_ids = itertools.count(13_780_000_000_000_001)


class AnsweredCallback(NamedTuple):
    id: str
    text: str | None
    show_alert: bool


def method(name: str):
    def register(function):
        METHODS[name.lower()] = function
        return function
    return register


# --- chats ---------------------------------------------------------------------------------
def resolve_chat(tg: "FakeTelegram", raw, *, missing: str = "chat_id is empty") -> FakeChat:
    """The chat a chat_id names; 400 for unknown ids and for migrated groups."""
    if raw is None or raw == "":
        raise bad_request(missing)
    chat = None
    if isinstance(raw, str) and raw.startswith("@"):
        chat = next((c for c in tg.world.chats.values()
                     if c.username and c.username.lower() == raw[1:].lower()), None)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        chat = tg.world.chats.get(raw)
    if chat is None:
        raise bad_request("chat not found")
    if chat.migrated_to is not None:
        raise bad_request("group chat was upgraded to a supergroup chat",
                          {"migrate_to_chat_id": chat.migrated_to.id})
    return chat


def check_reachable(chat: FakeChat) -> None:
    """403s for chats the bot cannot act in: not started, blocked, removed from the group."""
    if chat.is_private:
        if chat.user.blocked:
            raise forbidden("bot was blocked by the user")
        if not chat.user.started:
            raise forbidden("bot can't initiate conversation with a user")
        return
    kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
    if chat.bot_status == "kicked":
        raise forbidden(f"bot was kicked from the {kind}")
    if chat.bot_status == "left":
        raise forbidden(f"bot is not a member of the {kind}")


def writable_chat(tg: "FakeTelegram", params: Params) -> FakeChat:
    chat = resolve_chat(tg, params.values.get("chat_id"))
    check_reachable(chat)
    return chat


def reply_target(tg: "FakeTelegram", chat: FakeChat, params: Params) -> dict | None:
    reply = params.structure("reply_parameters", "can't parse reply parameters JSON object")
    if reply is None and params.has("reply_to_message_id"):
        reply = {"message_id": params.integer("reply_to_message_id"),
                 "allow_sending_without_reply": params.flag("allow_sending_without_reply")}
    if reply is None:
        return None
    if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
        raise bad_request("can't parse reply parameters JSON object")
    target = tg.world.message(chat.id, reply["message_id"])
    if target is None:
        if reply.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return target


def split_markup(params: Params) -> tuple[dict | None, dict | None]:
    """(inline keyboard for the Message, other reply markup kept aside)."""
    markup = validate_reply_markup(params.structure("reply_markup", _MARKUP_ERROR))
    if markup is not None and "inline_keyboard" in markup:
        return markup, None
    return None, markup


def send(tg: "FakeTelegram", chat: FakeChat, params: Params, content: dict,
         html: str | None) -> dict:
    """Checks flood control and records one bot message; returns it as the API answers."""
    inline, other = split_markup(params)
    reply_to = reply_target(tg, chat, params)
    tg.flood_check(chat, 1)
    if inline is not None:
        content["reply_markup"] = inline
    recorded = tg.world.record_bot_message(chat, content, html, reply_to, other)
    tg.flood_record(chat, 1)
    return plain(recorded)


def text_content(params: Params, *, caption: bool) -> tuple[dict, str | None]:
    """{'text', 'entities'} or {'caption', 'caption_entities'} plus the raw HTML if any."""
    name, entities_name = ("caption", "caption_entities") if caption else ("text", "entities")
    raw = params.text(name)
    parse_mode = params.text("parse_mode")
    entities = params.structure(entities_name, f"can't parse {entities_name} JSON object")
    text, found = formatted_text(raw, parse_mode, entities, caption=caption)
    content = {name: text} if text else {}
    if found:
        content[entities_name] = found
    html = raw if (parse_mode or "").lower() == "html" else None
    return content, html


# --- identity and updates -----------------------------------------------------------------
@method("getMe")
async def get_me(tg, params):
    return {**tg.world.bot, "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False,
            "has_main_web_app": False}


@method("deleteWebhook")
async def delete_webhook(tg, params):
    if params.flag("drop_pending_updates"):
        tg.world.discard_pending()
    return True


@method("getWebhookInfo")
async def get_webhook_info(tg, params):
    return {"url": "", "has_custom_certificate": False,
            "pending_update_count": tg.pending_updates()}


@method("getUpdates")
async def get_updates(tg, params):
    offset = params.integer("offset", 0)
    limit = min(max(params.integer("limit", 100), 1), 100)
    timeout = max(params.integer("timeout", 0), 0)
    allowed = params.structure("allowed_updates", "can't parse allowed_updates JSON object")
    if allowed is not None:
        tg.world.allowed_updates = tg.allowed_update_types(allowed)
    tg.world.confirm(offset)
    poll = object()
    tg.current_poll = poll
    tg.world.update_signal.fire()  # an older long poll ends with 409, like the real server
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if tg.current_poll is not poll and not tg.closing:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                "make sure that only one bot instance is running")
        updates = tg.world.deliverable(limit)
        if updates or tg.closing:
            return updates
        remaining = deadline - loop.time()
        if remaining <= 0:
            return []
        await tg.world.update_signal.wait(remaining)


# --- sending ----------------------------------------------------------------------------------
@method("sendMessage")
async def send_message(tg, params):
    chat = writable_chat(tg, params)
    content, html = text_content(params, caption=False)
    return send(tg, chat, params, content, html)


@method("sendPhoto")
async def send_photo(tg, params):
    chat = writable_chat(tg, params)
    content, html = text_content(params, caption=True)
    photo = photo_sizes(tg, params, params.values.get("photo"), params.files.get("photo"))
    return send(tg, chat, params, {"photo": photo, **content}, html)


@method("sendDocument")
async def send_document(tg, params):
    chat = writable_chat(tg, params)
    content, html = text_content(params, caption=True)
    document = document_object(tg, params, params.values.get("document"),
                               params.files.get("document"))
    return send(tg, chat, params, {"document": document, **content}, html)


@method("sendLocation")
async def send_location(tg, params):
    chat = writable_chat(tg, params)
    latitude, longitude = params.number("latitude"), params.number("longitude")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong location specified")
    return send(tg, chat, params, {"location": {"latitude": latitude, "longitude": longitude}},
                None)


@method("sendMediaGroup")
async def send_media_group(tg, params):
    chat = writable_chat(tg, params)
    media = params.structure("media", "can't parse media JSON object")
    if media is None:
        raise bad_request('parameter "media" is required')
    if not isinstance(media, list):
        raise bad_request("can't parse media JSON object")
    if not media:
        raise bad_request("there are no messages to send")
    if len(media) > MAX_ALBUM_SIZE:
        raise bad_request("too many messages to send as an album")
    kinds = {item.get("type") if isinstance(item, dict) else None for item in media}
    if not kinds <= {"photo", "document"}:
        raise bad_request("can't parse InputMedia: the fake implements photo and document albums")
    if len(kinds) > 1:
        raise bad_request("document can't be mixed with other media types")
    items = []
    for item in media:
        content, html = text_content(Params(item, params.files), caption=True)
        upload = params.upload(item.get("media"))
        if isinstance(item.get("media"), str) and item["media"].startswith("attach://") and not upload:
            raise bad_request("can't parse InputMedia: media not found")
        if item["type"] == "photo":
            content["photo"] = photo_sizes(tg, params, item.get("media"), upload)
        else:
            content["document"] = document_object(tg, params, item.get("media"), upload)
        items.append((content, html))
    reply_to = reply_target(tg, chat, params)
    tg.flood_check(chat, len(items))
    group_id = str(next(_media_group_ids)) if len(items) > 1 else None
    sent = []
    for content, html in items:
        if group_id:
            content["media_group_id"] = group_id
        sent.append(plain(tg.world.record_bot_message(chat, content, html, reply_to)))
    tg.flood_record(chat, len(items))
    return sent


@method("sendChatAction")
async def send_chat_action(tg, params):
    writable_chat(tg, params)
    if params.text("action") not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def file_bytes(tg, params: Params, reference, upload, what: str) -> tuple[str | None, bytes]:
    """(existing file_id or None, content) for an InputFile / file_id / URL parameter."""
    upload = upload or params.upload(reference)
    if upload is not None:
        if not upload[1]:
            raise bad_request("file must be non-empty")
        return None, upload[1]
    if not isinstance(reference, str) or not reference:
        raise bad_request(f"there is no {what} in the request")
    if reference in tg.world.files:
        return reference, tg.world.files[reference].content
    if reference.startswith(("http://", "https://")):
        return None, f"downloaded {reference}".encode()
    raise bad_request("wrong file identifier/HTTP URL specified")


def photo_sizes(tg, params: Params, reference, upload) -> list[dict]:
    file_id, content = file_bytes(tg, params, reference, upload, "photo")
    if file_id is None:
        return tg.world.new_photo(content, wrap=False)
    stored = tg.world.files[file_id]
    return [{"file_id": file_id, "file_unique_id": stored.file_unique_id,
             "file_size": len(content), "width": 1280, "height": 960}]


def document_object(tg, params: Params, reference, upload) -> dict:
    file_id, content = file_bytes(tg, params, reference, upload, "document")
    stored = tg.world.files[file_id] if file_id else tg.world.new_file(content, "documents", "bin")
    name = (upload or params.upload(reference) or ("document.bin",))[0]
    return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_name": name, "file_size": len(stored.content)}


# --- editing ------------------------------------------------------------------------------------
def editable_message(tg, params: Params) -> RecordedMessage:
    if params.has("inline_message_id"):
        raise bad_request("the fake does not implement inline messages")
    chat = writable_chat(tg, params)
    message_id = params.integer("message_id", missing="message identifier is not specified")
    message = tg.world.message(chat.id, message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if not isinstance(message, RecordedMessage):
        raise bad_request("message can't be edited")
    return message


def apply_edit(tg, message: RecordedMessage, changes: dict, html: str | None) -> dict:
    """Replaces the given keys (None removes one); 400 when nothing would change."""
    if all(message.get(key) == value for key, value in changes.items()):
        raise bad_request(_NOT_MODIFIED)
    message.edits.append(plain(message))
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    message["edit_date"] = int(time.time())
    if html is not None or "text" in changes or "caption" in changes:
        message.html = html
    tg.world.note_deep_links(message)
    tg.world.message_signal.fire()
    return plain(message)


def inline_markup_only(params: Params) -> dict | None:
    inline, other = split_markup(params)
    if other is not None:
        raise bad_request("inline keyboard expected")
    return inline


@method("editMessageText")
async def edit_message_text(tg, params):
    message = editable_message(tg, params)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    content, html = text_content(params, caption=False)
    changes = {"text": content["text"], "entities": content.get("entities"),
               "reply_markup": inline_markup_only(params)}
    return apply_edit(tg, message, changes, html)


@method("editMessageCaption")
async def edit_message_caption(tg, params):
    message = editable_message(tg, params)
    if not any(key in message for key in ("photo", "document")):
        raise bad_request("there is no caption in the message to edit")
    content, html = text_content(params, caption=True)
    changes = {"caption": content.get("caption"),
               "caption_entities": content.get("caption_entities"),
               "reply_markup": inline_markup_only(params)}
    return apply_edit(tg, message, changes, html)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(tg, params):
    message = editable_message(tg, params)
    return apply_edit(tg, message, {"reply_markup": inline_markup_only(params)}, message.html)


@method("deleteMessage")
async def delete_message(tg, params):
    chat = resolve_chat(tg, params.values.get("chat_id"))
    check_reachable(chat)
    message_id = params.integer("message_id", missing="message identifier is not specified")
    message = tg.world.message(chat.id, message_id)
    if message is None:
        raise bad_request("message to delete not found")
    own = message["from"]["id"] == BOT_ID
    if not (own or chat.is_private or chat.bot_status == "administrator"):
        raise bad_request("message can't be deleted")
    tg.world.delete_message(chat.id, message_id)
    tg.deleted.append((chat.id, message_id))
    return True


# --- callback queries -----------------------------------------------------------------------------
@method("answerCallbackQuery")
async def answer_callback_query(tg, params):
    query_id = params.text("callback_query_id")
    state = tg.world.callbacks.get(query_id or "")
    if state is None or state.answered:
        raise bad_request(_QUERY_TOO_OLD)
    text = params.text("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    state.answered = True
    tg.answered_callbacks.append(AnsweredCallback(query_id, text, params.flag("show_alert")))
    return True


# --- chat information ---------------------------------------------------------------------------------
@method("getChat")
async def get_chat(tg, params):
    chat = resolve_chat(tg, params.values.get("chat_id"))
    if not chat.is_private:
        check_reachable(chat)
    gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                           "premium_subscription", "gifts_from_channels"), False)
    return {**chat.to_api(), "accent_color_id": 0, "max_reaction_count": 11,
            "accepted_gift_types": gifts}


def member_object(status: str, user: dict) -> dict:
    data = {"status": status, "user": user}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(can_be_edited=False, is_anonymous=False, can_manage_chat=True,
                    can_delete_messages=True, can_manage_video_chats=True,
                    can_restrict_members=True, can_promote_members=False,
                    can_change_info=True, can_invite_users=True, can_post_stories=False,
                    can_edit_stories=False, can_delete_stories=False, can_pin_messages=True)
    elif status == "kicked":
        data["until_date"] = 0
    return data


@method("getChatMember")
async def get_chat_member(tg, params):
    chat = resolve_chat(tg, params.values.get("chat_id"))
    user_id = params.integer("user_id", missing="user_id is empty")
    if user_id == BOT_ID:
        status = "member" if chat.is_private else chat.bot_status
        return member_object(status, dict(tg.world.bot))
    if not chat.is_private:
        check_reachable(chat)
    user = tg.world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if chat.is_private:
        if chat.user is not user:
            raise bad_request("user not found")
        return member_object("member", user.to_api())
    return member_object(chat.members.get(user_id, "left"), user.to_api())


@method("getChatAdministrators")
async def get_chat_administrators(tg, params):
    chat = resolve_chat(tg, params.values.get("chat_id"))
    if chat.is_private:
        raise bad_request("there are no administrators in the private chat")
    check_reachable(chat)
    admins = [member_object(status, tg.world.users[user_id].to_api())
              for user_id, status in chat.members.items()
              if status in ("creator", "administrator")]
    if chat.bot_status == "administrator":
        admins.append(member_object("administrator", dict(tg.world.bot)))
    return admins


@method("getChatMemberCount")
async def get_chat_member_count(tg, params):
    chat = resolve_chat(tg, params.values.get("chat_id"))
    if chat.is_private:
        return 2
    check_reachable(chat)
    members = [s for s in chat.members.values() if s in ("creator", "administrator", "member")]
    return len(members) + 1


# --- commands -------------------------------------------------------------------------------------
def command_list_key(tg, params: Params) -> tuple[str, str]:
    scope = validate_scope(params.structure("scope", "can't parse BotCommandScope JSON object"))
    if "chat_id" in scope:
        chat = resolve_chat(tg, scope["chat_id"])
        if chat.is_private and scope["type"] != "chat":
            raise bad_request("can't use specified scope in private chats")
        scope["chat_id"] = chat.id
    language = validate_language_code(params.text("language_code", ""))
    return json.dumps(scope, sort_keys=True), language


@method("setMyCommands")
async def set_my_commands(tg, params):
    commands = validate_commands(params.structure("commands", "can't parse commands JSON object")
                                 or [])
    key = command_list_key(tg, params)
    if commands:
        tg.commands[key] = commands
    else:
        tg.commands.pop(key, None)
    return True


@method("deleteMyCommands")
async def delete_my_commands(tg, params):
    tg.commands.pop(command_list_key(tg, params), None)
    return True


@method("getMyCommands")
async def get_my_commands(tg, params):
    return list(tg.commands.get(command_list_key(tg, params), []))


# --- files ------------------------------------------------------------------------------------------
@method("getFile")
async def get_file(tg, params):
    stored = tg.world.files.get(params.text("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api()
