"""One measuring run over one cached store: ``python bench/measure.py sqlite 100000 [--explain]``,
or the drain alone: ``python bench/measure.py sqlite 1000000 --drain``.

Prints one JSON object (the figures of that store) on its last line. Runs in its own process
so its peak RSS is the bot's own: the handlers, the sweep, the statistics with their chart.
The drain (``bench/drain.py``: a sweep, then the real bot's dispatcher and adapter sending every
digest) runs in a process of its own, because it also serves the fake Bot API, which is not
the bot; its peak is reported apart (``drain_peak_rss_mib``). Peaks are kept per phase
(``rss_phases_mib``). Times the project's own functions directly; no tracemalloc anywhere.
"""

import asyncio
import dataclasses
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, text  # noqa: E402
from sqlmodel import Session, col, func, select  # noqa: E402

from bench.process_stats import status_kib  # noqa: E402
from bench.store import (  # noqa: E402
    NOW, POSTGRES_DEFAULT, TELEGRAM_BASE_ID, Shape, ensure_postgres, ensure_sqlite, vacuum_postgres,
)
# What `weerbaar run` holds besides the handlers (python-telegram-bot, the dispatcher, the jobs),
# imported as a running bot has it, so the peak below is not a bot without its Telegram side.
import bot.bootstrap  # noqa: E402,F401
from handlers import router  # noqa: E402
from handlers.clock import ManualClock  # noqa: E402
from handlers.i18n import Translator  # noqa: E402
from handlers.messages import Chat, Incoming, Sender  # noqa: E402
from handlers.services import Services  # noqa: E402
from handlers.sweeps import (  # noqa: E402
    REMINDER_CHUNK, expire_idle_drafts, prune_delivered_messages, send_due_reminders,
)
from storage.db import Database, make_engine  # noqa: E402
from storage.models import OutboxMessage, ParkMember, Report  # noqa: E402

POSTGRES = os.environ.get("WEERBAAR_BENCH_POSTGRES", POSTGRES_DEFAULT)
LARGE_TABLES = ("report", "reportrecipient", "person", "outboxmessage", "reportevent", "role")
NETWORK_LATENCY = 0.05  # a membership question to Telegram takes about this long


class MemoryPhases:
    """Peak RSS (MiB) of this process per phase: ``/proc/self/clear_refs`` resets the peak at each
    phase's start (Linux), so each figure is what that phase alone brought the process to."""

    def __init__(self):
        self.peaks: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass  # the peak then covers everything before too: still an upper bound
        try:
            yield
        finally:
            self.peaks[name] = status_kib(os.getpid(), "VmHWM") / 1024


class RecordingPort:
    """Answers membership questions after a network's delay, and counts them."""

    def __init__(self):
        self.questions = 0

    async def is_group_member(self, chat_id: str, user_id: str) -> bool:
        self.questions += 1
        await asyncio.sleep(NETWORK_LATENCY)
        return True

    def private_chat_link(self, payload: str) -> str:
        return f"https://t.me/bench_bot?start={payload}"


def reset(db: Database) -> None:
    """Put the store back as built: the due reports due again, no messages of earlier runs."""
    with db.transaction() as session:
        session.execute(text(
            "update report set reminder_count = case when park_id % 10 = 1 then 2 else 0 end, "
            "last_reminded_at = null, escalated_at = null, next_reminder_at = :due "
            "where id % 10 = 0"), {"due": NOW - timedelta(hours=1)})
        session.execute(text("delete from outboxmessage where status <> 'sent' or purpose <> 'reply' "
                             "or text <> 'oud bericht'"))
        # Delivered messages of the last month, a thirty-first of them past the retention: what a
        # daily prune meets (the store was built with all of them old).
        session.execute(text("update outboxmessage set created_at = :recent where id % 31 <> 0 "
                             "and created_at < :recent and text = 'oud bericht'"), {"recent": NOW - timedelta(days=1)})
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("analyze outboxmessage"))  # as autovacuum would after such a change
        session.execute(text("delete from reportevent"))
        # The monthly summaries of /statistiek alles (storage/figures_months.py): counted afresh
        # by the first one of each run, which the table shows on a row of its own.
        session.execute(text("update figuresmonth set summary = null, summary_version = null"))
        session.execute(text("delete from parkmember"))
        session.execute(text("delete from reportdraft"))
        # What a start-up measurement (bench/startup.py) left: updates a fresh fake Bot API numbers again.
        session.execute(text("delete from inboxupdate"))
        session.execute(text("delete from lease"))


