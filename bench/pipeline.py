"""The pipeline side by side: the real bot and a bare python-telegram-bot bot on the same fake Bot API.

Each bot under test runs in a process of its own, as an operator runs it: Weerbaar as
``weerbaar run`` (``python -m bot run``) with a config file pointing at the fake, the bare
bot as ``python -m bench.bare_bot``, both long-polling ``getUpdates``. The fake Bot API and
the simulated people stay in the bench's process, so their CPU is not charged to the bot
(the real Bot API runs on Telegram's machines); on a 2-core machine each side has a core.
Both bots are treated alike: same process model, same fake, same round trip, the same
warm-up (one whole report and one /mijnmeldingen before the clock starts), and the clock
runs from the first message sent to the last answer arrived (start-up and, for Weerbaar,
the park's set-up are not timed).

The fake answers every call after a configurable network round trip (default 50 ms; real
Telegram: 30-150 ms). Flood control is off on both sides (``[telegram] pacing = "off"`` in
Weerbaar's config, the fake's limits off): the rows measure the pipeline (inbox,
transactions, outbox, dispatcher), not Telegram's 30 messages/s cap, which the bare bot
would ignore. The bot pacing itself at those limits is tested in tests/test_pacing.py.
"""

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bench.process_stats import cpu_seconds
from bot.config import load_config
from bot.park_setup import apply_parks
from handlers.clock import SystemClock
from handlers.invites import create_invite
from storage.db import Database, make_engine, upgrade
from tests.bot_process import to_toml
from tests.fake_telegram import FakeTelegram
from tests.harness import OTHER_PARK, PARK, park_table

TOKEN = "1000:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: A whole guided report as a person files it the first time: from the group's report button (a deep link).
REPORT_STEPS = [("text", f"/start m_{PARK}", 2), ("press", "Drugs", 1), ("text", "Loods 7, Spaanse Polderweg", 1),
                ("text", "gisteren rond 22 uur", 1), ("text", "Busjes met zware pakketten, elke nacht", 1),
                ("press", "Klaar", 1), ("press", "Anoniem", 1), ("press", "Nee", 1), ("press", "Versturen", 1)]
WAIT = 300.0
ROOT = Path(__file__).resolve().parent.parent
STARTUP_WAIT = 120.0
STOP_WAIT = 15.0


@dataclass
class Measured:
    rate: float
    seconds: float
    bot_cpu: float  # CPU seconds of the bot's process meanwhile
    bench_cpu: float  # of the bench's process (the fake Bot API and the people)


@dataclass
class Result:
    scenario: str
    backend: str
    weerbaar: float
    bare: float
    unit: str
    #: CPU seconds used during the measurement: (bot under test, bench process) for each bot.
    weerbaar_cpu: tuple[float, float] = (0.0, 0.0)
    bare_cpu: tuple[float, float] = (0.0, 0.0)
    seconds: tuple[float, float] = (0.0, 0.0)

    @property
    def ratio(self) -> float:
        return self.weerbaar / self.bare if self.bare else 0.0


@contextmanager
def database_url(backend: str, directory: Path) -> Iterator[str]:
    """A new, empty database for one measurement; a PostgreSQL schema is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory}/bench-{uuid.uuid4().hex[:6]}.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


@contextmanager
def database(backend: str, directory: Path) -> Iterator[Database]:
    """A new, migrated database (see ``database_url``), opened in the bench's process."""
    with database_url(backend, directory) as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            yield Database(engine)
        finally:
            engine.dispose()


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
        self.warm_up_person = server.add_user("Eerste")
        self.group = server.add_group("Ondernemers", members=[self.admin, *self.people, self.warm_up_person])
        for official in self.officials:
            official.started = True


async def start_server(latency: float) -> FakeTelegram:
    server = FakeTelegram(bot_username="weerbaar_bench_bot", token=TOKEN)
    server.rate_limits = False
    server.latency = latency
    await server.start()
    return server


def weerbaar_config(server: FakeTelegram, url: str, path: Path, pacing: str = "off") -> Path:
    """An operator's config for the fake: its address and, by default, no pacing (the throughput
    rows run the fake without flood control; ``pacing="telegram"`` keeps to Telegram's limits)."""
    path.write_text(to_toml({
        "database": {"url": url},
        "telegram": {"base_url": server.base_url, "base_file_url": server.base_file_url, "pacing": pacing},
        "bot": {"sweep_interval": "1d"},
        "parks": [park_table(PARK, "De Spaanse Polder", "SP"), park_table(OTHER_PARK, "Noorderveld", "NV")],
    }))
    return path


@asynccontextmanager
async def bot_process(server: FakeTelegram, arguments: list[str], log_path: Path, environ: dict | None = None):
    """A bot under test as a child process; ready once it polls the fake, stopped with SIGTERM."""
    polls_before = _polls(server)
    with log_path.open("a") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *arguments, cwd=str(ROOT), stdout=log, stderr=log,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(environ or {})})
    try:
        deadline = time.monotonic() + STARTUP_WAIT
        while _polls(server) <= polls_before:
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(arguments)} did not start polling:\n{log_path.read_text()[-2000:]}")
            try:
                await server.wait_for_calls("getUpdates", polls_before + 1, timeout=0.5)
            except TimeoutError:
                pass
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_WAIT)
            except TimeoutError:
                process.kill()
                await process.wait()


def _polls(server: FakeTelegram) -> int:
    return sum(1 for request in server.requests if request.method == "getUpdates")


