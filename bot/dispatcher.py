"""Delivering the outbox through the platform adapters: concurrent, in order per chat, paced.

- **Claim.** One claimer takes due rows through the ``(status, next_attempt_at)`` index,
  oldest first, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL. A chat whose earliest pending
  row is not due (backoff, or leased by another sender or instance) is skipped without
  blocking others, so order per chat holds across instances. Only as many rows are claimed
  as the shared pacing (``bot.pacing``) allows now; the rest stay in the outbox untouched.
  Claimed rows get a short lease (``LEASE``), renewed every ``RENEW_EVERY`` seconds while
  they are held, so after a crash a chat waits seconds, not minutes.
- **Send.** Each claimed chat gets its own sender task, sending its rows strictly in order;
  many chats are sent to at once. A row that is not sent releases the chat's later rows.
  A send that takes longer than ``SEND_TIMEOUT`` counts as a transient failure.
- **Mark.** Results are written in batches (one transaction for every result so far); when
  the database blips, they stay in memory and are written on the next try, and their rows
  stay leased to us meanwhile.

Delivery is at least once: a crash after a send and before its mark, or a send that timed
out after the platform took it, sends that row again (rare; see the README's pipeline).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple, Protocol

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select, update

from bot.backoff import Backoff
from bot.pacing import Pacing
from bot.single_instance import holder_is_gone, instance_name
from bot.safe_logging import log_failure
from handlers.clock import Clock
from storage.db import Database, padded
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)
RENEW_EVERY = 5.0
SEND_TIMEOUT = 75.0
BACKOFF_START = timedelta(seconds=2)
BACKOFF_MAX = timedelta(minutes=10)
MAX_TRANSIENT_ATTEMPTS = 60
BATCH = 500
SENDERS = 64
ORPHAN_CHECK_EVERY = 5.0
#: A crashed sender's rows wait this long before they go again: longer than Telegram's window of
#: one message per second in a private chat, so a resend of what it sent just before dying is paced.
ORPHAN_PAUSE = timedelta(seconds=1.5)
AHEAD_PER_CHAT, AHEAD_TOTAL = 5, 150  # rows claimed before the pacing allows them (real time only)
AHEAD_WAIT_MAX = 8.0  # a claimed row waits at most this long for its turn; else it is released
#: Results are marked within this long of the first one waiting, together: 25 answers within a tenth of a
#: second were 25 rounds (a transaction each) competing with the sends for the machine.
MARK_WITHIN = 0.03
#: Rounds (mark, then claim) start at least this far apart: every handler's commit wakes the
#: dispatcher, and with 50 guided reports at once a round per commit was 38% of SQLite's one
#: database thread (py-spy). Commits within the gap join the next round; a lone message never
#: waits (the round before it was long ago). bench/pipeline.py, guided reports on SQLite: 7.0 s
#: without the gap, 5.8-6.0 s with it, the bot's CPU 5.7 s down to 3.9 s; PostgreSQL about even.
ROUND_GAP = 0.02
EPOCH = datetime(2000, 1, 1)



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


@dataclass(frozen=True)
class NotTried:
    """Claimed but not sent because an earlier row of the chat was not sent: released as it was."""


DeliveryResult = Sent | RetryAfter | Transient | Permanent | Redirect


class Sender(Protocol):
    async def deliver(self, row: OutboxMessage) -> DeliveryResult:
        """Send one outbox row; never raises for platform errors."""


class Due(NamedTuple):
    """A due row as the claim first reads it: enough to order it and to pace its chat."""

    id: int
    platform: str
    chat_id: str | None
    recipient_person_id: int | None


# The statements of every round, built once: building them cost more than running them (py-spy).

@cache
def _mark_sent():
    """A send's mark, for many rows in one ``executemany``. A row no longer pending (sent meanwhile,
    or deleted with its chat) is left as it is. A file (chart, CSV, a person's own data) is not kept
    once delivered, nor the reference to a person's file or video."""
    outbox = OutboxMessage.__table__
    return (update(outbox).where(outbox.c.id == bindparam("row_id"), outbox.c.status == "pending")
            .values(status="sent", attempts=outbox.c.attempts + 1, sent_at=bindparam("now"),
                    chat_id=bindparam("row_chat"), platform_message_id=bindparam("message_id"),
                    error=None, attachment=None, file=None))


@cache
def _lease():
    """Lease the claimed rows (``ids``), returning them whole."""
    return (update(OutboxMessage).where(col(OutboxMessage.id).in_(bindparam("ids", expanding=True)))
            .values(next_attempt_at=bindparam("lease_until"), claimed_by=bindparam("holder"))
            .returning(OutboxMessage))


@cache
def _first_blocked():
    """Per lane of the chats ``chat_ids``: its first pending row that is not due at ``now``."""
    return (select(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.recipient_person_id,
                   func.min(OutboxMessage.id))
            .where(OutboxMessage.status == "pending",
                   col(OutboxMessage.chat_id).in_(bindparam("chat_ids", expanding=True)),
                   col(OutboxMessage.next_attempt_at) > bindparam("now"))
            .group_by(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.recipient_person_id))


@cache
def _due(platforms: tuple[str, ...], busy_platforms: tuple[str, ...]):
    """Due rows of the sending ``platforms`` (``now``), oldest first, without the chats being sent to
    (``busy_<platform>``: their ids), locked for this claim."""
    query = (select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.chat_id,
                    OutboxMessage.recipient_person_id)
             .where(OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= bindparam("now"),
                    col(OutboxMessage.platform).in_(platforms)))
    for platform in busy_platforms:
        query = query.where((OutboxMessage.platform != platform) | col(OutboxMessage.chat_id).is_(None)
                            | col(OutboxMessage.chat_id).not_in(bindparam(f"busy_{platform}", expanding=True)))
    return query.order_by(col(OutboxMessage.id)).limit(BATCH).with_for_update(skip_locked=True)


