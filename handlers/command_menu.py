"""The command menus a platform shows, per scope and language, read from the command table."""

from handlers import commands

SCOPES = commands.MENU_SCOPES


def menu(scope: str, language: str) -> list[tuple[str, str]]:
    """(command, description key) pairs for a scope in a language."""
    return [(command.name_in(language), command.menu_key) for command in commands.menu(scope)]
