"""Runs the real bot (bootstrap, python-telegram-bot, outbox, jobs) against the fake Bot API."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.bootstrap import Weerbaar, build
from bot.config import parse_config
from bot.park_setup import apply_parks
from handlers.clock import ManualClock
from handlers.invites import create_invite
from storage.db import Database
from storage.models import OutboxMessage, Report
from tests.fake_telegram import FakeTelegram

# Monday 30 November 2026, 09:00 in Amsterdam.
START = datetime(2026, 11, 30, 8, 0)
PARK = "spaanse-polder"
OTHER_PARK = "noorderveld"


def park_table(slug: str, name: str, prefix: str) -> dict:
    return {
        "slug": slug, "name": name, "prefix": prefix, "timezone": "Europe/Amsterdam",
        "reminders": {"first_after": "4h", "repeat_every": "2h", "escalate_after": 2,
                      "urgent_first_after": "30m", "urgent_repeat_every": "30m"},
        "working_hours": {"start": "08:00", "end": "18:00", "days": [1, 2, 3, 4, 5]},
        "categories": [
            {"key": "drugs", "name_nl": "Drugs", "name_en": "Drugs", "roles": ["police", "municipality"]},
            {"key": "vastgoed", "name_nl": "Vastgoed", "name_en": "Real estate", "roles": ["municipality"]},
            {"key": "brand", "name_nl": "Brandgevaar", "name_en": "Fire hazard", "roles": ["fire_brigade"]},
        ],
    }


def bot_config(server: FakeTelegram | None, db_url: str = "sqlite:///unused.db", matrix: dict | None = None,
               matrix_env: dict | None = None, **bot_options):
    """The test deployment: Telegram on the fake Bot API (if ``server``), Matrix (if ``matrix``)."""
    raw = {
        "database": {"url": db_url},
        # Time stands still in tests, so no flood limit unless a test asks for one.
        "bot": {"draft_idle_timeout": "2h", "sweep_interval": "1h", "flood_per_minute": 0, **bot_options},
        "parks": [park_table(PARK, "De Spaanse Polder", "SP"), park_table(OTHER_PARK, "Noorderveld", "NV")],
    }
    environ = dict(matrix_env or {})
    if server is not None:
        raw["telegram"] = {"base_url": server.base_url, "base_file_url": server.base_file_url}
        environ["WEERBAAR_TELEGRAM_TOKEN"] = server.token
    if matrix is not None:
        raw["matrix"] = matrix
    return parse_config(raw, environ=environ)


class Harness:
    """The bot under test, its fake Telegram and its clock; tests talk as users would."""

    def __init__(self, server: FakeTelegram | None, db: Database, clock: ManualClock | None = None,
                 matrix: dict | None = None, matrix_env: dict | None = None):
        self.server = server
        self.db = db
        self.clock = clock or ManualClock(START)
        self.config = bot_config(server, matrix=matrix, matrix_env=matrix_env)
        with db.transaction() as session:
            apply_parks(session, self.config)
        self.app: Weerbaar | None = None
        self._handled_before = 0

    async def start(self) -> None:
        # The fake enforces Telegram's flood control only when a test turns it on; the bot paces
        # itself on the same (manual) clock then, and not otherwise, so time need not move per message.
        paced = self.server is not None and self.server.rate_limits
        self.app = build(self.config, clock=self.clock, db=self.db, pacing=None if paced else {})
        await self.app.start(run_jobs=False)

    async def stop(self) -> None:
        if self.app is not None:
            if self.app.telegram is not None:
                self._handled_before += self.app.telegram.handled_updates
            await self.app.stop()
            self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def settle(self) -> None:
        """Wait until every update sent so far is handled and every due message delivered."""
        if self.app.telegram is not None:
            await self.app.telegram.wait_handled(self.server.updates_enqueued - self._handled_before)
        await self.app.dispatcher.deliver_due()

    async def advance(self, delta: timedelta) -> None:
        """Move time forward and run the periodic sweeps, as the scheduler would."""
        self.clock.advance(delta)
        await self.app.jobs.run_sweeps()
        await self.settle()

    def invite(self, role: str, park: str = PARK, valid_for: timedelta = timedelta(days=7)) -> str:
        with self.db.transaction() as session:
            return create_invite(session, park_slug=park, role=role, allowed_roles=self.config.official_roles,
                                 now=self.clock.now(), valid_for=valid_for).code

    async def verify(self, user, role: str, park: str = PARK) -> None:
        user.start(self.invite(role, park))
        await self.settle()

    def reports(self) -> list[Report]:
        with Session(self.db.engine) as session:
            return list(session.exec(select(Report).order_by(Report.id)))

    def outbox(self) -> list[OutboxMessage]:
        with Session(self.db.engine) as session:
            return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
