"""The fake Telegram's state: users, chats, messages, files and the update queue."""

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .entities import bot_command_entities
from .limits import TEXT_LINK, DeepLink, is_valid_payload, parse_bot_link
from .recorded import RecordedMessage, Signal

BOT_ID = 1000
FIRST_USER_ID = 1_000_001
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
SERVICE_KEYS = (
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
    "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
    "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message",
)
DEFAULT_UPDATE_TYPES = frozenset(
    {"message", "edited_message", "channel_post", "edited_channel_post", "callback_query",
     "inline_query", "chosen_inline_result", "my_chat_member", "chat_join_request",
     "poll", "poll_answer", "shipping_query", "pre_checkout_query"}
)
_MEMBER_STATUSES = ("creator", "administrator", "member")


def member_object(status: str, user: dict) -> dict:
    """A ChatMember of the given status, with the fields python-telegram-bot requires."""
    data = {"status": status, "user": dict(user)}
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


def as_message(message) -> dict:
    """Accepts a recorded message, a Message dict or a python-telegram-bot Message."""
    return message.to_dict() if hasattr(message, "to_dict") else message


def plain(value):
    """A JSON-only deep copy (drops RecordedMessage extras), as the wire would carry it."""
    return json.loads(json.dumps(value))


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def kind(self) -> str:
        """What the file was sent as: the folder of its path (photos, documents, videos, stickers)."""
        return self.file_path.partition("/")[0]

    def to_api(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                "file_size": len(self.content), "file_path": self.file_path}


@dataclass
class CallbackState:
    user_id: int
    answered: bool = False


@dataclass(eq=False)
class FakeChat:
    """A chat in the fake world; compare and look up by .id."""

    id: int
    type: str
    title: str | None = None
    user: "FakeUser | None" = None
    privacy_mode: bool = True
    username: str | None = None
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    migrated_to: "FakeChat | None" = None

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    def current(self) -> "FakeChat":
        """This chat, or the supergroup it was migrated to."""
        chat = self
        while chat.migrated_to is not None:
            chat = chat.migrated_to
        return chat

    def to_api(self) -> dict:
        if self.is_private:
            return {"type": "private", **{k: v for k, v in self.user.to_api().items()
                                         if k in ("id", "first_name", "last_name", "username")}}
        data = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            data["username"] = self.username
        return data

    def __repr__(self) -> str:
        return f"<FakeChat {self.type} {self.id} {self.title or self.user.first_name!r}>"


