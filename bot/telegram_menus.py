"""Registering the bot's command menus on Telegram, per scope and per language."""

import asyncio
import logging

from telegram import (
    Bot, BotCommand, BotCommandScopeAllChatAdministrators, BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)
from telegram.error import TelegramError

from handlers.command_menu import SCOPES as MENU_SCOPES, menu
from handlers.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator

log = logging.getLogger(__name__)

SCOPES = {"private": BotCommandScopeAllPrivateChats, "group": BotCommandScopeAllGroupChats,
          "group_admins": BotCommandScopeAllChatAdministrators}


async def register_menus(bot: Bot, texts: Translator) -> None:
    """Dutch menus are the default; people whose Telegram is in English get the English ones.

    The six calls go out together: one after another they were six round trips of start-up
    before the bot took its first update."""
    await asyncio.gather(*(_register_menu(bot, texts, scope, language)
                           for scope in MENU_SCOPES for language in LANGUAGES))


async def _register_menu(bot: Bot, texts: Translator, scope: str, language: str) -> None:
    commands = [BotCommand(name, texts(language, key)) for name, key in menu(scope, language)]
    code = None if language == DEFAULT_LANGUAGE else language
    try:
        await bot.set_my_commands(commands, scope=SCOPES[scope](), language_code=code)
    except TelegramError as error:  # menus are a convenience; the bot works without them
        log.warning("could not register the %s menu (%s): %s", scope, language, type(error).__name__)
