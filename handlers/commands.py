"""The command table: every command declared once.

Each ``Command`` says its names (Dutch, English, other accepted spellings), where it works
(a handler for the private chat and/or the park's group), who may use it, whether it appears
in a platform menu and its help text. Dispatch (``handlers.router``), the permission check
(``allowed``), the Telegram menus (``handlers.command_menu``), the help texts and the words
Matrix accepts without ``!`` are all derived from this table.

The table is built on first use (it refers to handlers that import this module).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from handlers.context import Context
from handlers.i18n import BANG_COMMAND_PLATFORM, Markup
from storage.queries import ADMIN, active_roles

Handler = Callable[[Context, str], None]

ANYONE, OFFICIAL, ADMINS, STAFF = "anyone", "official", "admin", "staff"  # STAFF: an official or an admin
REFUSALS = {OFFICIAL: "open.not_official", ADMINS: "admin.not_admin", STAFF: "open.not_official"}
MENU_SCOPES = ("private", "group", "group_admins")


@dataclass(frozen=True)
class Command:
    key: str
    dutch: str
    english: str
    private: Handler | None = None
    group: Handler | None = None
    who: str = ANYONE
    #: Whom the help lists it for, when that differs from ``who`` (actions checked per report).
    listed_for: str | None = None
    aliases: tuple[str, ...] = ()
    #: Telegram menu scopes it appears in, with its description key.
    menus: tuple[str, ...] = ()
    menu_key: str | None = None
    #: Shown in the help (``command.<key>.help``, with ``command.<key>.usage`` when it takes arguments).
    in_help: bool = True
    usage: bool = False
    #: Matrix: works as a bare word (no ``!``) in a direct chat, when said without arguments.
    bare: bool = True
    #: Its answer depends on the groups the person is in (asked of the platform before the transaction).
    needs_membership: bool = False
    #: The refusal for people ``who`` excludes, when a more telling one than the default exists.
    refusal: str | None = None
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(dict.fromkeys((self.dutch, self.english, *self.aliases))))

    def name_in(self, language: str) -> str:
        return self.english if language == "en" else self.dutch


@cache
def table() -> tuple[Command, ...]:
    """Every command, in the order menus and help show them."""
    from handlers import (
        admin_categories, admin_invites, admin_officials, admin_policy, audit, groups, help_texts, language, listings,
        my_data, park_digest, park_members, park_request_help, park_requests, park_scan, park_updates, router,
        stats_command,
    )

    def official(action: str) -> Handler:
        return lambda ctx, args: router.official_command(ctx, action, args)

    return (
        Command("report", "melden", "report", private=lambda ctx, _: router.report(ctx),
                group=lambda ctx, _: groups.report_from_group(ctx), menus=MENU_SCOPES, menu_key="menu.report",
                needs_membership=True),
        Command("myreports", "mijnmeldingen", "myreports", private=lambda ctx, _: listings.my_reports(ctx),
                menus=("private",), menu_key="menu.myreports"),
        Command("signals", "signalen", "signals", private=router.signals, menus=("private",),
                menu_key="menu.signals", needs_membership=True),
        Command("open", "open", "open", private=listings.open_page, who=OFFICIAL, usage=True,
                menus=("private",), menu_key="menu.open"),
        Command("stop", "stop", "stop", private=lambda ctx, _: router.stop(ctx), aliases=("annuleer", "cancel"),
                menus=("private",), menu_key="menu.stop"),
        Command("language", "taal", "language", private=language.set_language, menus=("private",),
                menu_key="menu.language"),
        Command("help", "hulp", "help", private=help_texts.show_help, group=router.group_help, in_help=False),
        Command("start", "start", "start", private=router.start, group=router.group_help, in_help=False),
        Command("claim", "oppakken", "claim", private=official("claim"), listed_for=OFFICIAL, usage=True,
                bare=False),
        Command("feedback", "feedback", "feedback", private=official("fbt"), listed_for=OFFICIAL, usage=True,
                bare=False),
        Command("ask", "vraag", "ask", private=official("ask"), listed_for=OFFICIAL, usage=True, bare=False),
        Command("close", "sluit", "close", private=official("clt"), listed_for=OFFICIAL, usage=True, bare=False),
        Command("admin", "beheer", "admin", private=help_texts.show_admin_help, who=ADMINS, menus=("private",),
                menu_key="menu.admin", in_help=False),
        Command("link", "koppel", "link", private=lambda ctx, _: ctx.reply(ctx.t("group.link_in_group")),
                group=lambda ctx, _: groups.link_group(ctx), menus=("group_admins",), menu_key="menu.link",
                in_help=False, bare=False),
        Command("invite", "uitnodigen", "invite", private=admin_officials.invite, who=ADMINS, usage=True,
                bare=False),
        Command("invites", "uitnodigingen", "invites", private=admin_invites.list_invites, who=ADMINS),
        Command("officials", "instanties", "officials", private=admin_officials.list_people, who=ADMINS),
        Command("revoke", "intrekken", "revoke", private=admin_officials.revoke, who=ADMINS, usage=True,
                bare=False),
        Command("away", "afwezig", "away", private=admin_officials.away, who=ADMINS, usage=True, bare=False),
        Command("back", "terug", "back", private=admin_officials.back, who=ADMINS, usage=True, bare=False),
        Command("categories", "categorieen", "categories", private=admin_categories.list_categories, who=ADMINS,
                aliases=("categorieën",)),
        Command("category", "categorie", "category", private=admin_categories.change, who=ADMINS, usage=True,
                bare=False),
        Command("policy", "beleid", "policy", private=admin_policy.policy_command, who=ADMINS),
        Command("audit", "logboek", "audit", private=audit.audit_command, who=ADMINS),
        Command("stats", "statistiek", "stats", private=stats_command.stats_command, who=STAFF, usage=True),
        # Privacy (issue 13): see and erase my data; /vergeet SP-0042 or #12 is an admin's request (checked inside).
        Command("mydata", "mijngegevens", "mydata", private=lambda ctx, _: my_data.show(ctx), menus=("private",),
                menu_key="menu.mydata"),
        Command("forget", "vergeet", "forget", private=lambda ctx, args: my_data.ask_to_forget(ctx, args.strip()),
                bare=False),
        # Park level (issue 12): updates from officials, requests with follow-up, the monthly digest, the scan.
        # Whether a person may act in a particular park is checked inside (park isolation).
        Command("update", "bericht", "update", private=park_updates.start, who=STAFF, refusal="update.not_official",
                usage=True, bare=False, menus=("private",), menu_key="menu.update"),
        Command("myupdates", "mijnberichten", "myupdates", private=lambda ctx, _: park_updates.my_updates(ctx),
                who=STAFF, refusal="update.not_official"),
        Command("request", "oproep", "request", private=park_requests.command, who=STAFF,
                refusal="request.not_official", usage=True, bare=False, menus=("private",), menu_key="menu.request"),
        Command("requests", "oproepen", "requests", private=lambda ctx, _: park_requests.list_open(ctx), who=STAFF,
                refusal="request.not_official"),
        Command("assist", "helpen", "assist", private=park_request_help.help_command,
                group=park_request_help.help_from_group, usage=True, bare=False, needs_membership=True),
        Command("parkupdates", "parkberichten", "parkupdates", private=park_members.updates_setting, usage=True,
                menus=("private",), menu_key="menu.parkupdates"),
        Command("useful", "nuttig", "useful", private=park_updates.useful_command, group=park_updates.useful_command,
                usage=True, bare=False),
        Command("digest", "overzicht", "digest", private=park_digest.command, who=ADMINS, usage=True, bare=False),
        # Officials read the results; starting, stopping and the questions are for admins (checked inside).
        Command("scan", "scan", "scan", private=park_scan.command, who=STAFF, refusal="scan.staff_only", usage=True,
                bare=False),
    )


@cache
def _by_name() -> dict[str, Command]:
    return {name: command for command in table() for name in command.names}


def find(name: str | None) -> Command | None:
    return _by_name().get(name or "")


def needs_membership(name: str | None) -> bool:
    command = find(name)
    return command is not None and command.needs_membership


def bare_words() -> frozenset[str]:
    """Words that are commands on their own in a Matrix direct chat."""
    return frozenset(name for command in table() if command.bare for name in command.names)


def menu(scope: str) -> list[Command]:
    return [command for command in table() if scope in command.menus]


def holds(ctx: Context, who: str) -> bool:
    """Whether the person may use a command for ``who``."""
    if who == ANYONE:
        return True
    roles = {role.role for role in active_roles(ctx.session, ctx.person.id)}
    is_admin, is_official = ADMIN in roles, bool(roles - {ADMIN})
    return {OFFICIAL: is_official, ADMINS: is_admin, STAFF: is_admin or is_official}[who]


def run(ctx: Context, command: Command, args: str, *, in_group: bool) -> bool:
    """Run ``command`` if it works here and the person may use it (otherwise say why); False if it
    does not work in this kind of chat at all."""
    handler = command.group if in_group else command.private
    if handler is None:
        return False
    if not holds(ctx, command.who):
        ctx.reply(ctx.t(command.refusal or REFUSALS[command.who]))
        return True
    handler(ctx, args)
    return True


def help_lines(ctx: Context, *who: str) -> Markup:
    """One line per command listed for any of ``who``: ``/melden — een melding doen``."""
    prefix = "!" if ctx.chat.platform == BANG_COMMAND_PLATFORM else "/"
    lines = []
    for command in table():
        if not command.in_help or (command.listed_for or command.who) not in who:
            continue
        name = command.name_in(ctx.language)
        usage = f" {ctx.t(f'command.{command.key}.usage')}" if command.usage else ""
        lines.append(f"{prefix}{name}{usage} — {ctx.t(f'command.{command.key}.help')}")
    return Markup("\n".join(lines))
