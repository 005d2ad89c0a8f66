"""The one park-level conversation a person can have open: an update, a request, a help reply, an answer.

Stored in ``ParkLevelDraft`` (one per person) so a restart loses nothing. Buttons carry
``k:<draft id>:<step>:<value>``; a press from an older message changes nothing. When the
person also waits for report text (``PendingInput``) or writes a report, the conversation
touched last gets their next message.
"""

from sqlmodel import Session, select

from handlers.context import Context
from handlers.messages import Button
from handlers.park_buttons import ParkDraftStep, unpack_park
from storage.models import ParkLevelDraft, PendingInput, ReportDraft

MAX_TEXT = 2000


def of(session: Session, person_id: int) -> ParkLevelDraft | None:
    return session.exec(select(ParkLevelDraft).where(ParkLevelDraft.person_id == person_id)).first()


def begin(ctx: Context, kind: str, step: str, data: dict) -> ParkLevelDraft:
    """Start a conversation, replacing any unfinished park-level one of this person."""
    draft = of(ctx.session, ctx.person.id)
    if draft is None:
        draft = ParkLevelDraft(person_id=ctx.person.id, kind=kind, step=step, data=data, updated_at=ctx.now)
    draft.kind, draft.step, draft.data, draft.updated_at = kind, step, dict(data), ctx.now
    ctx.session.add(draft)
    ctx.session.flush()
    return draft


def move(ctx: Context, draft: ParkLevelDraft, step: str, data: dict | None = None) -> None:
    draft.step = step
    if data is not None:
        draft.data = dict(data)
    draft.updated_at = ctx.now
    ctx.session.add(draft)


def end(ctx: Context, draft: ParkLevelDraft) -> None:
    ctx.session.delete(draft)


def button(ctx: Context, draft: ParkLevelDraft, label_key: str, value: str, **values) -> Button:
    return Button(ctx.t(label_key, **values), data=data_for(draft, value))


def data_for(draft: ParkLevelDraft, value: str) -> ParkDraftStep:
    return ParkDraftStep(draft.id, draft.step, value)


def parse(data: str) -> tuple[int, str, str] | None:
    """``k:12:audience:next`` → (12, "audience", "next")."""
    pressed = unpack_park(data)
    return (pressed.draft_id, pressed.step, pressed.value) if isinstance(pressed, ParkDraftStep) else None


def is_newest(ctx: Context, draft: ParkLevelDraft) -> bool:
    """Whether this conversation, not a report or a report answer, was touched last."""
    pending = ctx.session.exec(select(PendingInput).where(PendingInput.person_id == ctx.person.id)).first()
    report = ctx.session.exec(select(ReportDraft).where(ReportDraft.person_id == ctx.person.id)).first()
    return all(other is None or other <= draft.updated_at
               for other in (pending.created_at if pending else None, report.updated_at if report else None))


def expired(ctx: Context, draft: ParkLevelDraft) -> bool:
    return draft.updated_at + ctx.services.settings.draft_idle_timeout <= ctx.now


def valid_text(ctx: Context, limit: int = MAX_TEXT) -> str | None:
    """The person's text if usable; otherwise they are told why and None comes back."""
    incoming = ctx.incoming
    if incoming.text is None or incoming.unsupported:
        ctx.reply(ctx.t("input.text_expected"))
        return None
    text = incoming.text.strip()
    if not text:
        ctx.reply(ctx.t("input.empty"))
        return None
    if len(text) > limit:
        ctx.reply(ctx.t("input.too_long", max=limit, length=len(text)))
        return None
    return text