@asynccontextmanager
async def weerbaar_running(server: FakeTelegram, backend: str, directory: Path, pacing: str = "off"):
    """``weerbaar run`` in a process of its own on a new database with the parks applied, talking
    to ``server``; yields the bench's handle on that database, the config and the process."""
    with database_url(backend, directory) as url:
        config_path = weerbaar_config(server, url, directory / f"weerbaar-{uuid.uuid4().hex[:6]}.toml", pacing)
        environ = {"WEERBAAR_TELEGRAM_TOKEN": TOKEN}
        config = load_config(config_path, environ=environ)
        engine = make_engine(url)
        try:
            upgrade(engine)
            db = Database(engine)
            with db.transaction() as session:
                apply_parks(session, config)
            async with bot_process(server, ["-m", "bot", "run", "--config", str(config_path)],
                                   directory / "weerbaar.log", environ) as process:
                yield db, config, process
        finally:
            engine.dispose()


def invite_code(db: Database, config, role: str) -> str:
    """A fresh invite for ``role`` in the bench's park, as an admin would hand it out."""
    with db.transaction() as session:
        return create_invite(session, park_slug=PARK, role=role, allowed_roles=config.official_roles,
                             now=SystemClock().now(), valid_for=config.invite_valid_for).code


async def scenario_on_weerbaar(backend: str, directory: Path, latency: float, people: int, scenario: str) -> Measured:
    server = await start_server(latency)
    world = World(server, people)
    try:
        async with weerbaar_running(server, backend, directory) as (db, config, process):
            await _set_up_park(server, world, db, config)
            await _warm_up(server, world)
            return await _measure(server, world, scenario, process.pid)
    finally:
        await server.stop()


async def _set_up_park(server: FakeTelegram, world: World, db: Database, config) -> None:
    for user, role in ((world.admin, "admin"), (world.officials[0], "police"), (world.officials[1], "municipality")):
        user.start(invite_code(db, config, role))
        await wait_for_count(server, user.private.id, 1)
    world.admin.send(world.group, "/koppel")
    await wait_for_count(server, world.group.id, 1)


async def scenario_on_bare(directory: Path, latency: float, people: int, scenario: str,
                           connections: int | None = None) -> Measured:
    server = await start_server(latency)
    world = World(server, people)
    officials = ",".join(str(official.id) for official in world.officials)
    pool = ["--connections", str(connections)] if connections else []
    try:
        async with bot_process(server, ["-m", "bench.bare_bot", "--base-url", server.base_url,
                                        "--officials", officials, *pool], directory / "bare.log",
                               {"BARE_BOT_TOKEN": TOKEN}) as process:
            await _warm_up(server, world)
            return await _measure(server, world, scenario, process.pid)
    finally:
        await server.stop()


async def _warm_up(server: FakeTelegram, world: World) -> None:
    """Before the clock, the same for both bots: one person files a whole report and asks for their
    reports, so what is done once per process (lazy imports such as the holiday calendar's on the
    first report) is not counted as throughput."""
    before = {official.id: len(arrivals(server).of(official.id)) for official in world.officials}
    await run_steps(server, world.warm_up_person, REPORT_STEPS + [("text", "/mijnmeldingen", 1)])
    for official in world.officials:
        await wait_for_count(server, official.id, before[official.id] + 1)


async def _measure(server: FakeTelegram, world: World, scenario: str, pid: int) -> Measured:
    """Per second: updates answered (``my_reports``) or whole reports filed and delivered (``reports``)."""
    bot_before, bench_before = cpu_seconds(pid), time.process_time()
    began = time.perf_counter()
    if scenario == "my_reports":
        for user in world.people:
            user.send(user.private, "/mijnmeldingen")
        for user in world.people:
            await wait_for_count(server, user.private.id, 1)
    else:
        before = {official.id: len(arrivals(server).of(official.id)) for official in world.officials}
        await asyncio.gather(*(run_steps(server, user, REPORT_STEPS) for user in world.people))
        for official in world.officials:
            await wait_for_count(server, official.id, before[official.id] + len(world.people))
    seconds = time.perf_counter() - began
    return Measured(len(world.people) / seconds, seconds, cpu_seconds(pid) - bot_before,
                    time.process_time() - bench_before)


async def compare(backend: str, directory: Path, latency: float, people: int, scenario: str,
                  bare_connections: int | None = None, rounds: int = 3) -> Result:
    """``rounds`` runs of each bot, taking turns (a fresh process and database each time); the
    median of each, so one run disturbed by the machine's other work does not decide the row."""
    weerbaar_runs, bare_runs = [], []
    for _ in range(rounds):
        weerbaar_runs.append(await scenario_on_weerbaar(backend, directory, latency, people, scenario))
        bare_runs.append(await scenario_on_bare(directory, latency, people, scenario, bare_connections))
    weerbaar, bare = _median(weerbaar_runs), _median(bare_runs)
    label = {"my_reports": f"{people} people send /mijnmeldingen at once",
             "reports": f"{people} people file a whole guided report at once"}[scenario]
    unit = "updates/s" if scenario == "my_reports" else "reports/s"
    return Result(label, backend, weerbaar.rate, bare.rate, unit, (weerbaar.bot_cpu, weerbaar.bench_cpu),
                  (bare.bot_cpu, bare.bench_cpu), (weerbaar.seconds, bare.seconds))


def _median(runs: list[Measured]) -> Measured:
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]
