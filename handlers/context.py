"""One unit of work: the session, the person acting and helpers to answer them."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session

from handlers.i18n import Markup
from handlers.messages import Chat, Incoming
from handlers.outbox import Attachment, Keyboard, enqueue, enqueue_to
from handlers.services import Services
from storage.models import Person


@dataclass(frozen=True)
class LaterFile:
    """A file made after the unit of work, off the event loop (a chart), for a person's private chat."""

    person_id: int
    caption: str | None
    render: Callable[[], Attachment | None]


@dataclass
class Context:
    session: Session
    services: Services
    person: Person
    chat: Chat
    incoming: Incoming
    now: datetime
    member_of_parks: set[int] = field(default_factory=set)
    toast: str | None = None
    chosen_park_id: int | None = None
    later_files: list[LaterFile] = field(default_factory=list)

    @property
    def language(self) -> str:
        return self.services.texts.language_for(self.person.language)

    def t(self, key: str, **values: object) -> Markup:
        """A text for this chat: the person's language, the chat's platform."""
        return self.services.texts.on(self.chat.platform)(self.language, key, **values)

    def tn(self, key: str, count: int, **values: object) -> Markup:
        """A text with plural forms, in the form for ``count``."""
        return self.services.texts.on(self.chat.platform).plural(self.language, key, count, **values)

    def t_for(self, person: Person, key: str, **values: object) -> Markup:
        """A text for another person: their language, their platform."""
        texts = self.services.texts.on(person.platform)
        return texts(texts.language_for(person.language), key, **values)

    def reply(self, text: str, buttons: Keyboard | None = None, **extra) -> None:
        """Answer in the chat the person wrote in (their private chat: wherever that is now)."""
        if self.chat.is_private:
            return self.send_to(self.person, text, buttons, **extra)
        enqueue(
            self.session, now=self.now, platform=self.chat.platform, chat_id=self.chat.chat_id,
            text=text, buttons=buttons, **extra,
        )
        return None

    def in_private(self) -> "Context":
        """The same unit of work, answering in the person's private chat (opened if need be)."""
        chat = Chat(platform=self.chat.platform, chat_id=self.person.private_chat_id or "", is_private=True)
        return replace(self, chat=chat)

    def send_to(self, person: Person, text: str | None, buttons: Keyboard | None = None, **extra) -> None:
        """Send privately to a person (their private chat with the bot)."""
        enqueue_to(self.session, now=self.now, person=person, text=text, buttons=buttons, **extra)

    def send_file_later(self, caption: str | None, render: Callable[[], Attachment | None]) -> None:
        """Send the person the file ``render`` makes, after everything this unit of work sends.

        ``render`` runs in a worker thread after the transaction (it must not touch the session);
        the router enqueues its result in a transaction of its own. For slow work such as charts.
        """
        self.later_files.append(LaterFile(self.person.id, caption, render))
