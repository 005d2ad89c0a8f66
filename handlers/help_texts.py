"""``/help`` and ``/beheer``: the commands a person can use, read from the command table."""

from handlers import commands
from handlers.context import Context
from handlers.i18n import Markup


def show_help(ctx: Context, _args: str = "") -> None:
    ctx.reply(Markup(ctx.t("help.header") + "\n" + _sections(ctx)))


def not_understood(ctx: Context) -> None:
    ctx.reply(Markup(ctx.t("help.not_understood") + "\n" + _sections(ctx)))


def show_admin_help(ctx: Context, _args: str = "") -> None:
    ctx.reply(Markup(ctx.t("help.admin_header") + "\n" + commands.help_lines(ctx, commands.ADMINS, commands.STAFF)))


def _sections(ctx: Context) -> Markup:
    """Everyone's commands, then those of officials and admins for people who are one."""
    parts = [commands.help_lines(ctx, commands.ANYONE)]
    if commands.holds(ctx, commands.OFFICIAL):
        parts.append(ctx.t("help.official_header") + "\n" + commands.help_lines(ctx, commands.OFFICIAL, commands.STAFF))
    if commands.holds(ctx, commands.ADMINS):
        parts.append(ctx.t("help.admin_more", command="/" + commands.find("admin").name_in(ctx.language)))
    return Markup("\n\n".join(parts))
