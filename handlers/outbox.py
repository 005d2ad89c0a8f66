"""Writing outgoing messages into the outbox, inside the caller's transaction."""

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from handlers.messages import Button
from handlers.splitting import split_text, text_limit
from storage import outbox_rows
from storage.models import Person

Keyboard = list[list[Button]]


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (the message's text is its caption): a chart, a CSV export.

    ``image`` is shown inline (Telegram ``sendPhoto``, Matrix ``m.image``); ``document`` is a
    file to download (``sendDocument``, ``m.file``). The bytes travel in the outbox row.
    """

    name: str
    kind: Literal["image", "document"]
    mime: str
    data: bytes


def enqueue(
    session: Session,
    *,
    now,
    platform: str,
    chat_id: str,
    text: str | None,
    buttons: Keyboard | None = None,
    photo: str | None = None,
    location: tuple[float, float] | None = None,
    purpose: str = "reply",
    report_id: int | None = None,
    recipient: Person | None = None,
    attachment: Attachment | None = None,
    file: dict | None = None,
) -> None:
    """One message; a text too long for the platform becomes several, the buttons under the last.

    Written with the unit of work's other messages in one statement (``storage.outbox_rows``).
    """
    if text and photo is None and location is None and file is None:
        *first_parts, text = split_text(text, text_limit(platform))
        for part in first_parts:
            enqueue(session, now=now, platform=platform, chat_id=chat_id, text=part, purpose=purpose,
                    report_id=report_id, recipient=recipient)
    outbox_rows.add(session, {
        "platform": platform,
        "chat_id": chat_id,
        "text": text,
        "choices": [[button.as_json() for button in row] for row in (buttons or [])],
        "photo": photo,
        "latitude": location[0] if location else None,
        "longitude": location[1] if location else None,
        "purpose": purpose,
        "report_id": report_id,
        "recipient_person_id": recipient.id if recipient else None,
        "next_attempt_at": now,
        "created_at": now,
        "file": file,
        # a file's reference goes once it is delivered; its kind stays (a file, not a question)
        "attachment_kind": attachment.kind if attachment else (file["kind"] if file is not None else None),
        "attachment": attachment.data if attachment else None,
        "attachment_name": attachment.name if attachment else None,
        "attachment_mime": attachment.mime if attachment else None,
    })


def enqueue_to(session: Session, *, now, person: Person, text: str | None, buttons: Keyboard | None = None,
               **extra) -> None:
    """A message to a person's private chat (the adapter opens one where there is none yet).

    Nothing is sent to a person who erased their data (``/vergeet``): they can no longer be reached.
    """
    if person.forgotten_at is not None:
        return
    enqueue(session, now=now, platform=person.platform, chat_id=person.private_chat_id or "", text=text,
            buttons=buttons, recipient=person, **extra)
