"""Delivering the outbox through the platform adapters.

Rows are claimed with a short lease (``next_attempt_at`` moved forward, ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), sent outside any transaction, then marked. A crash mid-send means
the row is sent again after the lease: delivery is at least once, never silently lost.
Messages to one chat go out in order: a chat with an earlier row waiting blocks its later rows.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlmodel import Session, col, select

from bot.safe_logging import log_failure
from handlers.clock import Clock
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
BACKOFF_START = timedelta(seconds=2)
BACKOFF_MAX = timedelta(minutes=10)
MAX_TRANSIENT_ATTEMPTS = 60
BATCH = 200


@dataclass(frozen=True)
class Sent:
    message_id: str | None = None


@dataclass(frozen=True)
class RetryAfter:
    seconds: float


@dataclass(frozen=True)
class Transient:
    reason: str


@dataclass(frozen=True)
class Permanent:
    reason: str


@dataclass(frozen=True)
class Redirect:
    """The chat moved (Telegram group → supergroup); send again to ``chat_id``."""

    chat_id: str


DeliveryResult = Sent | RetryAfter | Transient | Permanent | Redirect


class Sender(Protocol):
    async def deliver(self, row: OutboxMessage) -> DeliveryResult:
        """Send one outbox row; never raises for platform errors."""


class OutboxDispatcher:
    def __init__(self, db: Database, clock: Clock, senders: dict[str, Sender],
                 on_failure: Callable[[Session, OutboxMessage], None], poll_interval: float = 1.0):
        self.db = db
        self.clock = clock
        self.senders = senders
        self.on_failure = on_failure
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._running = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Let ``run_forever`` return after the row it may be sending."""
        self._running = False
        self._wake.set()

    async def run_forever(self) -> None:
        self._running = True
        while self._running:
            try:
                await self.deliver_due()
            except Exception:  # noqa: BLE001 - keep delivering; the row stays pending
                log_failure(log, "outbox round failed")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation.
            try:
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Send every row that is due now; returns how many were handled."""
        handled = 0
        async with self._lock:
            while rows := self._claim():
                for row in rows:
                    await self._deliver(row)
                    handled += 1
        return handled

    def pending_due(self) -> int:
        with Session(self.db.engine) as session:
            return len(session.exec(select(OutboxMessage.id).where(
                OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= self.clock.now())).all())

    def _claim(self) -> list[OutboxMessage]:
        with self.db.transaction() as session:
            now = self.clock.now()
            rows = session.exec(
                select(OutboxMessage).where(OutboxMessage.status == "pending")
                .order_by(col(OutboxMessage.id)).limit(BATCH).with_for_update(skip_locked=True)
            ).all()
            blocked: set[tuple[str, str]] = set()
            claimed = []
            for row in rows:
                chat = (row.platform, row.chat_id)
                if chat in blocked:
                    continue
                if row.next_attempt_at > now or row.platform not in self.senders:
                    blocked.add(chat)
                    continue
                row.next_attempt_at = now + LEASE
                session.add(row)
                claimed.append(row)
                blocked.add(chat)  # one row per chat per round keeps the order strict
            return claimed

    async def _deliver(self, row: OutboxMessage) -> None:
        try:
            result = await self.senders[row.platform].deliver(row)
        except Exception as error:  # noqa: BLE001 - an adapter bug must not lose the row
            log_failure(log, "adapter failed on outbox row %s", row.id)
            result = Transient(type(error).__name__)
        with self.db.transaction() as session:
            fresh = session.get(OutboxMessage, row.id)
            now = self.clock.now()
            fresh.attempts += 1
            if isinstance(result, Sent):
                fresh.status, fresh.sent_at, fresh.platform_message_id = "sent", now, result.message_id
                fresh.error = None
            elif isinstance(result, Redirect):
                self._redirect(session, fresh, result.chat_id, now)
            elif isinstance(result, RetryAfter):
                fresh.next_attempt_at = now + timedelta(seconds=max(result.seconds, 0.0))
                fresh.error = "rate limited"
            elif isinstance(result, Transient) and fresh.attempts < MAX_TRANSIENT_ATTEMPTS:
                fresh.next_attempt_at = now + min(BACKOFF_START * 2 ** (fresh.attempts - 1), BACKOFF_MAX)
                fresh.error = result.reason[:255]
            else:
                fresh.status, fresh.error = "failed", result.reason[:255]
                log.warning("outbox row %s failed permanently (%s, %s)", fresh.id, fresh.purpose, fresh.error)
                self.on_failure(session, fresh)
            session.add(fresh)

    @staticmethod
    def _redirect(session: Session, row: OutboxMessage, chat_id: str, now) -> None:
        """Point this and every other pending row for the old chat at the new one."""
        old = row.chat_id
        for other in session.exec(select(OutboxMessage).where(
                OutboxMessage.platform == row.platform, OutboxMessage.chat_id == old,
                OutboxMessage.status == "pending")):
            other.chat_id = chat_id
            session.add(other)
        row.chat_id = chat_id
        row.next_attempt_at = now
