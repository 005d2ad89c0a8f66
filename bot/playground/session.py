"""The running playground: the real bot on the in-process Bot API simulator, a demo park, a clock.

Everything goes the production way: the people below act in the simulator's world (as
Telegram users would), python-telegram-bot polls it through the real Telegram adapter, the
real handlers answer, and the real outbox dispatcher sends. Only the clock is manual: it
moves when the visitor moves it, and the sweeps then run as the scheduler would run them.
"""

import asyncio
import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from bot.bootstrap import Weerbaar, build, prepare_database
from bot.botapi_simulator import BOT_ID, FakeChat, FakeTelegram, FakeUser
from bot.botapi_simulator.recorded import Signal
from bot.playground.demo import (BOT_USERNAME, DEMO_PARK, DEMO_PARK_TABLE, PERSONAS, demo_config,
                                 local_to_utc, next_monday_morning, this_weeks_monday_morning, to_local)
from sqlmodel import select

from handlers import membership
from handlers.clock import ManualClock
from handlers.invites import create_invite
from handlers.working_time import WorkingTime
from storage.db import make_engine
from storage.models import Person
from storage.queries import park_by_slug

log = logging.getLogger(__name__)

SWEEP_STEP = timedelta(hours=1)  # moving the clock runs the sweeps at least this often
SETTLE_TIMEOUT = 15.0


class PlaygroundRefused(RuntimeError):
    """The playground will not run here (a database with real parks)."""


