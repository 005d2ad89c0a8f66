"""One unit of work: the session, the person acting and helpers to answer them."""

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session

from handlers.i18n import Markup
from handlers.messages import Chat, Incoming
from handlers.outbox import Keyboard, enqueue, enqueue_to
from handlers.services import Services
from storage.models import Person


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

    @property
    def language(self) -> str:
        return self.services.texts.language_for(self.person.language)

    def t(self, key: str, **values: object) -> Markup:
        """A text for this chat: the person's language, the chat's platform."""
        return self.services.texts.on(self.chat.platform)(self.language, key, **values)

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
