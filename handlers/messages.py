"""The neutral message types the handlers speak."""

from dataclasses import dataclass

from handlers.buttons import ButtonData


@dataclass(frozen=True)
class Sender:
    platform: str
    external_id: str
    display_name: str = ""
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class Chat:
    platform: str
    chat_id: str
    is_private: bool
    title: str = ""


@dataclass(frozen=True)
class ButtonPress:
    data: str
    message_id: str | None = None


@dataclass(frozen=True)
class SharedFile:
    """A file or video a person sent: the platform's reference to it, never its bytes.

    ``ref`` is a Telegram ``file_id``, or on Matrix a compact JSON ``{"mx": mxc URL, "file": key}``
    (as photos, ``bot.matrix_media``). ``kind`` is ``video`` or ``document``; ``size`` in bytes.
    """

    kind: str
    ref: str
    name: str
    mime: str
    size: int

    def as_json(self) -> dict:
        return {"kind": self.kind, "ref": self.ref, "name": self.name, "mime": self.mime, "size": self.size}


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: a text, command, button press, location, photo, file or video."""

    sender: Sender
    chat: Chat
    text: str | None = None
    command: str | None = None
    args: str = ""
    press: ButtonPress | None = None
    location: tuple[float, float] | None = None
    photo: str | None = None
    caption: str | None = None  # the text sent with a photo or file
    file: SharedFile | None = None  # a document or video (camera footage)
    unsupported: bool = False
    #: An edit of an earlier message (Telegram ``edited_message``): never taken over, only answered.
    edited: bool = False
    migrated_to_chat_id: str | None = None
    #: The platform's id of the update (``telegram:<update_id>``, ``matrix:<event_id>``): the inbox
    #: records it with the update's effects, so a redelivered update is applied only once.
    update_key: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    data: ButtonData | None = None
    url: str | None = None

    def as_json(self) -> dict:
        return {"label": self.label, "data": self.data.pack() if self.data is not None else None, "url": self.url}


@dataclass
class Outcome:
    """What the adapter shows right away, besides the outbox (a toast for a button press)."""

    toast: str | None = None
    already_applied: bool = False  # a redelivered update: nothing was done again
    failed: bool = False  # handling raised; nothing was saved (counted by the metrics)
