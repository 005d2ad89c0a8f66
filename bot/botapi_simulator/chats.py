"""Bot API methods for callback queries, chat information, command lists and files."""

import json
from typing import NamedTuple

from .limits import (
    MAX_FILE_DOWNLOAD_BYTES,
    MAX_CALLBACK_ANSWER_LENGTH, bad_request, validate_commands, validate_language_code,
    validate_scope,
)
from .methods import check_reachable, method, resolve_chat
from .params import Params
from .world import BOT_ID, member_object

_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class AnsweredCallback(NamedTuple):
    id: str
    text: str | None
    show_alert: bool


# --- callback queries -----------------------------------------------------------------------------
@method("answerCallbackQuery")
async def answer_callback_query(tg, params):
    query_id = params.text("callback_query_id")
    state = tg.world.callbacks.get(query_id or "")
    if state is None or state.answered:
        raise bad_request(_QUERY_TOO_OLD)
    text = params.text("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    state.answered = True
    tg.answered_callbacks.append(AnsweredCallback(query_id, text, params.flag("show_alert")))
    return True


# --- chat information ---------------------------------------------------------------------------------


@method("getChat")
async def get_chat(tg, params):
    chat = resolve_chat(tg, params.values.get("chat_id"))
    if not chat.is_private:
        check_reachable(chat)
    gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                           "premium_subscription", "gifts_from_channels"), False)
    return {**chat.to_api(), "accent_color_id": 0, "max_reaction_count": 11,
            "accepted_gift_types": gifts}


@method("getChatMember")
async def get_chat_member(tg, params):
    chat = resolve_chat(tg, params.values.get("chat_id"))
    user_id = params.integer("user_id", missing="user_id is empty")
    if user_id == BOT_ID:
        status = "member" if chat.is_private else chat.bot_status
        return member_object(status, dict(tg.world.bot))
    if not chat.is_private:
        check_reachable(chat)
    user = tg.world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if chat.is_private:
        if chat.user is not user:
            raise bad_request("user not found")
        return member_object("member", user.to_api())
    return member_object(chat.members.get(user_id, "left"), user.to_api())


@method("getChatAdministrators")
async def get_chat_administrators(tg, params):
    chat = resolve_chat(tg, params.values.get("chat_id"))
    if chat.is_private:
        raise bad_request("there are no administrators in the private chat")
    check_reachable(chat)
    admins = [member_object(status, tg.world.users[user_id].to_api())
              for user_id, status in chat.members.items()
              if status in ("creator", "administrator")]
    if chat.bot_status == "administrator":
        admins.append(member_object("administrator", dict(tg.world.bot)))
    return admins


@method("getChatMemberCount")
async def get_chat_member_count(tg, params):
    chat = resolve_chat(tg, params.values.get("chat_id"))
    if chat.is_private:
        return 2
    check_reachable(chat)
    members = [s for s in chat.members.values() if s in ("creator", "administrator", "member")]
    return len(members) + 1


# --- commands -------------------------------------------------------------------------------------
def command_list_key(tg, params: Params) -> tuple[str, str]:
    scope = validate_scope(params.structure("scope", "can't parse BotCommandScope JSON object"))
    if "chat_id" in scope:
        chat = resolve_chat(tg, scope["chat_id"])
        if chat.is_private and scope["type"] != "chat":
            raise bad_request("can't use specified scope in private chats")
        scope["chat_id"] = chat.id
    language = validate_language_code(params.text("language_code", ""))
    return json.dumps(scope, sort_keys=True), language


@method("setMyCommands")
async def set_my_commands(tg, params):
    commands = validate_commands(params.structure("commands", "can't parse commands JSON object")
                                 or [])
    key = command_list_key(tg, params)
    if commands:
        tg.commands[key] = commands
    else:
        tg.commands.pop(key, None)
    return True


@method("deleteMyCommands")
async def delete_my_commands(tg, params):
    tg.commands.pop(command_list_key(tg, params), None)
    return True


@method("getMyCommands")
async def get_my_commands(tg, params):
    return list(tg.commands.get(command_list_key(tg, params), []))


# --- files ------------------------------------------------------------------------------------------
@method("getFile")
async def get_file(tg, params):
    stored = tg.world.files.get(params.text("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.content) > MAX_FILE_DOWNLOAD_BYTES:  # a bot may fetch files up to 20 MB only
        raise bad_request("file is too big")
    return stored.to_api()
