"""Benchmarks: the pipeline side by side with a bare python-telegram-bot bot, and handler latency.

Run with ``make bench``. First one table: the real bot (``weerbaar run`` in its own process)
next to a bare PTB bot (in its own process too) on the same fake Bot API with a network round
trip of ``--latency`` ms (default 50), 200 people at once and 50 whole guided reports at once,
the median of ``--rounds`` runs each (``bench/pipeline.py``; budget: a ratio of at least
``BUDGET``, 0.8×), and the fan-out of one
report with 3 photos to 25 officials and of 100 reports at once with the fake's flood control
on (``bench/fanout.py``; budget: within 10% of the fastest time Telegram's limits allow, no
429), on SQLite and PostgreSQL. The command exits non-zero when a budget is missed. Then the handler
latency: a message through ``router.handle`` under 20 ms at the median on the 2-core
reference machine (measured 2026-11-29: 3.9 ms, p90 7.7 ms). Sweeps, queries and memory at
national scale, and the board's chart, are measured by ``bench/national.py``, which
``make bench`` runs next.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import select  # noqa: E402

from bot.config import parse_config  # noqa: E402
from bot.park_setup import apply_parks  # noqa: E402
from handlers import router  # noqa: E402
from handlers.clock import ManualClock  # noqa: E402
from handlers.i18n import Translator  # noqa: E402
from handlers.messages import ButtonPress, Chat, Incoming, Sender  # noqa: E402
from handlers.services import Services  # noqa: E402
from storage.db import Database, make_engine, upgrade  # noqa: E402
from storage.models import Category, GroupChat, Person, ReportDraft  # noqa: E402

START = datetime(2026, 11, 30, 8, 0)
BUDGET = 0.8


class AlwaysMember:
    async def is_group_member(self, chat_id: str, user_id: str) -> bool:
        return True

    def private_chat_link(self, payload: str) -> str:
        return f"https://t.me/bench_bot?start={payload}"


def services_for(directory: Path) -> Services:
    db = Database(make_engine(f"sqlite:///{directory}/bench.db"))
    upgrade(db.engine)
    raw = {"parks": [{"slug": "sp", "name": "SP", "prefix": "SP", "categories": [
        {"key": "drugs", "name_nl": "Drugs", "name_en": "Drugs", "roles": ["police"]}]}]}
    with db.transaction() as session:
        apply_parks(session, parse_config(raw, environ={}))
        admin = Person(platform="telegram", external_id="1", created_at=START, private_chat_id="1")
        session.add(admin)
        session.flush()
        session.add(GroupChat(park_id=1, platform="telegram", chat_id="-100", linked_by_person_id=admin.id,
                              linked_at=START))
    return Services(db=db, clock=ManualClock(START), texts=Translator.load(), platforms={"telegram": AlwaysMember()})


async def message_latency(services: Services, reporters: int = 50) -> list[float]:
    timings = []
    for n in range(reporters):
        sender = Sender("telegram", str(1000 + n), f"Reporter {n}", language_code="nl")
        chat = Chat("telegram", str(1000 + n), is_private=True)

        async def send(sender=sender, chat=chat, **fields):
            began = time.perf_counter()
            await router.handle(services, Incoming(sender=sender, chat=chat, **fields))
            timings.append(time.perf_counter() - began)

        def press(value, sender=sender):
            with services.db.transaction() as session:
                draft = session.exec(select(ReportDraft).where(ReportDraft.person_id == _person_id(session, sender))).one()
                return ButtonPress(data=f"d{draft.id}:{draft.step}:{value}")

        await send(text="/start m_sp", command="start", args="m_sp")  # from the group's report button
        with services.db.transaction() as session:
            category = session.exec(select(Category)).first().id
        await send(press=press(str(category)))
        await send(text="Loods 7")
        await send(press=press("now"))
        await send(text="Busjes met pakketten " * 10)
        await send(press=press("done"))
        await send(press=press("anon"))
        await send(press=press("no"))
        await send(press=press("send"))
    return timings


def _person_id(session, sender: Sender) -> int:
    return session.exec(select(Person).where(Person.external_id == sender.external_id)).one().id


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=50.0, help="Bot API round trip in ms (default 50)")
    parser.add_argument("--people", type=int, default=200, help="people sending a command at once")
    parser.add_argument("--reporters", type=int, default=50, help="people filing a whole report at once")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--fanout-reports", type=int, default=100, help="reports sent at once in the fan-out row")
    parser.add_argument("--only", default="", help="comma-separated rows to run: commands, reports, fanout")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each bot per throughput row, taking turns; the median counts")
    parser.add_argument("--bare-connections", type=int, default=None,
                        help="the bare bot's Bot API connections (default: python-telegram-bot's own; "
                             "Weerbaar keeps 16, see bot/telegram_adapter.py)")
    return parser.parse_args()


async def pipeline_table(args, directory: Path) -> list:
    from bench.fanout import PHOTOS, fan_out
    from bench.pipeline import compare

    rows = set(args.only.split(",")) if args.only else {"commands", "reports", "fanout"}
    latency = args.latency / 1000
    results = []
    for backend in args.backends.split(","):
        first = len(results)
        if "commands" in rows:
            results.append(await compare(backend, directory, latency, args.people, "my_reports",
                                         args.bare_connections, args.rounds))
        if "reports" in rows:
            results.append(await compare(backend, directory, latency, args.reporters, "reports",
                                         args.bare_connections, args.rounds))
        if "fanout" in rows:
            results.append(await fan_out(backend, directory, latency, 1, PHOTOS))
            results.append(await fan_out(backend, directory, latency, args.fanout_reports, 0))
        print(f"done: {backend}", *results[first:], sep="\n  ", file=sys.stderr, flush=True)  # if a later row fails
    return results


def print_table(results, latency: float, rounds: int = 1) -> bool:
    """One table: throughput next to the bare bot, and fan-out next to the fastest Telegram's limits allow."""
    from bench.fanout import BUDGET as FANOUT_BUDGET, FanOut

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Pipeline, fake Bot API with a {latency:.0f} ms round trip, {os.cpu_count()} CPUs, "
          f"load average {load} (1, 5, 15 min); throughput: the median of {rounds} runs of each bot, taking turns")
    print("| scenario | database | Weerbaar | reference | ratio | budget |")
    print("|---|---|---|---|---|---|")
    ok = True
    for result in results:
        if isinstance(result, FanOut):
            met = result.met
            print(f"| {result.scenario} ({result.messages} messages, {result.rate_limited} × 429) | "
                  f"{result.backend} | {result.seconds:.2f} s | Telegram's limits: {result.fastest:.2f} s | "
                  f"{result.ratio:.2f}× | ≥ {FANOUT_BUDGET:.2f}× and no 429: {'met' if met else 'MISSED'} |")
        else:
            met = result.ratio >= BUDGET
            print(f"| {result.scenario} | {result.backend} | {result.weerbaar:.2f} {result.unit} | "
                  f"bare PTB bot: {result.bare:.2f} {result.unit} | {result.ratio:.2f}× | "
                  f"≥ {BUDGET}×: {'met' if met else 'MISSED'} |")
        ok &= met
    for result in results:
        if not isinstance(result, FanOut) and result.seconds[0]:
            print(f"CPU while measured, {result.scenario} on {result.backend}: "
                  f"Weerbaar {_cpu(result.weerbaar_cpu, result.seconds[0])}; "
                  f"bare bot {_cpu(result.bare_cpu, result.seconds[1])}")
    return ok


def _cpu(cpu: tuple[float, float], seconds: float) -> str:
    bot, bench = cpu
    return f"bot {bot:.1f} s ({bot / seconds:.0%} of a core), bench {bench:.1f} s ({bench / seconds:.0%}) in {seconds:.1f} s"


def main() -> int:
    args = arguments()
    with tempfile.TemporaryDirectory() as directory:
        ok = print_table(asyncio.run(pipeline_table(args, Path(directory))), args.latency, args.rounds)
        services = services_for(Path(directory))
        timings = asyncio.run(message_latency(services))
        print(f"handle(): {len(timings)} messages, median {statistics.median(timings) * 1000:.1f} ms, "
              f"p90 {statistics.quantiles(timings, n=10)[-1] * 1000:.1f} ms")
    if not ok:
        print("a budget was missed", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
