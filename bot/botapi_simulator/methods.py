"""The Bot API method registry, the chat checks every method shares, identity and updates.

The methods themselves live in sending.py (send, edit, delete) and chats.py (callbacks,
chat information, commands, files); importing those modules registers them.
"""

import asyncio
from typing import TYPE_CHECKING

from .limits import ApiError, bad_request, forbidden
from .params import Params
from .world import FakeChat

if TYPE_CHECKING:
    from .server import FakeTelegram

METHODS = {}


def method(name: str):
    """Registers a Bot API method handler under its (case-insensitive) name."""
    def register(function):
        METHODS[name.lower()] = function
        return function
    return register


# --- chats ---------------------------------------------------------------------------------
def resolve_chat(tg: "FakeTelegram", raw, *, missing: str = "chat_id is empty") -> FakeChat:
    """The chat a chat_id names; 400 for unknown ids and for migrated groups."""
    if raw is None or raw == "":
        raise bad_request(missing)
    chat = None
    if isinstance(raw, str) and raw.startswith("@"):
        chat = next((c for c in tg.world.chats.values()
                     if c.username and c.username.lower() == raw[1:].lower()), None)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        chat = tg.world.chats.get(raw)
    if chat is None:
        raise bad_request("chat not found")
    if chat.migrated_to is not None:
        raise bad_request("group chat was upgraded to a supergroup chat",
                          {"migrate_to_chat_id": chat.migrated_to.id})
    return chat


def check_reachable(chat: FakeChat) -> None:
    """403s for chats the bot cannot act in: not started, blocked, removed from the group."""
    if chat.is_private:
        if chat.user.blocked:
            raise forbidden("bot was blocked by the user")
        if not chat.user.started:
            raise forbidden("bot can't initiate conversation with a user")
        return
    kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
    if chat.bot_status == "kicked":
        raise forbidden(f"bot was kicked from the {kind}")
    if chat.bot_status == "left":
        raise forbidden(f"bot is not a member of the {kind}")


def writable_chat(tg: "FakeTelegram", params: Params) -> FakeChat:
    chat = resolve_chat(tg, params.values.get("chat_id"))
    check_reachable(chat)
    return chat


# --- identity and updates -----------------------------------------------------------------
@method("getMe")
async def get_me(tg, params):
    return {**tg.world.bot, "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False,
            "has_main_web_app": False}


@method("getUpdates")
async def get_updates(tg, params):
    if tg.webhooks.active:
        raise tg.webhooks.conflict()
    offset = params.integer("offset", 0)
    limit = min(max(params.integer("limit", 100), 1), 100)
    timeout = max(params.integer("timeout", 0), 0)
    allowed = params.structure("allowed_updates", "can't parse allowed_updates JSON object")
    if allowed is not None:
        tg.world.allowed_updates = tg.allowed_update_types(allowed)
    tg.world.confirm(offset)
    poll = object()
    tg.current_poll = poll
    tg.world.update_signal.fire()  # an older long poll ends with 409, like the real server
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if tg.webhooks.active:
            raise tg.webhooks.conflict()
        if tg.current_poll is not poll and not tg.closing:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                "make sure that only one bot instance is running")
        updates = tg.world.deliverable(limit)
        if updates or tg.closing:
            return updates
        remaining = deadline - loop.time()
        if remaining <= 0:
            return []
        await tg.world.update_signal.wait(remaining)
