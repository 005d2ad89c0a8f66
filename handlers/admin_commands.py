"""Admin commands in the private chat, Dutch names with English aliases."""

from collections.abc import Callable

from handlers import admin_categories, admin_officials, admin_policy, audit, park_choice, report_log, stats_command
from handlers.context import Context

Command = Callable[[Context, str], None]


def _audit(ctx: Context, args: str) -> None:
    if report_log.wants(args):  # /logboek melding SP-0042: who saw what of one report
        return report_log.show(ctx, args)
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "audit", args)
    if park is not None:
        audit.show(ctx, park)
    elif not park_choice.admin_parks(ctx):
        ctx.reply(ctx.t("admin.not_admin"))


def _help(ctx: Context, _args: str) -> None:
    ctx.reply(ctx.t("admin.help") if park_choice.admin_parks(ctx) else ctx.t("admin.not_admin"))


# Canonical (English) name → handler; ALIASES maps every accepted name to the canonical one.
COMMANDS: dict[str, Command] = {
    "admin": _help,
    "invite": admin_officials.invite,
    "officials": admin_officials.list_people,
    "revoke": admin_officials.revoke,
    "away": admin_officials.away,
    "back": admin_officials.back,
    "categories": admin_categories.list_categories,
    "category": admin_categories.change,
    "policy": admin_policy.policy_command,
    "audit": _audit,
    "stats": stats_command.stats_command,
}
ALIASES = {
    "beheer": "admin", "admin": "admin", "uitnodigen": "invite", "invite": "invite", "instanties": "officials",
    "officials": "officials", "intrekken": "revoke", "revoke": "revoke", "afwezig": "away", "away": "away",
    "terug": "back", "back": "back", "categorieen": "categories", "categorieën": "categories",
    "categories": "categories", "categorie": "category", "category": "category", "beleid": "policy",
    "policy": "policy", "logboek": "audit", "audit": "audit", "statistiek": "stats", "stats": "stats",
}


def run(ctx: Context, name: str, args: str) -> bool:
    """Run the admin command ``name`` if it is one; False otherwise."""
    canonical = ALIASES.get(name)
    if canonical is None:
        return False
    COMMANDS[canonical](ctx, args)
    return True