class FakeUser:
    """A Telegram user who acts on the bot; every action queues a realistic Update."""

    def __init__(self, world: "World", user_id: int, first_name: str, username: str | None,
                 language_code: str | None, last_name: str | None = None) -> None:
        self.world = world
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = False
        self.blocked = False
        self.private = FakeChat(id=user_id, type="private", user=self)

    def to_api(self) -> dict:
        data = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    def send(self, chat: FakeChat, text: str, *, reply_to: dict | None = None) -> dict:
        """Writes text in chat; '/commands' get their bot_command entities."""
        content = {"text": text}
        entities = bot_command_entities(text)
        if entities:
            content["entities"] = entities
        return self.world.user_message(self, chat, content, reply_to)

    def start(self, payload: str | None = None) -> dict:
        """Presses Start (unblocking the bot if needed): sends '/start' or '/start PAYLOAD'."""
        if self.blocked:
            self.blocked = False
            self.world.bot_membership_changed(self, "kicked", "member")
        self.started = True
        return self.send(self.private, "/start" if payload is None else f"/start {payload}")

    def open_link(self, url: str) -> dict:
        """Opens a t.me link to the bot as the Telegram app does; a bad payload is dropped."""
        is_bot_link, payload = parse_bot_link(url, self.world.bot["username"])
        assert is_bot_link, f"{url!r} is not a link to a private chat with @{self.world.bot['username']}"
        return self.start(payload if is_valid_payload(payload) else None)

    def send_photo(self, chat: FakeChat, caption: str | None = None, *,
                   reply_to: dict | None = None) -> dict:
        content = {"photo": self.world.new_photo(b"user photo from %d" % self.id)}
        if caption:
            content["caption"] = caption
        return self.world.user_message(self, chat, content, reply_to)

    def send_location(self, chat: FakeChat, latitude: float, longitude: float) -> dict:
        location = {"latitude": float(latitude), "longitude": float(longitude)}
        return self.world.user_message(self, chat, {"location": location})

    def send_sticker(self, chat: FakeChat) -> dict:
        stored = self.world.new_file(b"sticker", "stickers", "webp")
        sticker = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                   "type": "regular", "width": 512, "height": 512, "is_animated": False,
                   "is_video": False, "emoji": "\U0001f44d", "file_size": len(stored.content)}
        return self.world.user_message(self, chat, {"sticker": sticker})

    def send_document(self, chat: FakeChat, content: bytes = b"%PDF-1.4 fake", *, file_name: str = "document.pdf",
                      mime_type: str = "application/pdf", caption: str | None = None) -> dict:
        stored = self.world.new_file(content, "documents", file_name.rpartition(".")[2] or "bin")
        stored.file_name, stored.mime_type = file_name, mime_type
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_name": file_name,
                    "mime_type": mime_type, "file_size": len(content)}
        message = {"document": document}
        if caption:
            message["caption"] = caption
        return self.world.user_message(self, chat, message)

    def send_video(self, chat: FakeChat, content: bytes = b"\x00\x00\x00\x18ftypmp42 fake", *,
                   file_name: str = "camera.mp4", mime_type: str = "video/mp4", caption: str | None = None) -> dict:
        """A video as the apps send one (a user may send up to 2 GB; the bot then fetches at most 20 MB)."""
        stored = self.world.new_file(content, "videos", file_name.rpartition(".")[2] or "mp4")
        stored.file_name, stored.mime_type = file_name, mime_type
        video = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 1280, "height": 720,
                 "duration": 60, "file_name": file_name, "mime_type": mime_type, "file_size": len(content)}
        message = {"video": video}
        if caption:
            message["caption"] = caption
        return self.world.user_message(self, chat, message)

    def forward(self, chat: FakeChat, text: str, *, from_name: str = "Iemand Anders") -> dict:
        """Forwards somebody else's text message into chat (Bot API 7: ``forward_origin``)."""
        origin = {"type": "hidden_user", "sender_user_name": from_name, "date": self.world.now() - 3600}
        content = {"text": text, "forward_origin": origin, "forward_date": origin["date"],
                   "forward_sender_name": from_name}
        return self.world.user_message(self, chat, content)

    def edit(self, message: dict, text: str) -> dict:
        """Edits one of the user's own text messages: the bot gets an ``edited_message`` update."""
        stored = self.world.message(message["chat"]["id"], message["message_id"])
        assert stored is not None and stored["from"]["id"] == self.id and "text" in stored, "not an own text message"
        stored["text"] = text
        stored.pop("entities", None)
        entities = bot_command_entities(text)
        if entities:
            stored["entities"] = entities
        stored["edit_date"] = self.world.now()
        if self.world.bot_sees(self.world.chats[stored["chat"]["id"]], stored):
            self.world.enqueue("edited_message", stored)
        return plain(stored)

    def press(self, message: dict, data: str) -> dict:
        """Presses the inline button with this callback_data on a bot message."""
        return self.world.press(self, message, data, check=True)

    def press_raw(self, message: dict, data: str) -> dict:
        """Sends a callback query with any data (stale or forged) for a bot message."""
        return self.world.press(self, message, data, check=False)

    def block_bot(self) -> None:
        """From now on the bot's sends to this user answer 403 'bot was blocked by the user'."""
        if not self.blocked:
            self.blocked = True
            self.world.bot_membership_changed(self, "member", "kicked")

    def __repr__(self) -> str:
        return f"<FakeUser {self.id} {self.first_name!r}>"