class Playground:
    """The demo deployment; every action waits until the bot has answered and delivered."""

    def __init__(self, database_path: Path, language: str = "nl", start: datetime | None = None):
        self.database_path = Path(database_path)
        self.language = language
        self.start_moment = start
        self.changed = Signal()
        self.version = 0
        self.clock = ManualClock(start or this_weeks_monday_morning())
        self.simulator: FakeTelegram | None = None
        self.app: Weerbaar | None = None
        self.people: dict[str, FakeUser] = {}
        self.group: FakeChat | None = None
        self._lock = asyncio.Lock()

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database_path.resolve()}"

    # ---- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        refuse_real_parks(self.database_path)
        self.clock = ManualClock(self.start_moment or this_weeks_monday_morning())
        # A token of the real form (so the config check accepts it) that only the simulator knows.
        token = f"{BOT_ID}:AA{secrets.token_hex(17)}"
        self.simulator = FakeTelegram(bot_username=BOT_USERNAME, bot_first_name="Weerbaar", token=token,
                                      clock=self.clock)
        # The clock stands still between the visitor's moves, so flood control would never lift.
        self.simulator.rate_limits = False
        await self.simulator.start()
        config = demo_config(self.database_url, self.simulator.base_url, self.simulator.base_file_url,
                             self.simulator.token)
        # No send pacing: the simulator enforces no flood control here, and the playground's clock
        # stands still between the visitor's clicks, so a paced second message would never go out.
        self.app = build(config, clock=self.clock, db=prepare_database(config), pacing={})
        await self.app.start(run_jobs=False)
        await self._meet_the_people(config.official_roles)
        self._bump()

    async def stop(self) -> None:
        if self.simulator is not None:  # the bot's long poll returns at once instead of after its timeout
            self.simulator.closing = True
            self.simulator.world.update_signal.fire()
        if self.app is not None:
            await self.app.stop()
            self.app.services.db.engine.dispose()
            self.app = None
        if self.simulator is not None:
            await self.simulator.stop()
            self.simulator = None

    async def reset(self, language: str | None = None) -> None:
        """Start over with an empty database (optionally in the other language)."""
        async with self._lock:
            await self.stop()
            self.database_path.unlink(missing_ok=True)
            if language:
                self.language = language
            self.people, self.group = {}, None
            await self.start()

    async def _meet_the_people(self, official_roles: tuple[str, ...]) -> None:
        """The personas redeem real invites and the admin links the group, as in the README."""
        simulator = self.simulator
        for persona in PERSONAS:
            self.people[persona.key] = simulator.add_user(persona.first_name, username=persona.username,
                                                          language_code=self.language)
        members = [self.people[p.key] for p in PERSONAS if p.in_group]
        title = "Ondernemers De Zuidpolder" if self.language == "nl" else "Zuidpolder business owners"
        self.group = simulator.add_group(title, members=members, creator=self.people["admin"])
        for persona in PERSONAS:
            if persona.role is not None:
                with self.app.services.db.transaction() as session:
                    code = create_invite(session, park_slug=DEMO_PARK, role=persona.role,
                                         allowed_roles=official_roles, now=self.clock.now(),
                                         valid_for=timedelta(days=7)).code
                self.people[persona.key].start(code)
                await self.settle()
        self.people["admin"].send(self.group, "/koppel" if self.language == "nl" else "/link")
        await self.settle()
        self._known_in_the_group()

    def _known_in_the_group(self) -> None:
        """The demo park has known its group's members for a while (as if they had spoken there), so
        ``/melden`` in a private chat works at once (handlers.membership asks only about known parks)."""
        with self.app.services.db.transaction() as session:
            park = park_by_slug(session, DEMO_PARK)
            for persona in PERSONAS:
                if not persona.in_group:
                    continue
                user = self.people[persona.key]
                person = session.exec(select(Person).where(
                    Person.platform == "telegram", Person.external_id == str(user.id))).first()
                if person is None:
                    person = Person(platform="telegram", external_id=str(user.id), display_name=persona.first_name,
                                    username=persona.username, created_at=self.clock.now())
                    session.add(person)
                    session.flush()
                membership.remember(session, person.id, park.id, self.clock.now())

    # ---- what the visitor does ------------------------------------------------------------------

    async def say(self, who: str, where: str, words: str) -> None:
        async with self._lock:
            self.people[who].send(self._chat(who, where), words)
            await self._after_action()

    async def press(self, who: str, where: str, message_id: int, data: str) -> str | None:
        """Press a button; returns the bot's answer to the press (a toast), if any."""
        async with self._lock:
            chat = self._chat(who, where)
            message = self.simulator.world.message(chat.id, message_id)
            if message is None:
                return None
            query = self.people[who].press(message, data)
            await self._after_action()
            answers = [a for a in self.simulator.answered_callbacks if a.id == query["id"]]
            return answers[-1].text if answers else None

    async def open_link(self, who: str, url: str) -> None:
        async with self._lock:
            self.people[who].open_link(url)
            await self._after_action()

    async def send_photo(self, who: str, content: bytes) -> None:
        async with self._lock:
            user = self.people[who]
            photo = self.simulator.world.new_photo(content, wrap=False)
            self.simulator.world.user_message(user, user.private, {"photo": photo})
            await self._after_action()

    async def send_location(self, who: str, latitude: float, longitude: float) -> None:
        async with self._lock:
            user = self.people[who]
            user.send_location(user.private, latitude, longitude)
            await self._after_action()

    async def advance(self, step: str) -> None:
        """'hour', 'workday' (same time on the next working day) or 'monday' (next Monday 09:00)."""
        async with self._lock:
            now = self.clock.now()
            if step == "hour":
                target = now + timedelta(hours=1)
            elif step == "workday":
                target = self._next_working_day(now)
            elif step == "monday":
                target = next_monday_morning(now)
            else:
                raise ValueError(step)
            while self.clock.now() < target:
                self.clock.set(min(target, self.clock.now() + SWEEP_STEP))
                await self.app.jobs.run_sweeps()
                await self.app.dispatcher.deliver_due()
            self._bump()

    # ---- what the page shows --------------------------------------------------------------------

    def chat_of(self, who: str, where: str) -> FakeChat:
        return self._chat(who, where)

    def history(self, chat: FakeChat) -> list[dict]:
        return self.simulator.world.chat_history(chat.current().id)

    def in_group(self, who: str) -> bool:
        status = self.group.current().members.get(self.people[who].id)
        return status in ("creator", "administrator", "member")

    def file(self, file_id: str) -> bytes | None:
        stored = self.simulator.world.files.get(file_id) if self.simulator else None
        return stored.content if stored else None

    def commands(self, who: str, where: str) -> list[dict]:
        """The command menu the person's app shows in that chat (as the bot registered it)."""
        scope = {"type": "all_private_chats" if where == "private" else "all_group_chats"}
        language = self.people[who].language_code or ""
        for candidate in ((scope, language), (scope, ""), (None, language), (None, "")):
            found = self.simulator.get_commands(*candidate)
            if found:
                return found
        return []

    def local_now(self) -> datetime:
        return to_local(self.clock.now())

    # ---- inside ---------------------------------------------------------------------------------

    def _chat(self, who: str, where: str) -> FakeChat:
        return self.group if where == "group" else self.people[who].private

    def _next_working_day(self, now: datetime) -> datetime:
        policy = DEMO_PARK_TABLE["working_hours"]
        hours = WorkingTime(DEMO_PARK_TABLE["timezone"], datetime.strptime(policy["start"], "%H:%M").time(),
                            datetime.strptime(policy["end"], "%H:%M").time(), frozenset(policy["days"]))
        local = to_local(now)
        day = local.date() + timedelta(days=1)
        while not hours.is_working(local_to_utc(day, datetime.strptime("12:00", "%H:%M").time())):
            day += timedelta(days=1)
        return local_to_utc(day, local.time().replace(tzinfo=None))

    async def _after_action(self) -> None:
        await self.settle()
        self._bump()

    async def settle(self) -> None:
        """Wait until the bot handled every update so far and sent what is due."""
        await self.app.telegram.wait_handled(self.simulator.updates_enqueued, timeout=SETTLE_TIMEOUT)
        await self.app.dispatcher.deliver_due()

    def _bump(self) -> None:
        self.version += 1
        self.changed.fire()


def refuse_real_parks(path: Path) -> None:
    """The playground fills and, on reset, deletes its database: only ever its own."""
    if not path.exists() or path.stat().st_size == 0:
        return
    engine = make_engine(f"sqlite:///{path.resolve()}")
    try:
        tables = inspect(engine).get_table_names()
        if "park" not in tables:
            if tables:
                raise PlaygroundRefused(f"{path} is not a Weerbaar database; the playground only runs on its own "
                                        "throwaway database")
            return
        with engine.connect() as connection:
            slugs = {row[0] for row in connection.execute(text("SELECT slug FROM park"))}
    except DatabaseError:
        raise PlaygroundRefused(f"{path} is not an SQLite database") from None
    finally:
        engine.dispose()
    others = sorted(slugs - {DEMO_PARK})
    if others:
        raise PlaygroundRefused(f"this database holds real parks ({', '.join(others)}); "
                                "the playground only runs on its own throwaway database")
