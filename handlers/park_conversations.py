"""Continuing a park-level conversation (issue 12): which module takes each kind of ``ParkLevelDraft``.

The commands that start them are in the command table (``handlers.commands``); the router
hands presses of their buttons, the person's messages and ``/stop`` here.
"""

from handlers import park_drafts, park_request_help, park_requests, park_updates
from handlers.context import Context

CONVERSATIONS = {park_updates.KIND: park_updates, park_requests.POST: park_requests,
                 park_requests.HELP: park_request_help, park_requests.ANSWER: park_requests,
                 park_requests.CLOSE: park_requests}


def on_press(ctx: Context, draft_id: int, step: str, value: str) -> None:
    """A button of a park-level conversation; one from an older message changes nothing."""
    draft = park_drafts.of(ctx.session, ctx.person.id)
    if draft is None or draft.id != draft_id or draft.step != step:
        ctx.toast = ctx.t("input.stale_button")
        return None
    return CONVERSATIONS[draft.kind].on_press(ctx, draft, value)


def on_private_message(ctx: Context) -> bool:
    """Text, a photo or anything else while a park-level conversation is the current one; True when taken."""
    draft = park_drafts.of(ctx.session, ctx.person.id)
    if draft is None or not park_drafts.is_newest(ctx, draft):
        return False
    if park_drafts.expired(ctx, draft):
        park_drafts.end(ctx, draft)
        ctx.reply(ctx.t("park.draft_expired"))
        return True
    CONVERSATIONS[draft.kind].on_message(ctx, draft)
    return True


def on_stop(ctx: Context) -> bool:
    """``/stop`` ends the park-level conversation when it is the current one."""
    draft = park_drafts.of(ctx.session, ctx.person.id)
    if draft is None or not park_drafts.is_newest(ctx, draft):
        return False
    park_drafts.end(ctx, draft)
    ctx.reply(ctx.t("park.cancelled"))
    return True
