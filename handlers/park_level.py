"""Reciprocity at park level (issue 12): the few entry points the router calls.

Updates (``/bericht``), requests with follow-up (``/oproep``) and the monthly digest
(``/overzicht``) live in their own modules; this one only routes to them, so the router
needs a handful of clearly separated lines.
"""

from dataclasses import replace

from handlers import (
    park_digest, park_drafts, park_members, park_request_help, park_requests, park_scan, park_updates,
)
from handlers.context import Context
from handlers.messages import Incoming
from storage.queries import group_by_chat

UPDATE_COMMANDS = {"bericht", "update"}
MY_UPDATES_COMMANDS = {"mijnberichten", "myupdates"}
MEMBER_SETTING_COMMANDS = {"parkberichten", "parkupdates"}
USEFUL_COMMANDS = {"nuttig", "useful"}
REQUEST_COMMANDS = {"oproep", "request"}
OPEN_REQUESTS_COMMANDS = {"oproepen", "requests"}
HELP_COMMANDS = {"helpen", "assist"}
DIGEST_COMMANDS = {"overzicht", "digest"}
SCAN_COMMANDS = {"scan"}

CONVERSATIONS = {park_updates.KIND: park_updates, park_requests.POST: park_requests, park_requests.HELP: park_request_help,
                 park_requests.ANSWER: park_requests, park_requests.CLOSE: park_requests}


def parks_to_check(incoming: Incoming) -> str | int | None:
    """Parks whose membership the platform must confirm before this message is handled."""
    if incoming.command == "start":
        return park_requests.park_of_payload(incoming.args.strip())
    if incoming.command in HELP_COMMANDS:
        return "all"
    return None


def remember_membership(ctx: Context) -> None:
    park_members.remember(ctx)


def on_group(ctx: Context) -> bool:
    """A command or button press in a group that is ours; True when handled."""
    incoming = ctx.incoming
    if incoming.press:
        parsed = park_updates.parse_button(incoming.press.data)
        if parsed is None:
            return False
        park_updates.on_button(ctx, *parsed)
        return True
    if incoming.command in USEFUL_COMMANDS:
        park_updates.useful_command(ctx, incoming.args)
        return True
    if incoming.command in HELP_COMMANDS:  # written in the group anyway: continue privately, say nothing here
        group = group_by_chat(ctx.session, ctx.chat.platform, ctx.chat.chat_id)
        if group is not None:
            private = replace(ctx.in_private(), member_of_parks=ctx.member_of_parks | {group.park_id})
            park_request_help.help_command(private, incoming.args)
            ctx.toast = private.toast
        return True
    return False


def on_command(ctx: Context, command: str, args: str) -> bool:
    """A private-chat command that is ours; True when handled."""
    if command == "start" and park_requests.park_of_payload(args.strip()) is not None:
        park_request_help.start_help_from_payload(ctx, args.strip())
    elif command in UPDATE_COMMANDS:
        park_updates.start(ctx, args)
    elif command in MY_UPDATES_COMMANDS:
        park_updates.my_updates(ctx)
    elif command in MEMBER_SETTING_COMMANDS:
        park_members.updates_setting(ctx, args)
    elif command in USEFUL_COMMANDS:
        park_updates.useful_command(ctx, args)
    elif command in REQUEST_COMMANDS:
        park_requests.command(ctx, args)
    elif command in OPEN_REQUESTS_COMMANDS:
        park_requests.list_open(ctx)
    elif command in HELP_COMMANDS:
        park_request_help.help_command(ctx, args)
    elif command in DIGEST_COMMANDS:
        park_digest.command(ctx, args)
    elif command in SCAN_COMMANDS:
        park_scan.command(ctx, args)
    else:
        return False
    return True


def on_press(ctx: Context, data: str) -> bool:
    """A button press in a private chat that is ours; True when handled."""
    parsed = park_drafts.parse(data)
    if parsed is not None:
        draft_id, step, value = parsed
        draft = park_drafts.of(ctx.session, ctx.person.id)
        if draft is None or draft.id != draft_id or draft.step != step:
            ctx.toast = ctx.t("input.stale_button")
            return True
        CONVERSATIONS[draft.kind].on_press(ctx, draft, value)
        return True
    tool = park_requests.parse_tool(data)
    if tool is not None:
        park_requests.on_tool(ctx, *tool)
        return True
    scan_button = park_scan.parse_button(data)
    if scan_button is not None:
        park_scan.on_button(ctx, *scan_button)
        return True
    update_button = park_updates.parse_button(data)
    if update_button is not None:
        park_updates.on_button(ctx, *update_button)
        return True
    return False


def on_private_message(ctx: Context) -> bool:
    """Text, a photo or anything else while one of our conversations is the current one."""
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
    """``/stop`` ends our conversation when it is the current one."""
    draft = park_drafts.of(ctx.session, ctx.person.id)
    if draft is None or not park_drafts.is_newest(ctx, draft):
        return False
    park_drafts.end(ctx, draft)
    ctx.reply(ctx.t("park.cancelled"))
    return True
