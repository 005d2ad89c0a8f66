"""The one park-level conversation a person can have open: an update, a request, a help reply, an answer.

Stored in ``ParkLevelDraft`` (one per person) so a restart loses nothing. Buttons carry
``k:<draft id>:<step>:<value>``; a press from an older message changes nothing. When the
person also waits for report text (``PendingInput``) or writes a report, the conversation
touched last gets their next message.
"""

from collections.abc import Callable

from sqlmodel import Session, select

from handlers.context import Context
from handlers.messages import Button
from handlers.buttons import ParkDraftStep
from storage.models import ParkLevelDraft, PendingInput, ReportDraft

MAX_TEXT = 2000
TEXT = "text"  #: the step at which every park-level conversation takes typed text


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


def take_text(ctx: Context, draft: ParkLevelDraft, ask: Callable[[Context, ParkLevelDraft], None],
              next_step: str | None, *, limit: int = MAX_TEXT) -> str | None:
    """Take the person's typed text and move on: the one way park-level conversations read text.

    Only at the ``text`` step (elsewhere the person is pointed to the buttons and asked again); text
    that is empty, too long or no text at all is answered by ``valid_text`` and changes nothing.
    The text is kept as ``data["text"]`` and the conversation moves to ``next_step`` and asks it;
    with ``next_step`` None the caller finishes the conversation. Returns the text, or None.
    """
    if draft.step != TEXT:
        ctx.reply(ctx.t("input.use_buttons"))
        ask(ctx, draft)
        return None
    text = valid_text(ctx, limit)
    if text is None or next_step is None:
        return text
    move(ctx, draft, next_step, {**draft.data, "text": text})
    ask(ctx, draft)
    return text
