"""The pipeline side by side: the real bot and a bare python-telegram-bot bot on the same fake Bot API.

The fake answers every call after a configurable network round trip (default 50 ms; real
Telegram: 30-150 ms). Flood control is off on both sides: the rows measure the pipeline
(inbox, transactions, outbox, dispatcher), not Telegram's 30 messages/s cap, which the bare
bot would ignore. The bot pacing itself at those limits is tested in tests/test_pacing.py.
"""

import asyncio
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.bare_bot import bare_bot
from bot.bootstrap import build
from handlers.clock import SystemClock
from handlers.invites import create_invite
from bot.park_setup import apply_parks
from storage.db import Database, make_engine, upgrade
from tests.fake_telegram import FakeTelegram
from tests.harness import PARK, bot_config

TOKEN = "1000:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: A whole guided report as a person files it the first time: from the group's report button (a deep link).
REPORT_STEPS = [("text", f"/start m_{PARK}", 2), ("press", "Drugs", 1), ("text", "Loods 7, Spaanse Polderweg", 1),
                ("text", "gisteren rond 22 uur", 1), ("text", "Busjes met zware pakketten, elke nacht", 1),
                ("press", "Klaar", 1), ("press", "Anoniem", 1), ("press", "Nee", 1), ("press", "Versturen", 1)]
WAIT = 300.0


@dataclass
class Result:
    scenario: str
    backend: str
    weerbaar: float
    bare: float
    unit: str

    @property
    def ratio(self) -> float:
        return self.weerbaar / self.bare if self.bare else 0.0


@contextmanager
def database(backend: str, directory: Path):
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{directory}/bench-{uuid.uuid4().hex[:6]}.db")
        upgrade(engine)
        yield Database(engine)
        engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"}, pool_pre_ping=True,
                           pool_size=12, max_overflow=10)
    try:
        upgrade(engine)
        yield Database(engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


class Arrivals:
    """The bot's messages per chat, counted incrementally (scanning every message per wait would
    cost the harness more CPU than the bots it measures)."""

    def __init__(self, server: FakeTelegram):
        self.server = server
        self.scanned = 0
        self.per_chat: dict[int, list] = {}

    def of(self, chat_id: int) -> list:
        sent = self.server.world.sent
        for message in sent[self.scanned:]:
            self.per_chat.setdefault(message.chat_id, []).append(message)
        self.scanned = len(sent)
        return self.per_chat.get(chat_id, [])


def arrivals(server: FakeTelegram) -> Arrivals:
    if not hasattr(server, "bench_arrivals"):
        server.bench_arrivals = Arrivals(server)
    return server.bench_arrivals


async def wait_for_count(server: FakeTelegram, chat_id: int, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while len(arrivals(server).of(chat_id)) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"chat {chat_id}: {len(arrivals(server).of(chat_id))} of {count} messages")
        await server.world.message_signal.wait(remaining)


async def run_steps(server: FakeTelegram, user, steps) -> None:
    expected = len(arrivals(server).of(user.private.id))
    for kind, value, replies in steps:
        if kind == "text":
            user.send(user.private, value)
        else:
            message = arrivals(server).of(user.private.id)[-1]
            data = next(button["callback_data"] for row in message.buttons for button in row
                        if value.lower() in button["text"].lower())
            user.press(message, data)
        expected += replies
        await wait_for_count(server, user.private.id, expected)


class World:
    """A fake Bot API with latency, an admin, two officials and ``people`` members of the park's group."""

    def __init__(self, server: FakeTelegram, people: int):
        self.server = server
        self.admin = server.add_user("Anna")
        self.officials = [server.add_user("Piet"), server.add_user("Gwen")]
        self.people = [server.add_user(f"Person {n}") for n in range(people)]
        self.group = server.add_group("Ondernemers", members=[self.admin, *self.people])
        for official in self.officials:
            official.started = True


async def start_server(latency: float) -> FakeTelegram:
    server = FakeTelegram(bot_username="weerbaar_bench_bot", token=TOKEN)
    server.rate_limits = False
    server.latency = latency
    await server.start()
    return server


async def scenario_on_weerbaar(backend: str, directory: Path, latency: float, people: int, scenario: str) -> float:
    server = await start_server(latency)
    world = World(server, people)
    try:
        with database(backend, directory) as db:
            config = bot_config(server, log_level="WARNING")
            with db.transaction() as session:
                apply_parks(session, config)
            app = build(config, clock=SystemClock(), db=db, pacing={})
            await app.start(run_jobs=False)
            try:
                await _set_up_park(app, server, world, db, config)
                return await _measure(server, world, scenario)
            finally:
                await app.stop()
    finally:
        await server.stop()


async def _set_up_park(app, server: FakeTelegram, world: World, db, config) -> None:
    def code(role: str) -> str:
        with db.transaction() as session:
            return create_invite(session, park_slug=PARK, role=role, allowed_roles=config.official_roles,
                                 now=SystemClock().now(), valid_for=config.invite_valid_for).code
    for user, role in ((world.admin, "admin"), (world.officials[0], "police"), (world.officials[1], "municipality")):
        user.start(code(role))
        await wait_for_count(server, user.private.id, 1)
    world.admin.send(world.group, "/koppel")
    await wait_for_count(server, world.group.id, 1)


async def scenario_on_bare(directory: Path, latency: float, people: int, scenario: str) -> float:
    server = await start_server(latency)
    world = World(server, people)
    application = bare_bot(TOKEN, server.base_url, [official.id for official in world.officials])
    try:
        await application.initialize()
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=10)
        return await _measure(server, world, scenario)
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await server.stop()


async def _measure(server: FakeTelegram, world: World, scenario: str) -> float:
    """Per second: updates answered (``my_reports``) or whole reports filed and delivered (``reports``)."""
    began = time.perf_counter()
    if scenario == "my_reports":
        for user in world.people:
            user.send(user.private, "/mijnmeldingen")
        for user in world.people:
            await wait_for_count(server, user.private.id, 1)
        return len(world.people) / (time.perf_counter() - began)
    before = {official.id: len(arrivals(server).of(official.id)) for official in world.officials}
    await asyncio.gather(*(run_steps(server, user, REPORT_STEPS) for user in world.people))
    for official in world.officials:
        await wait_for_count(server, official.id, before[official.id] + len(world.people))
    return len(world.people) / (time.perf_counter() - began)


async def compare(backend: str, directory: Path, latency: float, people: int, scenario: str) -> Result:
    weerbaar = await scenario_on_weerbaar(backend, directory, latency, people, scenario)
    bare = await scenario_on_bare(directory, latency, people, scenario)
    label = {"my_reports": f"{people} people send /mijnmeldingen at once",
             "reports": f"{people} people file a whole guided report at once"}[scenario]
    unit = "updates/s" if scenario == "my_reports" else "reports/s"
    return Result(label, backend, weerbaar, bare, unit)
