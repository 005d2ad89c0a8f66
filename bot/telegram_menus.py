"""Registering the bot's command menus on Telegram, per scope and per language."""

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
    """Dutch menus are the default; people whose Telegram is in English get the English ones."""
    for scope in MENU_SCOPES:
        for language in LANGUAGES:
            commands = [BotCommand(name, texts(language, key)) for name, key in menu(scope, language)]
            code = None if language == DEFAULT_LANGUAGE else language
            try:
                await bot.set_my_commands(commands, scope=SCOPES[scope](), language_code=code)
            except TelegramError as error:  # menus are a convenience; the bot works without them
                log.warning("could not register the %s menu (%s): %s", scope, language, type(error).__name__)
