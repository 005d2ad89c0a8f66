"""The ``weerbaar`` command: run the bot, migrate the database, issue invites."""

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Config

DEFAULT_CONFIG = "config.toml"


def main(argv: list[str] | None = None) -> int:
    """The command line. The project's modules are imported here, not at the top: start-up makes
    a few hundred thousand objects (modules, classes, tables) that live as long as the process,
    and the cyclic collector walked them again and again while they were made (~15% of the
    imports' CPU, measured with ``bench/startup.py``). It is off until the bot runs (``_run``
    freezes what start-up made and turns it on) or the command is done."""
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def _main(argv: list[str] | None) -> int:
    from bot.cli_scan import add_scan_command, run_scan  # issue 12
    from bot.cli_stats import add_stats_command, run_stats
    from bot.config import ConfigError, load_config
    from bot.playground.runner import add_playground_options, run_playground
    from bot.safe_logging import configure_logging
    from storage.db import make_engine, upgrade

    config_option = argparse.ArgumentParser(add_help=False)
    config_option.add_argument("--config", default=argparse.SUPPRESS,
                               help="path to config.toml (default: $WEERBAAR_CONFIG or ./config.toml)")
    parser = argparse.ArgumentParser(prog="weerbaar", description="Weerbaar: safe reporting with feedback.",
                                     parents=[config_option])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", parents=[config_option], help="run the bot")
    run.add_argument("--playground-when-unconfigured", action="store_true",
                     help="without a config file, or with one that has neither [telegram] nor [matrix], "
                          "start the playground instead (what `make run` does)")
    playground = commands.add_parser("playground", help="try the whole loop in the browser, without any account")
    add_playground_options(playground)
    db = commands.add_parser("db", parents=[config_option], help="database tasks")
    db.add_argument("action", choices=["upgrade"], help="upgrade: migrate the schema to the latest version")
    invite = commands.add_parser("invite", parents=[config_option], help="print a single-use invite code and link")
    invite.add_argument("--park", required=True, help="park slug")
    invite.add_argument("--role", required=True, help="admin or an official role")
    invite.add_argument("--valid-for", default=None, help="how long the code works, e.g. 7d (default from config)")
    add_stats_command(commands, config_option)
    add_scan_command(commands, config_option)
    matrix = commands.add_parser("matrix", parents=[config_option], help="the bot's Matrix identity")
    matrix.add_argument("action", choices=["identity", "reset-identity"],
                        help="identity: print the cross-signing fingerprint people can compare; "
                             "reset-identity: replace the account's cross-signing keys with new ones (needs the "
                             "password; stop the bot first)")
    args = parser.parse_args(argv)
    if args.command == "playground" or getattr(args, "playground_when_unconfigured", False):
        playground_args = _playground_instead(args, parser)
        if playground_args is not None:
            logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
            gc.enable()  # the playground runs until stopped
            return run_playground(playground_args)
    config_path = getattr(args, "config", None) or os.environ.get("WEERBAAR_CONFIG", DEFAULT_CONFIG)
    try:
        # Only running the bot needs its secrets: invite, db, stats and matrix work before the first start.
        config = load_config(Path(config_path), require_login=args.command in ("run",))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging(config.log_level, config.log_format)
    if args.command == "db":
        upgrade(make_engine(config.database_url))
        print("database is up to date")
        return 0
    if args.command == "invite":
        return _invite(config, args)
    if args.command == "stats":
        return run_stats(config, args)
    if args.command == "scan-results":
        return run_scan(config, args)
    if args.command == "matrix":
        return asyncio.run(_matrix_identity(config, args.action))
    return asyncio.run(_run(config))


def _playground_instead(args, parser):
    """The playground's arguments for `weerbaar playground`, or for `run` when no platform is configured."""
    if args.command == "playground":
        return args
    config_path = getattr(args, "config", None) or os.environ.get("WEERBAAR_CONFIG", DEFAULT_CONFIG)
    if _has_platform(Path(config_path)):
        return None
    reason = "not found" if not Path(config_path).exists() else "has neither [telegram] nor [matrix]"
    print(f"{config_path} {reason}, so starting the playground.")
    return parser.parse_args(["playground"])