def person_says(shape_id: int, command: str, args: str = "") -> Incoming:
    external = str(TELEGRAM_BASE_ID + shape_id)
    return Incoming(sender=Sender("telegram", external, f"Persoon {shape_id}", language_code="nl"),
                    chat=Chat("telegram", external, is_private=True),
                    text=f"/{command} {args}".strip(), command=command, args=args)


async def answer_then_files(engine, handling, answered: list[float]) -> None:
    """Run a handling and note when its answer was committed (the first commit after a message
    was put in the outbox): ``/statistiek`` commits the figures' text first; the chart is drawn
    and the CSV made after that transaction, in a worker thread, each enqueued on its own."""
    began, moments = time.perf_counter(), {}

    def enqueued(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().lower().startswith("insert into outboxmessage"):
            moments.setdefault("enqueued", True)

    def committed(connection) -> None:
        if "enqueued" in moments:
            moments.setdefault("answered", time.perf_counter())
    event.listen(engine, "before_cursor_execute", enqueued)
    event.listen(engine, "commit", committed)
    try:
        await handling
    finally:
        event.remove(engine, "before_cursor_execute", enqueued)
        event.remove(engine, "commit", committed)
    answered.append(moments["answered"] - began)


async def timed(action, runs: int = 5) -> float:
    """Median seconds of ``runs`` calls after one warm-up call."""
    await action()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


async def measure_drain(backend: str, reports: int) -> dict:
    """The drain alone, in a process of its own (it serves the fake Bot API too)."""
    from bench.drain import drain  # the bot's Telegram side and the fake Bot API: only here

    memory = MemoryPhases()
    with memory.phase("start: imports, store opened and reset"):
        engine, db, services, _ = _open(backend, reports)
    with memory.phase("drain: sweep, then the dispatcher sends every digest to the fake Bot API"):
        figures = await drain(services)
    figures["drain_rss_phases_mib"] = memory.peaks
    figures["drain_peak_rss_mib"] = max(memory.peaks.values())
    reset(db)
    engine.dispose()
    return figures


async def measure(backend: str, reports: int, explain: bool) -> dict:
    memory = MemoryPhases()
    with memory.phase("start: imports, store opened and reset"):
        engine, db, services, port = _open(backend, reports)
    shape = Shape()
    figures: dict = {"backend": backend, "reports": reports}

    async def handle(incoming: Incoming):
        await router.handle(services, incoming)

    with memory.phase("sweep"):
        figures.update(_sweep(engine, services))

    if backend == "postgresql":
        # The sweep just rewrote 100,000 rows spread over the whole table; autovacuum would now
        # refresh the visibility map that index-only scans (the statistics) rely on.
        vacuum_postgres(engine, ("report", "reportrecipient", "outboxmessage"))

    with memory.phase("/open and /mijnmeldingen"):
        figures["open_s"] = await timed(lambda: handle(person_says(shape.coordinator, "open")))
        figures["mine_s"] = await timed(lambda: handle(person_says(shape.frequent_reporter, "mijnmeldingen")))
    with memory.phase("/statistiek with chart and CSV"):
        for key, args in (("stats_park", ""), ("stats_all", "alles")):
            answered: list[float] = []
            figures[f"{key}_files_s"] = await timed(
                lambda args=args: answer_then_files(engine, handle(person_says(shape.admin_of(0), "statistiek", args)),
                                                    answered))
            figures[f"{key}_s"] = statistics.median(answered[1:])
        figures["stats_all_first_s"] = answered[0]  # reset() left no monthly summary: all counted afresh

    with memory.phase("/melden"):
        reporter = await _melden(db, services, port, shape, handle, figures)

    if explain and backend == "postgresql":
        with memory.phase("plans"):
            figures["plans"] = await explain_plans(services, engine, shape, handle, reporter)
    figures["rss_phases_mib"] = memory.peaks
    figures["peak_rss_mib"] = max(memory.peaks.values())
    reset(db)
    engine.dispose()
    return figures


def _open(backend: str, reports: int):
    if backend == "sqlite":
        engine = make_engine(ensure_sqlite(reports, say=lambda line: print(line, file=sys.stderr)))
    else:
        engine = ensure_postgres(POSTGRES, reports, say=lambda line: print(line, file=sys.stderr))
    db = Database(engine)
    port = RecordingPort()
    services = Services(db=db, clock=ManualClock(NOW), texts=Translator.load(), platforms={"telegram": port})
    reset(db)
    return engine, db, services, port


def _sweep(engine, services: Services) -> dict:
    """The whole sweep: every due report reminded, one digest per official and admin."""
    with Session(engine) as session:
        due = session.exec(select(func.count()).select_from(Report).where(
            Report.status == "open", col(Report.next_reminder_at) <= NOW, col(Report.first_feedback_at).is_(None))).one()
    began = time.perf_counter()
    reminded = send_due_reminders(services)
    sweep = time.perf_counter() - began
    with Session(engine) as session:
        digests = dict(session.exec(select(OutboxMessage.purpose, func.count()).where(
            OutboxMessage.status == "pending").group_by(OutboxMessage.purpose)).all())
    chunks = -(-reminded // REMINDER_CHUNK)
    return dict(due=due, reminded=reminded, sweep_s=sweep, chunk_s=sweep / max(chunks, 1),
                reminder_digests=digests.get("reminder", 0), escalation_digests=digests.get("escalation", 0))


async def _melden(db: Database, services: Services, port: RecordingPort, shape: Shape, handle, figures: dict) -> int:
    """/melden by a reporter known in several parks, asking the platform about membership every time."""
    reporter = shape.reporters.start + 7
    with db.transaction() as session:
        session.add(ParkMember(person_id=reporter, park_id=1, since=NOW))
    services.membership_cache.ttl = timedelta(0)  # every /melden asks the platform again

    asked_before, samples = port.questions, []
    for _ in range(6):
        await handle(person_says(reporter, "stop"))
        began = time.perf_counter()
        await handle(person_says(reporter, "melden"))
        samples.append(time.perf_counter() - began)
    figures["melden_s"] = statistics.median(samples[1:])
    figures["melden_questions"] = (port.questions - asked_before) / len(samples)
    return reporter


class RollbackDatabase(Database):
    """Runs every unit of work and then undoes it: the plans are taken without changing the store."""

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()


async def explain_plans(services, engine, shape, handle, reporter) -> list[dict]:
    """The PostgreSQL plans of every statement the hot paths run; marks sequential scans of large tables."""
    reset(services.db)
    services = dataclasses.replace(services, db=RollbackDatabase(engine))

    async def handle(incoming: Incoming):
        await router.handle(services, incoming)
    statements: dict[str, tuple] = {}

    def capture(conn, cursor, statement, parameters, context, executemany):
        if not executemany and re.match(r"\s*(select|update|delete)\b", statement, re.I):
            statements.setdefault(statement, parameters)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        send_due_reminders(services)
        expire_idle_drafts(services)
        prune_delivered_messages(services)
        for incoming in (person_says(shape.coordinator, "open"), person_says(shape.frequent_reporter, "mijnmeldingen"),
                         person_says(shape.admin_of(0), "statistiek"),
                         person_says(shape.admin_of(0), "statistiek", "alles"),
                         person_says(reporter, "stop"), person_says(reporter, "melden")):
            await handle(incoming)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements.items():
            cursor.execute("explain " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            scans = re.findall(r"Seq Scan on (\w+)", plan)
            plans.append({"statement": " ".join(statement.split())[:160], "plan": plan,
                          "seq_scans_of_large": sorted({table for table in scans if table in LARGE_TABLES})})
        raw.rollback()
    finally:
        raw.close()
    return plans


def main() -> None:
    backend, reports = sys.argv[1], int(sys.argv[2])
    if "--drain" in sys.argv:
        figures = asyncio.run(measure_drain(backend, reports))
    else:
        figures = asyncio.run(measure(backend, reports, "--explain" in sys.argv))
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()