def chat_of(row: OutboxMessage | Due) -> tuple[str, str]:
    """The lane a row is sent in: its chat, or its recipient while there is no chat yet."""
    return row.platform, row.chat_id or f"person:{row.recipient_person_id}"


def _chat_ids_by_platform(chats) -> dict[str, list[str]]:
    """The real chat ids among lanes (not the ``person:`` lanes of rows without a chat yet), per platform."""
    by_platform: dict[str, list[str]] = {}
    for platform, chat_id in chats:
        if not chat_id.startswith("person:"):
            by_platform.setdefault(platform, []).append(chat_id)
    return {platform: sorted(ids) for platform, ids in by_platform.items()}


class OutboxDispatcher:
    def __init__(self, db: Database, clock: Clock, senders: dict[str, Sender],
                 on_failure: Callable[[Session, OutboxMessage], None], poll_interval: float = 1.0,
                 pacing: dict[str, Pacing] | None = None, senders_at_once: int = SENDERS,
                 holder: str | None = None, shared_pacing: bool = False):
        self.db = db
        self.clock = clock
        self.senders = senders
        self.on_failure = on_failure
        self.poll_interval = poll_interval
        self.pacing: dict[str, Pacing] = pacing or {}
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._marking = asyncio.Lock()
        self._slots = asyncio.Semaphore(senders_at_once)
        self._running = False
        self._active: dict[tuple[str, str], asyncio.Task] = {}
        self._held: dict[int, OutboxMessage] = {}  # claimed by us and not marked yet
        self._results: list[tuple[OutboxMessage, DeliveryResult | NotTried]] = []
        self._next_ready: float | None = None
        #: On real time (a clock that can sleep) a few rows per chat are claimed ahead of the pacing and
        #: sent the moment it allows, so the claim's transaction is not in the way of the next send.
        self._can_wait = hasattr(clock, "sleep")
        self._granted: dict[int, str] = {}  # rows the pacing counts as in flight, with the chat it counts them in
        self.sent_count = 0
        self.holder = holder or instance_name()
        #: Several instances: a chat's recent sends are read from the database before claiming its rows.
        self.shared_pacing = shared_pacing
        self._marks = 0  # how many batches were marked (marking can add rows: failure alerts)
        self._mark_timer: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Let ``run_forever`` return after the rows being sent."""
        self._running = False
        self._wake.set()

    # ---- the loops ---------------------------------------------------------------------------

    async def run_forever(self) -> None:
        self._running = True
        try:
            released = await self.db.run(self.release_orphans)
            if released:
                log.info("released %s outbox rows leased by a sender that crashed", released)
        except Exception:  # noqa: BLE001 - their leases run out by themselves
            log_failure(log, "releasing crashed leases failed")
        renewer = asyncio.create_task(self._renew_forever(), name="outbox leases")
        next_orphan_check = time.monotonic() + ORPHAN_CHECK_EVERY
        last_round = float("-inf")
        try:
            while self._running:
                if self.shared_pacing and time.monotonic() >= next_orphan_check:
                    next_orphan_check = time.monotonic() + ORPHAN_CHECK_EVERY
                    try:  # several instances: another one on this machine may have died meanwhile
                        await self.db.run(self.release_orphans)
                    except Exception:  # noqa: BLE001 - their leases run out by themselves
                        log_failure(log, "releasing crashed leases failed")
                since_last = time.monotonic() - last_round
                if since_last < ROUND_GAP:  # wakes meanwhile (each handler's commit) join this round
                    await asyncio.sleep(ROUND_GAP - since_last)
                last_round = time.monotonic()
                try:
                    await self._claim_and_spawn()
                except Exception:  # noqa: BLE001 - keep delivering; rows stay pending
                    log_failure(log, "outbox round failed")
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation.
                try:
                    async with asyncio.timeout(self._sleep_for()):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
            if self._active:
                await asyncio.wait(set(self._active.values()))
            await self._flush_until_done()
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)

    def _sleep_for(self) -> float:
        if self._results:
            return 0.05  # results waiting (the database blipped): try again soon
        if self._next_ready is None:
            return self.poll_interval
        return min(self.poll_interval, max(self._next_ready - self._seconds(), 0.0) + 0.001)

    async def deliver_due(self) -> int:
        """Send every row that is due and allowed now, wait for the sends; returns how many were handled."""
        handled = 0
        while True:
            marks_before = self._marks
            spawned = await self._claim_and_spawn()
            while self._active:
                await asyncio.wait(set(self._active.values()))
            handled += await self._flush_until_done()
            async with self._marking:  # a flush by the loop may still be writing (and adding rows)
                pass
            if not spawned and self._marks == marks_before:
                return handled

    async def _flush_until_done(self) -> int:
        marked = 0
        backoff = Backoff(0.2, 5.0)
        while self._results:
            try:
                marked += await self._flush()
            except Exception:  # noqa: BLE001 - the database blipped: the results wait in memory
                log_failure(log, "marking outbox results failed; retrying")
                await backoff.wait()
        return marked

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            ids = list(self._held)
            if not ids:
                continue
            try:
                await self.db.run(lambda: self._renew(ids), urgent=True)
            except Exception:  # noqa: BLE001 - the lease is longer than a renewal period
                log_failure(log, "renewing outbox leases failed")

    def _renew(self, ids: list[int]) -> None:
        with self.db.transaction() as session:
            session.exec(update(OutboxMessage).where(col(OutboxMessage.id).in_(padded(ids)),
                                                     OutboxMessage.status == "pending")
                         .values(next_attempt_at=self.clock.now() + LEASE))

    # ---- claiming ------------------------------------------------------------------------------

    async def _claim_and_spawn(self) -> int:
        """One round: mark the results so far and claim what may go now, in one transaction."""
        async with self._claiming, self._marking:
            batch = list(self._results)
            marked = {row.id for row, _ in batch}
            busy_chats = frozenset(self._active)
            held = frozenset(row_id for row_id in self._held if row_id not in marked)

            def mark_and_claim() -> list[OutboxMessage]:
                with self.db.transaction() as session:  # if any of it fails, the results wait for the next round
                    if batch:
                        self._mark_in(session, batch)
                    return self._claim_in(session, busy_chats, held)

            rows = await self.db.run(mark_and_claim, urgent=True)
            if batch:
                self._forget_marked(batch)
            by_chat: dict[tuple[str, str], list[OutboxMessage]] = {}
            for row in rows:
                self._held[row.id] = row
                by_chat.setdefault(chat_of(row), []).append(row)
            for chat, chat_rows in by_chat.items():
                self._active[chat] = asyncio.create_task(self._send_chat(chat, chat_rows))
            return len(rows)

    def pending_due(self) -> int:
        with Session(self.db.engine) as session:
            return len(session.exec(select(OutboxMessage.id).where(
                OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= self.clock.now())).all())

    def _claim(self, busy_chats: frozenset = frozenset(), held: frozenset = frozenset()) -> list[OutboxMessage]:
        """Lease the rows that may be sent now (a transaction of its own)."""
        with self.db.transaction() as session:
            return self._claim_in(session, busy_chats, held)

    def _claim_in(self, session: Session, busy_chats: frozenset, held: frozenset) -> list[OutboxMessage]:
        """Lease the rows that may be sent now, in order per chat and within the pacing.

        The due rows are read as ids and chats first, leaving out the chats being sent to now
        (their rows wait for their sender): with thousands of rows due and every chat busy, reading
        them whole each round cost more than the sends. Only the claimed rows are read whole, as the
        lease's ``UPDATE`` returns them.
        """
        now = self.clock.now()
        busy = _chat_ids_by_platform(busy_chats)
        params = {f"busy_{platform}": padded(chat_ids) for platform, chat_ids in busy.items()}
        due = [Due(*found) for found in session.exec(
            _due(tuple(self._sending_platforms()), tuple(sorted(busy))), params=dict(params, now=now)).all()]
        due = [row for row in due if row.id not in held and chat_of(row) not in busy_chats]
        if not due:
            self._next_ready = None
            return []
        first_blocked = self._first_not_due(session, due, now)
        by_chat: dict[tuple[str, str], list[Due]] = {}
        for row in due:
            chat = chat_of(row)
            if row.id < first_blocked.get(chat, row.id + 1):
                by_chat.setdefault(chat, []).append(row)
        elsewhere = self._recent_sends(session, by_chat, now) if self.shared_pacing else {}
        claimed_ids = [row.id for row in self._within_pacing(by_chat, elsewhere)]
        if not claimed_ids:
            return []
        claimed = list(session.scalars(  # one statement, not one per row
            _lease(), {"ids": padded(claimed_ids), "lease_until": now + LEASE, "holder": self.holder},
            execution_options={"synchronize_session": False}))
        for row in claimed:
            session.expunge(row)  # the senders hold them after the commit
        return sorted(claimed, key=lambda row: row.id)  # RETURNING promises no order

    def release_orphans(self) -> int:
        """Rows leased by a sender on this machine that no longer runs (a crash) are due again after
        ``ORPHAN_PAUSE``: one of them may have reached the platform just before the crash, and its
        resend must not land in the same pacing window of its chat (a 429 in the two-instance
        SIGKILL test)."""
        with self.db.transaction() as session:
            now = self.clock.now()
            holders = set(session.exec(select(OutboxMessage.claimed_by).where(
                OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) > now,
                col(OutboxMessage.claimed_by).is_not(None)).distinct()))
            gone = [holder for holder in holders if holder != self.holder and holder_is_gone(holder)]
            if not gone:
                return 0
            result = session.exec(update(OutboxMessage).where(
                OutboxMessage.status == "pending", col(OutboxMessage.claimed_by).in_(gone))
                .values(next_attempt_at=now + ORPHAN_PAUSE, claimed_by=None))
            return result.rowcount or 0

    @staticmethod
    def _first_not_due(session: Session, due: list[Due], now: datetime) -> dict[tuple[str, str], int]:
        """Per chat, the first pending row that is not due (backoff or leased): later rows wait for it."""
        chat_ids = sorted({row.chat_id for row in due})
        blocked = session.exec(_first_blocked(), params={"chat_ids": padded(chat_ids), "now": now}).all()
        first: dict[tuple[str, str], int] = {}
        for platform, chat_id, person_id, row_id in blocked:
            chat = (platform, chat_id or f"person:{person_id}")
            first[chat] = min(first.get(chat, row_id), row_id)
        return first

    def _sending_platforms(self) -> list[str]:
        """The platforms whose sender can send now (a standby instance does not send Matrix rows)."""
        return [platform for platform, sender in self.senders.items() if getattr(sender, "sending", True)]

    def _recent_sends(self, session: Session, by_chat: dict[tuple[str, str], list[Due]],
                      now: datetime) -> dict[tuple[str, str], int]:
        """Per chat: rows sent within its pacing window, or leased for sending, by any instance."""
        windows: dict[tuple[str, str], float] = {}
        for platform, chat_id in by_chat:
            pacing = self.pacing.get(platform)
            seconds = pacing.chat_window_seconds(chat_id) if pacing is not None and chat_id else None
            if seconds is not None:
                windows[(platform, chat_id)] = seconds
        if not windows:
            return {}
        longest = max(windows.values())
        counts: dict[tuple[str, str], int] = {chat: 0 for chat in windows}
        for platform, chat_id, sent_at, status in session.exec(
                select(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.sent_at, OutboxMessage.status)
                .where(col(OutboxMessage.chat_id).in_(padded(sorted({chat_id for _, chat_id in windows}))),
                       ((OutboxMessage.status == "sent") & (col(OutboxMessage.sent_at) > now - timedelta(seconds=longest)))
                       | ((OutboxMessage.status == "pending") & col(OutboxMessage.claimed_by).is_not(None)
                          & (col(OutboxMessage.next_attempt_at) > now)))):
            chat = (platform, chat_id)
            if chat not in windows:
                continue
            if status == "pending" or sent_at > now - timedelta(seconds=windows[chat]):
                counts[chat] += 1
        return counts

    def _within_pacing(self, by_chat: dict[tuple[str, str], list[Due]],
                       elsewhere: dict[tuple[str, str], int] | None = None) -> list[Due]:
        """The rows the pacing grants now, and (on real time, one instance) a few per chat to send
        as soon as it allows. Several instances claim only granted rows: what the database says
        was sent or leased is then the whole truth about a chat's window."""
        now = self._seconds()
        claimed: list[Due] = []
        next_ready: float | None = None
        elsewhere = elsewhere or {}
        ahead_left = AHEAD_TOTAL if self._can_wait and not self.shared_pacing else 0
        for (platform, chat_id), rows in sorted(by_chat.items(), key=lambda item: item[1][0].id):
            pacing = self.pacing.get(platform)
            granted = len(rows) if pacing is None else pacing.grant(chat_id, len(rows), now,
                                                                    elsewhere.get((platform, chat_id)))
            ahead = min(len(rows) - granted, AHEAD_PER_CHAT, ahead_left)
            ahead_left -= ahead
            claimed.extend(rows[:granted + ahead])
            for row in rows[:granted]:
                self._granted[row.id] = chat_id
            if granted + ahead < len(rows):
                ready = pacing.ready_at(chat_id, now)
                if ready <= now:  # held back by another instance's sends: look again shortly
                    ready = now + 0.25
                next_ready = ready if next_ready is None else min(next_ready, ready)
        self._next_ready = next_ready
        return claimed

    async def _wait_for_turn(self, chat_id: str, row: OutboxMessage) -> bool:
        """A row claimed ahead of the pacing waits (real time only) until its windows allow it."""
        if row.id in self._granted or row.platform not in self.pacing:
            return True
        pacing = self.pacing[row.platform]
        while True:
            now = self._seconds()
            wait = pacing.ready_at(chat_id, now) - now
            if wait <= 0:
                pacing.grant(chat_id, 1, now)
                self._granted[row.id] = chat_id
                return True
            if not self._can_wait or wait > AHEAD_WAIT_MAX:
                return False  # a long pause (a 429): released, claimed again when it is due
            await self.clock.sleep(wait)

    def _seconds(self) -> float:
        return (self.clock.now() - EPOCH).total_seconds()

    # ---- sending --------------------------------------------------------------------------------

    async def _send_chat(self, chat: tuple[str, str], rows: list[OutboxMessage]) -> None:
        try:
            async with self._slots:
                for index, row in enumerate(rows):
                    if not await self._wait_for_turn(chat[1], row):
                        self._release(rows[index:])
                        break
                    began = self._seconds()
                    result = await self._deliver(row)
                    self._note_answered(row, result, began)
                    self._results.append((row, result))
                    self._mark_soon()  # a crash before the mark sends it again
                    if isinstance(result, RetryAfter) and row.platform in self.pacing:
                        self.pacing[row.platform].pause(row.chat_id, result.seconds, self._seconds())
                    if not isinstance(result, Sent):
                        self._release(rows[index + 1:])
                        break
        finally:
            del self._active[chat]
            self._wake.set()

    def _mark_soon(self) -> None:
        """Wake the loop to mark the results within ``MARK_WITHIN`` (once for all that come meanwhile)."""
        if self._mark_timer is None:
            self._mark_timer = asyncio.get_running_loop().call_later(MARK_WITHIN, self._mark_now)

    def _mark_now(self) -> None:
        self._mark_timer = None
        self._wake.set()

    def _note_answered(self, row: OutboxMessage, result: DeliveryResult, began: float) -> None:
        """The pacing counts the send from when the platform saw it; a platform's answer is a round trip."""
        chat_id = self._granted.pop(row.id, None)
        if chat_id is not None and row.platform in self.pacing:
            now = self._seconds()
            from_platform = isinstance(result, Sent | RetryAfter)  # others may have failed before leaving
            self.pacing[row.platform].answered(chat_id, now, round_trip=now - began if from_platform else None)

    def _release(self, rows: list[OutboxMessage]) -> None:
        """Claimed rows that are not sent now: back to the outbox, and out of the pacing's count."""
        self._results.extend((row, NotTried()) for row in rows)
        for row in rows:
            chat_id = self._granted.pop(row.id, None)
            if chat_id is not None and row.platform in self.pacing:
                self.pacing[row.platform].released(chat_id)

    async def _deliver(self, row: OutboxMessage) -> DeliveryResult:
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                return await self.senders[row.platform].deliver(row)
        except TimeoutError:
            return Transient("send timed out")
        except Exception as error:  # noqa: BLE001 - an adapter bug must not lose the row
            log_failure(log, "adapter failed on outbox row %s", row.id)
            return Transient(type(error).__name__)

    # ---- marking --------------------------------------------------------------------------------

    async def _flush(self) -> int:
        """Write every result so far in one transaction; on failure they stay for the next try."""
        async with self._marking:
            if not self._results:
                return 0
            batch = list(self._results)
            await self.db.run(lambda: self._mark(batch), urgent=True)
            return self._forget_marked(batch)

    def _forget_marked(self, batch) -> int:
        del self._results[:len(batch)]
        self._marks += 1
        for row, result in batch:
            self._held.pop(row.id, None)
            if isinstance(result, Sent):
                self.sent_count += 1
        return sum(1 for _, result in batch if not isinstance(result, NotTried))

    def _mark(self, batch: list[tuple[OutboxMessage, DeliveryResult | NotTried]]) -> None:
        with self.db.transaction() as session:
            self._mark_in(session, batch)

    def _mark_in(self, session: Session, batch: list[tuple[OutboxMessage, DeliveryResult | NotTried]]) -> None:
        """Write the results. Sends (nearly all of them) are one ``UPDATE`` for the batch that loads
        nothing; the other results are read and applied row by row."""
        now = self.clock.now()
        sent = [{"row_id": row.id, "row_chat": row.chat_id, "message_id": result.message_id}
                for row, result in batch if isinstance(result, Sent)]
        if sent:  # the chat as sent to: the adapter may have opened a private chat for this row
            session.connection().execute(_mark_sent(), [dict(values, now=now) for values in sent])
        others = [(row, result) for row, result in batch if not isinstance(result, Sent)]
        if not others:
            return
        current = {fresh.id: fresh for fresh in session.exec(select(OutboxMessage).where(
            col(OutboxMessage.id).in_(padded([row.id for row, _ in others]))))}  # one query for the batch
        for row, result in others:
            fresh = current.get(row.id)
            if fresh is None or fresh.status != "pending":
                continue
            if isinstance(result, NotTried):
                fresh.next_attempt_at = now
                session.add(fresh)
                continue
            if row.chat_id != fresh.chat_id:
                fresh.chat_id = row.chat_id
            self._apply(session, fresh, result, now)
            session.add(fresh)

    def _apply(self, session: Session, fresh: OutboxMessage, result: DeliveryResult, now: datetime) -> None:
        fresh.attempts += 1
        if isinstance(result, Redirect):
            self._redirect(session, fresh, result.chat_id, now)
        elif isinstance(result, RetryAfter):
            fresh.next_attempt_at = now + timedelta(seconds=max(result.seconds, 0.0))
            fresh.error = "rate limited"
        elif isinstance(result, Transient) and fresh.attempts < MAX_TRANSIENT_ATTEMPTS:
            fresh.next_attempt_at = now + min(BACKOFF_START * 2 ** (fresh.attempts - 1), BACKOFF_MAX)
            fresh.error = result.reason[:255]
        else:
            fresh.status, fresh.error = "failed", result.reason[:255]
            fresh.attachment, fresh.file = None, None
            log.warning("outbox row %s failed permanently (%s, %s)", fresh.id, fresh.purpose, fresh.error)
            self.on_failure(session, fresh)

    @staticmethod
    def _redirect(session: Session, row: OutboxMessage, chat_id: str, now) -> None:
        """Point this and every other pending row for the old chat at the new one."""
        old = row.chat_id
        for other in session.exec(select(OutboxMessage).where(
                OutboxMessage.platform == row.platform, OutboxMessage.chat_id == old,
                OutboxMessage.status == "pending")):
            other.chat_id = chat_id
            other.next_attempt_at = min(other.next_attempt_at, now)
            session.add(other)
        row.chat_id = chat_id
        row.next_attempt_at = now
