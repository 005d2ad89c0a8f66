"""Draining a sweep's reminders through the real bot: bootstrap, dispatcher, python-telegram-bot,
and the fake Bot API enforcing Telegram's limits (30 messages/s overall, 1/s per chat) in real time."""

import asyncio
import time
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bench.store import NOW
from bot.bootstrap import build
from bot.config import parse_config
from handlers.services import Services
from handlers.sweeps import send_due_reminders
from storage.db import Database
from storage.models import OutboxMessage
from tests.fake_telegram import FakeTelegram

TOKEN = "1000:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
TELEGRAM_OVERALL_PER_SECOND = 30


class RunningClock:
    """Real time, started at the store's 'now' (so the store's due moments mean what they say)."""

    def __init__(self, start: datetime):
        self.start, self.began = start, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)

    async def sleep(self, seconds: float) -> None:
        """Real time passes: the outbox claims a few rows ahead and waits for the pacing, as in production."""
        await asyncio.sleep(seconds)


def pending(db: Database) -> int:
    with Session(db.engine) as session:
        return session.exec(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.status == "pending")).one()


async def drain(services: Services, timeout: float = 3600) -> dict:
    """Sweep, then let the running bot deliver every digest; time against the limit-optimal time."""
    db = services.db
    send_due_reminders(services)
    with Session(db.engine) as session:
        chats = set(session.exec(select(OutboxMessage.chat_id).where(OutboxMessage.status == "pending")).all())
    server = FakeTelegram(bot_username="weerbaar_bench_bot", token=TOKEN)
    server.rate_limits = True
    await server.start()
    for chat_id in chats:
        user = server.world.add_user("Official", None, "nl", user_id=int(chat_id))
        user.started = True
    config = parse_config({
        "database": {"url": "sqlite:///unused.db"},
        "bot": {"sweep_interval": "1d"},
        "telegram": {"base_url": server.base_url, "base_file_url": server.base_file_url},
        "parks": [{"slug": "park-0000", "name": "Bedrijventerrein 0000", "prefix": "AAAA", "categories": [
            {"key": "drugs", "name_nl": "Drugs", "name_en": "Drugs", "roles": ["police", "municipality"]}]}],
    }, environ={"WEERBAAR_TELEGRAM_TOKEN": TOKEN})
    app = build(config, clock=RunningClock(NOW + timedelta(seconds=1)), db=db)
    messages = pending(db)
    began = time.perf_counter()
    await app.start(run_jobs=False)
    app.dispatcher.wake()
    try:
        while pending(db) and time.perf_counter() - began < timeout:
            await asyncio.sleep(0.25)
    finally:
        elapsed = time.perf_counter() - began
        left = pending(db)
        await app.stop()
        await server.stop()
    with Session(db.engine) as session:
        sent = session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "sent", col(OutboxMessage.purpose).in_(["reminder", "escalation"]))).one()
    optimal = messages / TELEGRAM_OVERALL_PER_SECOND
    return {"drain_messages": messages, "drain_sent": sent, "drain_left": left, "drain_s": elapsed,
            "drain_optimal_s": optimal, "drain_ratio": elapsed / optimal if optimal else None,
            "rate_limited": sum(1 for failure in server.errors if failure.error_code == 429)}