def _has_platform(path: Path) -> bool:
    """Whether the config file exists and names a platform (its other errors are for `run` to report)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, tomllib.TOMLDecodeError):
        return True
    return "telegram" in raw or "matrix" in raw


def _invite(config: "Config", args) -> int:
    from bot.bootstrap import prepare_database
    from handlers.clock import SystemClock
    from handlers.durations import parse_duration
    from handlers.invites import InviteError, create_invite
    from handlers.rendering import local_time

    db = prepare_database(config)
    try:
        valid_for = parse_duration(args.valid_for) if args.valid_for else config.invite_valid_for
        with db.transaction() as session:
            issued = create_invite(session, park_slug=args.park, role=args.role, allowed_roles=config.official_roles,
                                   now=SystemClock().now(), valid_for=valid_for)
    except (InviteError, ValueError) as error:
        print(f"cannot create the invite: {error}", file=sys.stderr)
        return 2
    until = local_time(issued.park, issued.expires_at, "en")
    print(f"Invite for {issued.role} of {issued.park.name}, single use, valid until {until} ({issued.park.timezone})")
    print(f"Code: {issued.code}")
    for hint in invite_hints(config, issued.code):
        print(hint)
    return 0


def invite_hints(config: "Config", code: str) -> list[str]:
    """How the invited person redeems the code, per configured platform."""
    hints = []
    if config.telegram is not None:
        username = config.telegram.bot_username
        if username:
            hints.append(f"Telegram link: https://t.me/{username}?start={code}")
        else:
            hints.append(f"Telegram: send the bot '/start {code}' in a private chat "
                         "(set telegram.bot_username to print a link)")
    if config.matrix is not None:
        hints.append(f"Matrix: open a direct chat with {config.matrix.user_id} and send '!start {code}'")
    return hints


async def _matrix_identity(config: "Config", action: str) -> int:
    from bot.matrix_cross_signing import CrossSigningError, describe_identity, fingerprint, reset_identity, saved_login

    if config.matrix is None:
        print("this configuration has no [matrix] section", file=sys.stderr)
        return 2
    try:
        login = saved_login(config.matrix)
        if action == "identity":
            print("\n".join(await describe_identity(login, config.matrix)))
        else:
            master = await reset_identity(login, config.matrix)
            print(f"New identity published; the bot's device is signed by it.\nMaster key fingerprint: "
                  f"{fingerprint(master)}")
    except CrossSigningError as error:
        print(f"weerbaar matrix {action}: {error}", file=sys.stderr)
        return 2
    except (OSError, ConnectionError) as error:
        print(f"cannot reach the homeserver: {error}", file=sys.stderr)
        return 1
    return 0


async def _run(config: "Config") -> int:
    from bot.bootstrap import build
    from bot.single_instance import AnotherInstance

    if config.telegram is None and config.matrix is None:
        print("neither [telegram] nor [matrix] is configured; `weerbaar playground` tries the bot without "
              "any account", file=sys.stderr)
        return 2

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # before starting: a stop during start-up is honoured too
        loop.add_signal_handler(signum, stop.set)
    app = build(config)
    app.add_fatal_listener(lambda message: stop.set())
    try:
        await app.start()
    except AnotherInstance as error:
        print(f"weerbaar: {error}", file=sys.stderr)
        await app.stop()
        return 3
    # What start-up made lives as long as the process: out of the collector's way from now on.
    gc.freeze()
    gc.enable()
    logging.getLogger(__name__).info("Weerbaar is running; Ctrl-C stops it")
    await stop.wait()
    await app.stop()
    if app.fatal:
        print(f"weerbaar: {app.fatal}", file=sys.stderr)
        return 3
    return 0
