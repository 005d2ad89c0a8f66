"""``weerbaar scan-results``: a park's closed scans as CSV on stdout (k-anonymous counts only)."""

import argparse
import sys

from bot.config import Config
from handlers.park_scan_results import results_csv
from storage.queries import park_by_slug


def add_scan_command(subparsers, config_option_parser: argparse.ArgumentParser) -> None:
    scan = subparsers.add_parser(
        "scan-results", parents=[config_option_parser], help="print a park's scan results as CSV",
        description="One row per closed scan, question and answer with its count; scans and questions with "
                    "fewer than 5 respondents are left out.")
    scan.add_argument("--park", required=True, help="park slug")


def run_scan(config: Config, args) -> int:
    from bot.bootstrap import prepare_database

    db = prepare_database(config)
    with db.transaction() as session:
        park = park_by_slug(session, args.park)
        if park is None:
            print(f"unknown park {args.park!r}", file=sys.stderr)
            return 2
        text = results_csv(session, park.id)
    sys.stdout.write(text)
    return 0
