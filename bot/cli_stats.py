"""``weerbaar stats``: a park's reciprocity figures as CSV on stdout."""

import argparse
import sys
from datetime import date, timedelta

from bot.config import Config
from handlers.clock import SystemClock
from handlers.i18n import Translator
from handlers.statistics import (PeriodError, figure_rows, figures_to_csv, local_midnight_utc, park_figures,
                                 parse_period)
from storage.queries import park_by_slug

_INSTANT = timedelta(microseconds=1)


def add_stats_command(subparsers, config_option_parser: argparse.ArgumentParser) -> None:
    stats = subparsers.add_parser(
        "stats", parents=[config_option_parser],
        help="print a park's reciprocity figures as CSV",
        description="Reports, share with feedback, time to first feedback, ratings and overdue reports of the "
                    "reports delivered in a period: one row for the park, one per category, one per role. "
                    "Durations are in seconds, shares are decimals; blank means there is nothing to measure.")
    stats.add_argument("--park", required=True, help="park slug")
    stats.add_argument("--period", default="",
                       help="7d, 30d, week, month, year or all: whole days ending today, or the day before "
                            "--until (default: 30 days)")
    stats.add_argument("--since", type=_date, default=None,
                       help="first day, YYYY-MM-DD in the park's timezone (overrides the period's start)")
    stats.add_argument("--until", type=_date, default=None,
                       help="day after the last day, YYYY-MM-DD, exclusive (overrides the period's end)")
    stats.add_argument("--role", default=None, help="only reports routed to this official role")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def run_stats(config: Config, args) -> int:
    from bot.bootstrap import prepare_database

    if args.role is not None and args.role not in config.official_roles:
        print(f"unknown role {args.role!r}; known: {', '.join(config.official_roles)}", file=sys.stderr)
        return 2
    db = prepare_database(config)
    now = SystemClock().now()
    with db.transaction() as session:
        park = park_by_slug(session, args.park)
        if park is None:
            print(f"unknown park {args.park!r}", file=sys.stderr)
            return 2
        # The period ends with today, or with the day before --until when that is given.
        last_moment = now if args.until is None else local_midnight_utc(args.until, park.timezone) - _INSTANT
        try:
            since, until, _label = parse_period(args.period, last_moment, park.timezone)
        except PeriodError as error:
            print(Translator.load()("en", error.key), file=sys.stderr)
            return 2
        if args.since is not None:
            since = local_midnight_utc(args.since, park.timezone)
        if since >= until:
            print("the period is empty: --since must come before --until", file=sys.stderr)
            return 2
        figures = park_figures(session, park.id, since, until, now, role=args.role)
    sys.stdout.write(figures_to_csv(figure_rows(figures)))
    return 0
