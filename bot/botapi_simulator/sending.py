"""Bot API methods that send, edit and delete messages."""

from .limits import (
    MAX_ALBUM_SIZE, bad_request, check_file_upload, check_photo_upload, formatted_text, validate_reply_markup,
)
from .methods import check_reachable, method, resolve_chat, writable_chat
from .params import Params
from .recorded import RecordedMessage
from .world import BOT_ID, FakeChat, plain

_MARKUP_ERROR = "can't parse reply keyboard markup JSON object"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
     "upload_document", "choose_sticker", "find_location", "record_video_note",
     "upload_video_note"}
)


def reply_target(tg, chat: FakeChat, params: Params) -> dict | None:
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


def send(tg, chat: FakeChat, params: Params, content: dict,
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


@method("sendVideo")
async def send_video(tg, params):
    chat = writable_chat(tg, params)
    content, html = text_content(params, caption=True)
    video = document_object(tg, params, params.values.get("video"), params.files.get("video"), "video")
    video.update({"width": 1280, "height": 720, "duration": 60})
    return send(tg, chat, params, {"video": video, **content}, html)


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
    group_id = tg.world.new_media_group_id() if len(items) > 1 else None
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
    if upload or params.upload(reference):
        check_photo_upload(content)
    if file_id is None:
        return tg.world.new_photo(content, wrap=False)
    stored = tg.world.files[file_id]
    return [{"file_id": file_id, "file_unique_id": stored.file_unique_id,
             "file_size": len(content), "width": 1280, "height": 960}]


def document_object(tg, params: Params, reference, upload, what: str = "document") -> dict:
    """A document or video: uploaded (at most 50 MB), or sent again by a file_id of the same type."""
    file_id, content = file_bytes(tg, params, reference, upload, what)
    if upload or params.upload(reference):
        check_file_upload(content)
    folder = f"{what}s"
    if file_id and tg.world.files[file_id].kind != folder:
        raise bad_request("type of file mismatch")
    stored = tg.world.files[file_id] if file_id else tg.world.new_file(content, folder, "bin")
    name = (upload or params.upload(reference) or (stored.file_name or f"{what}.bin",))[0]
    if not file_id:
        stored.file_name = name
    result = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
              "file_name": name, "file_size": len(stored.content)}
    if stored.mime_type:
        result["mime_type"] = stored.mime_type
    return result


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
    message["edit_date"] = tg.world.now()
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
    if not any(key in message for key in ("photo", "document", "video")):
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
