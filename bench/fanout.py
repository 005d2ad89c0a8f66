"""Fan-out at Telegram's pace: reports delivered to many officials, measured against the limits.

Two scenarios on the project's fake Bot API with its flood control **on** (30 messages/s
overall, 1/s per private chat, 20/min per group) and a network round trip of ``latency``:

- one report with 3 photos delivered to 25 officials (each gets the report and 3 photos);
- 100 reports sent at once (each delivered to the park's 25 officials).

The bot runs in a process of its own, as an operator runs it (``weerbaar run`` with a config
pointing at the fake, like the throughput rows of ``bench/pipeline.py``), so the fake's and the
simulated people's CPU is not charged to it. Preparation runs with the fake's flood control
off and the bot's own pacing on, as it always is: the officials are verified through invites, and the reporters' drafts are stored at the
summary step; each reporter pokes the bot once so its summary (with the send button) is
shown. One more reporter sends a report first and it reaches every official: the bot has
handled a report before (the first after a start loads the holiday calendar, ~0.3 s once)
and its pacing has seen answers come back (it needs 64 spanning 3 seconds before it
counts a send from less than its answer time, see ``bot.pacing``). Then the flood control
goes on, a second passes (so no window holds a preparation message), and every reporter
presses "Versturen" at once.

**The fastest time the limits allow** for what the bot then sends (``N`` messages, ``c``
at most in one private chat): the last message cannot go before ``max((N - 1) // 30, c - 1)``
seconds after the first, and the press and the last send each travel half a round trip:
``fastest = max((N - 1) // 30, c - 1) + latency``. The budget: the bot's time from the
press to the last message arriving is within 10% of that (a ratio ``fastest / measured`` of
at least 1/1.1), and the fake answered no send with 429.
"""

import asyncio
import gc
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from bench.pipeline import arrivals, invite_code, start_server, wait_for_count, weerbaar_running
from handlers.clock import SystemClock
from handlers.report_flow import SUMMARY
from storage.models import Category, Park, Person, ReportDraft
from tests.harness import PARK

OFFICIALS = 25
PHOTOS = 3
GLOBAL_PER_SECOND = 30
BUDGET = 1 / 1.1  # within 10% of the fastest time


@dataclass
class FanOut:
    scenario: str
    backend: str
    seconds: float
    fastest: float
    messages: int
    rate_limited: int  # 429 answers from the fake during the measurement

    @property
    def ratio(self) -> float:
        return self.fastest / self.seconds if self.seconds else 0.0

    @property
    def met(self) -> bool:
        return self.ratio >= BUDGET and self.rate_limited == 0


def fastest_seconds(per_chat: dict[int, int], latency: float) -> float:
    """The earliest the last of these messages can arrive under Telegram's limits (see module doc)."""
    total = sum(per_chat.values())
    if not total:
        return 0.0
    return max((total - 1) // GLOBAL_PER_SECOND, max(per_chat.values()) - 1) + latency


async def fan_out(backend: str, directory: Path, latency: float, reports: int, photos: int) -> FanOut:
    server = await start_server(latency)
    admin = server.add_user("Anna")
    officials = [server.add_user(f"Official {n}") for n in range(OFFICIALS)]
    reporters = [server.add_user(f"Reporter {n}") for n in range(reports)]
    warm_up = server.add_user("Reporter before")
    group = server.add_group("Ondernemers", members=[admin, warm_up, *reporters])
    try:
        async with weerbaar_running(server, backend, directory, pacing="telegram") as (db, config, _):
            await _verify_officials(server, db, config, admin, officials, group)
            await _drafts_at_summary(server, db, [warm_up, *reporters], photos)
            await _send_reports(server, officials, [warm_up], photos)
            return await _measure(server, latency, officials, reporters, photos, backend, _label(reports, photos))
    finally:
        await server.stop()


def _label(reports: int, photos: int) -> str:
    if reports == 1:
        return f"fan-out: 1 report with {photos} photos to {OFFICIALS} officials"
    return f"fan-out: {reports} reports at once to {OFFICIALS} officials"


async def _verify_officials(server, db, config, admin, officials, group) -> None:
    admin.start(invite_code(db, config, "admin"))
    await wait_for_count(server, admin.private.id, 1)
    for n, official in enumerate(officials):  # the category routes to police and the municipality
        official.start(invite_code(db, config, "police" if n % 2 == 0 else "municipality"))
    for official in officials:
        await wait_for_count(server, official.private.id, 1)
    admin.send(group, "/koppel")
    await wait_for_count(server, group.id, 1)


async def _drafts_at_summary(server, db, reporters, photos: int) -> None:
    """Store each reporter's finished draft, then let them poke the bot: it shows the summary again."""
    photo_ids = [server.world.new_photo(b"photo %d" % n)[-1]["file_id"] for n in range(photos)]
    now = SystemClock().now()
    with db.transaction() as session:
        park = session.exec(select(Park).where(Park.slug == PARK)).one()
        category = session.exec(select(Category).where(Category.park_id == park.id, Category.key == "drugs")).one()
        for n, user in enumerate(reporters):
            person = Person(platform="telegram", external_id=str(user.id), display_name=user.first_name,
                            private_chat_id=str(user.private.id), language="nl", created_at=now)
            session.add(person)
            session.flush()
            session.add(ReportDraft(person_id=person.id, park_id=park.id, step=SUMMARY, updated_at=now, data={
                "category_id": category.id, "where_text": f"Loods {n}, Spaanse Polderweg", "when_kind": "now",
                "when_text": None, "what": f"Busjes met zware pakketten bij loods {n}", "photos": photo_ids,
                "photo_captions": [None] * photos, "anonymous": True, "urgent": False}))
    for user in reporters:
        user.started = True  # they opened the private chat from the group's report button
        user.send(user.private, "Klaar")  # not an answer to the summary: the bot asks for a button and shows it
    for user in reporters:
        await wait_for_count(server, user.private.id, 2)


async def _send_reports(server, officials, reporters, photos: int) -> dict[int, int]:
    """Every reporter presses "Versturen" under its summary, at once; returns when every official has
    the reports with their photos and every reporter its confirmation: the messages per chat."""
    counts = arrivals(server)
    chats = [user.private.id for user in (*officials, *reporters)]
    before = {chat: len(counts.of(chat)) for chat in chats}
    summaries = [counts.of(user.private.id)[-1] for user in reporters]
    for user, summary in zip(reporters, summaries):
        data = next(button["callback_data"] for row in summary.buttons for button in row
                    if "versturen" in button["text"].lower())
        user.press(summary, data)
    per_official = len(reporters) * (1 + photos)
    await asyncio.gather(*(wait_for_count(server, official.private.id, before[official.private.id] + per_official)
                           for official in officials),
                         *(wait_for_count(server, user.private.id, before[user.private.id] + 1) for user in reporters))
    return {chat: len(counts.of(chat)) - before[chat] for chat in chats}


async def _measure(server, latency: float, officials, reporters, photos: int, backend: str, label: str) -> FanOut:
    gc.collect()  # an earlier scenario's fake is garbage: collect it now, not while timed
    server.rate_limits = True
    await asyncio.sleep(1.1)  # no window of the limits holds a preparation message any more
    errors_before = len(server.errors)
    began = time.perf_counter()
    per_chat = await _send_reports(server, officials, reporters, photos)
    seconds = time.perf_counter() - began
    rate_limited = sum(1 for error in server.errors[errors_before:] if error.error_code == 429)
    return FanOut(label, backend, seconds, fastest_seconds(per_chat, latency), sum(per_chat.values()), rate_limited)
