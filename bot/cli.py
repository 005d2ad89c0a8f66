"""The ``weerbaar`` command: run the bot, migrate the database, issue invites."""

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from bot.cli_stats import add_stats_command, run_stats
from bot.config import Config, ConfigError, load_config
from bot.safe_logging import configure_logging
from handlers.clock import SystemClock
from handlers.invites import InviteError, create_invite
from handlers.durations import parse_duration
from storage.db import Database, make_engine, upgrade

DEFAULT_CONFIG = "config.toml"


def main(argv: list[str] | None = None) -> int:
    config_option = argparse.ArgumentParser(add_help=False)
    config_option.add_argument("--config", default=argparse.SUPPRESS,
                               help="path to config.toml (default: $WEERBAAR_CONFIG or ./config.toml)")
    parser = argparse.ArgumentParser(prog="weerbaar", description="Weerbaar: safe reporting with feedback.",
                                     parents=[config_option])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", parents=[config_option], help="run the bot")
    db = commands.add_parser("db", parents=[config_option], help="database tasks")
    db.add_argument("action", choices=["upgrade"], help="upgrade: migrate the schema to the latest version")
    invite = commands.add_parser("invite", parents=[config_option], help="print a single-use invite code and link")
    invite.add_argument("--park", required=True, help="park slug")
    invite.add_argument("--role", required=True, help="admin or an official role")
    invite.add_argument("--valid-for", default=None, help="how long the code works, e.g. 7d (default from config)")
    add_stats_command(commands, config_option)
    args = parser.parse_args(argv)
    config_path = getattr(args, "config", None) or os.environ.get("WEERBAAR_CONFIG", DEFAULT_CONFIG)
    try:
        config = load_config(Path(config_path))
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
    return asyncio.run(_run(config))


def _invite(config: Config, args) -> int:
    from bot.bootstrap import prepare_database

    db: Database = prepare_database(config)
    try:
        valid_for = parse_duration(args.valid_for) if args.valid_for else config.invite_valid_for
        with db.transaction() as session:
            issued = create_invite(session, park_slug=args.park, role=args.role, allowed_roles=config.official_roles,
                                   now=SystemClock().now(), valid_for=valid_for)
    except (InviteError, ValueError) as error:
        print(f"cannot create the invite: {error}", file=sys.stderr)
        return 2
    print(f"Invite for {issued.role} of {issued.park.name}, single use, valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC")
    print(f"Code: {issued.code}")
    username = config.telegram.bot_username if config.telegram else None
    if username:
        print(f"Telegram link: https://t.me/{username}?start={issued.code}")
    else:
        print("Telegram: send the bot '/start CODE' in a private chat (set telegram.bot_username to print a link)")
    return 0


async def _run(config: Config) -> int:
    from bot.bootstrap import build

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # before starting: a stop during start-up is honoured too
        loop.add_signal_handler(signum, stop.set)
    app = build(config)
    await app.start()
    logging.getLogger(__name__).info("Weerbaar is running; Ctrl-C stops it")
    await stop.wait()
    await app.stop()
    return 0