class World:
    """All state of the fake: who exists, who is where, what was said, what the bot gets."""

    def __init__(self, bot_username: str, bot_first_name: str,
                 now: Callable[[], int] = lambda: int(time.time())) -> None:
        self.now = now
        self.bot = {"id": BOT_ID, "is_bot": True, "first_name": bot_first_name,
                    "username": bot_username}
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackState] = {}
        self.updates: list[dict] = []
        self.enqueued_total = 0
        self.discarded_total = 0
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.sent: list[RecordedMessage] = []
        self.deep_links: list[DeepLink] = []
        self.update_signal = Signal()
        self.message_signal = Signal()
        self._messages: dict[int, dict[int, dict]] = {}
        self._next_message_id: dict[int, int] = {}
        self._update_ids = itertools.count(815_000_001)
        self._user_ids = itertools.count(FIRST_USER_ID)
        self._group_ids = itertools.count(1)
        self._callback_ids = itertools.count(4_382_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._media_group_ids = itertools.count(13_780_000_000_000_001)

    # --- people and chats -------------------------------------------------------------
    def add_user(self, first_name: str, username: str | None, language_code: str | None,
                 last_name: str | None = None, user_id: int | None = None) -> FakeUser:
        user_id = next(self._user_ids) if user_id is None else user_id
        assert user_id not in self.users and user_id != BOT_ID, f"user id {user_id} taken"
        user = FakeUser(self, user_id, first_name, username, language_code, last_name)
        self.users[user.id] = user
        self.chats[user.id] = user.private
        return user

    def add_group(self, title: str, members, privacy_mode: bool, *, supergroup: bool,
                  creator: FakeUser | None, admins, bot_admin: bool,
                  username: str | None, added_by: FakeUser | None = None) -> FakeChat:
        number = next(self._group_ids)
        chat_id = -(1_002_000_000_000 + number) if supergroup else -(4_000_000_000 + number)
        chat = FakeChat(id=chat_id, type="supergroup" if supergroup else "group", title=title,
                        privacy_mode=privacy_mode, username=username,
                        bot_status="administrator" if bot_admin else "member")
        members = list(members)
        creator = creator or (members[0] if members else None)
        for user in members:
            chat.members[user.id] = "member"
        for user in admins:
            chat.members[user.id] = "administrator"
        if creator is not None:
            chat.members[creator.id] = "creator"
        self.chats[chat.id] = chat
        if added_by is not None:
            status, chat.bot_status = chat.bot_status, "left"
            self.set_bot_status(chat, status, added_by)
        return chat

    def set_member(self, chat: FakeChat, user: FakeUser, status: str) -> None:
        chat = chat.current()
        was = chat.members.get(user.id, "left")
        chat.members[user.id] = status
        if status in _MEMBER_STATUSES and was not in _MEMBER_STATUSES:
            self.service_message(chat, user.to_api(), {"new_chat_members": [user.to_api()]})
        elif status not in _MEMBER_STATUSES and was in _MEMBER_STATUSES:
            self.service_message(chat, user.to_api(), {"left_chat_member": user.to_api()})

    def migrate(self, group: FakeChat) -> FakeChat:
        assert group.type == "group" and group.migrated_to is None, f"{group} cannot migrate"
        new = FakeChat(id=-(1_002_000_000_000 + next(self._group_ids)), type="supergroup",
                       title=group.title, privacy_mode=group.privacy_mode,
                       members=dict(group.members), bot_status=group.bot_status)
        self.chats[new.id] = new
        creator = next((uid for uid, s in group.members.items() if s == "creator"), None)
        actor = self.users[creator].to_api() if creator else ANONYMOUS_ADMIN
        self.service_message(group, actor, {"migrate_to_chat_id": new.id})
        group.migrated_to = new
        self.service_message(new, actor, {"migrate_from_chat_id": group.id})
        return new

    def bot_membership_changed(self, user: FakeUser | None, old: str, new: str,
                               chat: FakeChat | None = None) -> None:
        """The my_chat_member update: a user blocked/restarted the bot, or (un)added it to chat."""
        chat = chat or user.private
        actor = user.to_api() if isinstance(user, FakeUser) else ANONYMOUS_ADMIN
        self.enqueue("my_chat_member", {
            "chat": chat.to_api(), "from": actor, "date": self.now(),
            "old_chat_member": member_object(old, self.bot),
            "new_chat_member": member_object(new, self.bot)})

    def set_bot_status(self, chat: FakeChat, status: str, by: FakeUser | None) -> None:
        chat = chat.current()
        old, chat.bot_status = chat.bot_status, status
        if old != status:
            self.bot_membership_changed(by, old, status, chat)
            if old in ("left", "kicked") and status in _MEMBER_STATUSES:
                sender = by.to_api() if by else ANONYMOUS_ADMIN
                self.service_message(chat, sender, {"new_chat_members": [dict(self.bot)]})

    # --- messages -------------------------------------------------------------------------
    def message(self, chat_id: int, message_id: int) -> dict | None:
        return self._messages.get(chat_id, {}).get(message_id)

    def new_message(self, chat: FakeChat, sender: dict, content: dict,
                    reply_to: dict | None = None) -> dict:
        message_id = self._next_message_id.get(chat.id, 1)
        self._next_message_id[chat.id] = message_id + 1
        message = {"message_id": message_id, "from": dict(sender), "chat": chat.to_api(),
                   "date": self.now(), **content}
        if reply_to is not None:
            replied = {k: v for k, v in plain(reply_to).items() if k != "reply_to_message"}
            message["reply_to_message"] = replied
        self._messages.setdefault(chat.id, {})[message_id] = message
        return message

    def service_message(self, chat: FakeChat, sender: dict, content: dict) -> dict:
        message = self.new_message(chat, sender, content)
        self.deliver(chat, message)
        return message

    def user_message(self, user: FakeUser, chat: FakeChat, content: dict,
                     reply_to: dict | None = None) -> dict:
        chat = chat.current()
        if chat.is_private:
            assert chat.user is user, f"{user} cannot write in {chat.user}'s chat with the bot"
            assert not user.blocked, f"{user} blocked the bot; call .start() to unblock"
            user.started = True
        else:
            status = chat.members.get(user.id, "left")
            assert status in _MEMBER_STATUSES, f"{user} is not a member of {chat} ({status})"
        if reply_to is not None:
            reply_to = as_message(reply_to)
            assert reply_to["chat"]["id"] == chat.id, "a reply must be in the same chat"
            reply_to = self.message(chat.id, reply_to["message_id"])
            assert reply_to is not None, "the replied message does not exist"
        message = self.new_message(chat, user.to_api(), content, reply_to)
        self.deliver(chat, message)
        return plain(message)

    def record_bot_message(self, chat: FakeChat, content: dict, html: str | None,
                           reply_to: dict | None = None,
                           reply_keyboard: dict | None = None) -> RecordedMessage:
        message = self.new_message(chat, self.bot, content, reply_to)
        recorded = RecordedMessage(message, html, reply_keyboard)
        self._messages[chat.id][message["message_id"]] = recorded
        self.sent.append(recorded)
        self.note_deep_links(recorded)
        self.message_signal.fire()
        return recorded

    def delete_message(self, chat_id: int, message_id: int) -> None:
        message = self._messages.get(chat_id, {}).pop(message_id, None)
        if isinstance(message, RecordedMessage):
            message.deleted = True
            self.message_signal.fire()

    def chat_history(self, chat_id: int) -> list[dict]:
        """Every message in the chat as it is now, the users' and the bot's, oldest first."""
        return list(self._messages.get(chat_id, {}).values())

    def bot_messages(self, chat_id: int) -> list[RecordedMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    def note_deep_links(self, message: RecordedMessage) -> None:
        urls = [b["url"] for row in message.buttons for b in row if "url" in b]
        for key in ("entities", "caption_entities"):
            urls += [e["url"] for e in message.get(key, []) if e.get("type") == "text_link"]
        urls += [u.rstrip(".,;:!?)") for u in TEXT_LINK.findall(message.text or message.caption)]
        for url in urls:
            is_bot_link, payload = parse_bot_link(url, self.bot["username"])
            link = DeepLink(url, payload, is_valid_payload(payload), message.chat_id,
                            message.message_id)
            if is_bot_link and link not in self.deep_links:
                self.deep_links.append(link)

    # --- callback queries -------------------------------------------------------------------
    def press(self, user: FakeUser, message: dict, data: str, *, check: bool) -> dict:
        message = as_message(message)
        stored = self.message(message["chat"]["id"], message["message_id"])
        assert stored is not None, f"message {message['message_id']} is deleted or never existed"
        assert isinstance(stored, RecordedMessage), "only messages sent by the bot have buttons"
        chat = self.chats[stored.chat_id]
        if chat.is_private:
            assert chat.user is user, f"{user} cannot see {stored!r}"
        else:
            assert chat.members.get(user.id) in _MEMBER_STATUSES, f"{user} is not in {chat}"
        if check:
            assert data in stored.callback_data(), (
                f"{stored!r} has no button with data {data!r}; it has {stored.callback_data()}")
        query_id = str(next(self._callback_ids))
        self.callbacks[query_id] = CallbackState(user.id)
        query = {"id": query_id, "from": user.to_api(), "message": plain(stored),
                 "chat_instance": str(abs(chat.id) * 7919 % 10**19), "data": data}
        self.enqueue("callback_query", query)
        return plain(query)

    # --- updates --------------------------------------------------------------------------
    def deliver(self, chat: FakeChat, message: dict) -> None:
        if self.bot_sees(chat, message):
            self.enqueue("message", message)

    def bot_sees(self, chat: FakeChat, message: dict) -> bool:
        """Group privacy mode: only commands for this bot, replies to it and service messages."""
        if chat.is_private:
            return True
        if chat.bot_status not in _MEMBER_STATUSES:
            return False
        if not chat.privacy_mode or chat.bot_status == "administrator":
            return True
        if any(key in message for key in SERVICE_KEYS):
            return True
        if (message.get("reply_to_message") or {}).get("from", {}).get("id") == BOT_ID:
            return True
        text = message.get("text") or message.get("caption") or ""
        entities = message.get("entities") or message.get("caption_entities") or []
        if entities and entities[0]["type"] == "bot_command" and entities[0]["offset"] == 0:
            _, _, target = text[: entities[0]["length"]].partition("@")
            return not target or target.lower() == self.bot["username"].lower()
        return False

    def enqueue(self, kind: str, payload: dict) -> None:
        self.updates.append({"update_id": next(self._update_ids), kind: plain(payload)})
        self.enqueued_total += 1
        self.update_signal.fire()

    def discard_pending(self) -> None:
        """deleteWebhook(drop_pending_updates=True)."""
        self.discarded_total += len(self.updates)
        self.updates.clear()

    def allowed(self, update: dict) -> bool:
        return _update_type(update) in self.allowed_updates

    def confirm(self, offset: int) -> None:
        """getUpdates offset: forget updates before offset (negative: keep the last -offset)."""
        if offset < 0:
            del self.updates[: max(len(self.updates) + offset, 0)]
        elif offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def deliverable(self, limit: int) -> list[dict]:
        """Drops updates of types the bot did not ask for, returns up to limit of the rest."""
        kept = [u for u in self.updates if self.allowed(u)]
        self.discarded_total += len(self.updates) - len(kept)
        self.updates = kept
        return self.updates[:limit]

    # --- files ----------------------------------------------------------------------------
    def new_file(self, content: bytes, folder: str, extension: str) -> StoredFile:
        number = next(self._file_ids)
        stored = StoredFile(file_id=f"AgACAgQAAxkBAAI{number:08d}FakeFileId{number:06d}",
                            file_unique_id=f"AQAD{number:08d}",
                            content=content, file_path=f"{folder}/file_{number}.{extension}")
        self.files[stored.file_id] = stored
        return stored

    def new_media_group_id(self) -> str:
        return str(next(self._media_group_ids))

    def new_photo(self, content: bytes, *, wrap: bool = True) -> list[dict]:
        """A photo as the Bot API gives it: one PhotoSize per resolution, each with a file_id."""
        if wrap:
            content = b"\xff\xd8\xff\xe0" + content + b"\xff\xd9"  # looks like a JPEG
        sizes = []
        for width, height in ((90, 68), (320, 240), (1280, 960)):
            stored = self.new_file(content, "photos", "jpg")
            sizes.append({"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                          "file_size": len(stored.content), "width": width, "height": height})
        return sizes


def _update_type(update: dict) -> str:
    return next(key for key in update if key != "update_id")
