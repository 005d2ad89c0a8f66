"""The inbound pipeline: inbox → handle, many chats at once, strictly in order per chat and person.

- **Receive.** An adapter turns a batch of platform updates into ``Received`` items and
  calls ``store``: one transaction writes them to the inbox (``storage.inbox``). Only after
  it committed does the adapter acknowledge the batch to the platform (Telegram: the next
  ``getUpdates`` offset; Matrix: the sync token). A key already in the inbox is a
  redelivery and is not handled again. When the database is unreachable ``store`` raises:
  the adapter stops taking updates, waits and tries again -- the platform keeps them.
- **Handle.** Each new item is submitted to ``Lanes`` under its keys (its chat and its
  sender): items sharing a key run one after another in the order received, everything
  else runs concurrently (at most ``CONCURRENCY`` at once). The handler's transaction marks
  the update applied together with its effects. If the database is unreachable, the item is
  retried (in its lane, so order holds) until it is back; it is never dropped or apologised for.
- **Restart.** Items received but not applied (a crash, a stop while the database was
  away) are loaded from the inbox at start and handled first.
- **Several instances** (Telegram webhook mode, ``SharedInbox``). Any instance may receive
  any update, so the order per chat and person is kept through the database: each inbox
  row records its holder (the instance) and its chat and person lanes. Items run in the
  order of their row id (``OrderedLanes``), and an item whose chat or person has an earlier
  unapplied row held by another instance waits until that one is applied. Rows held by an
  instance that no longer runs (no heartbeat; at once for a dead process on this machine)
  are taken over every ``ADOPT_EVERY`` seconds, oldest first, and come before the later
  rows of their lanes. A row held by a live instance that does not move for
  ``MAX_ORDER_WAIT`` seconds stops holding back the others (a warning): a stuck row must
  not silence a chat forever.
"""

import asyncio
import dataclasses
import logging
import time
from datetime import timedelta
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from bot.ordered_lanes import OrderedLanes
from bot.backoff import Backoff
from bot.safe_logging import log_failure
from handlers.clock import Clock
from handlers.messages import ButtonPress, Chat, Incoming, Outcome, Sender, SharedFile
from storage import inbox
from storage.db import Database, is_unavailable

log = logging.getLogger(__name__)

CONCURRENCY = 64
MAX_WAITING = 2000  # received but not yet handled; beyond this the adapter stops taking updates
RETRY_START, RETRY_MAX = 0.5, 30.0
#: Applied keys are kept this long: longer than Telegram keeps an update (24 h) or a sync token is replayed.
INBOX_RETENTION = timedelta(days=3)
PRUNE_EVERY = 3600.0
ADOPT_EVERY = 1.0
MAX_ORDER_WAIT = 30.0

Handle = Callable[[Incoming], Awaitable[Outcome]]


@dataclass
class Received:
    """One update that became a neutral message, with what the adapter needs afterwards."""

    incoming: Incoming
    extra: dict = field(default_factory=dict)  # e.g. the Telegram callback query id, to answer it
    inbox_id: int | None = field(default=None, compare=False)  # its row: the order received (several instances)

    @property
    def key(self) -> str:
        return self.incoming.update_key or ""

    def lanes(self) -> tuple[str, ...]:
        chat, sender = self.incoming.chat, self.incoming.sender
        return f"chat:{chat.platform}:{chat.chat_id}", f"person:{sender.platform}:{sender.external_id}"

    def as_payload(self) -> dict:
        return {"incoming": dataclasses.asdict(self.incoming), "extra": self.extra}

    @classmethod
    def from_payload(cls, payload: dict) -> "Received":
        raw = dict(payload["incoming"])
        raw["sender"] = Sender(**raw["sender"])
        raw["chat"] = Chat(**raw["chat"])
        raw["press"] = ButtonPress(**raw["press"]) if raw.get("press") else None
        raw["location"] = tuple(raw["location"]) if raw.get("location") else None
        raw["file"] = SharedFile(**raw["file"]) if raw.get("file") else None
        return cls(incoming=Incoming(**raw), extra=dict(payload.get("extra") or {}))


class Lanes:
    """Runs work concurrently, but strictly in submission order among items that share a key."""

    def __init__(self, concurrency: int = CONCURRENCY):
        self._tails: dict[str, asyncio.Future] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task] = set()

    def submit(self, keys: Iterable[str], work: Callable[[], Awaitable[None]]) -> asyncio.Task:
        keys = tuple(keys)
        before = {self._tails[key] for key in keys if key in self._tails}
        done = asyncio.get_running_loop().create_future()
        for key in keys:
            self._tails[key] = done
        task = asyncio.create_task(self._run(before, done, keys, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, before: set[asyncio.Future], done: asyncio.Future, keys: tuple[str, ...],
                   work: Callable[[], Awaitable[None]]) -> None:
        try:
            if before:
                await asyncio.wait(before)  # wait() never cancels what it waits for
            async with self._slots:
                await work()
        finally:
            done.set_result(None)
            for key in keys:
                if self._tails.get(key) is done:
                    del self._tails[key]

    @property
    def busy(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted has run; False if the timeout came first."""
        while self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                return False
        return True

    async def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass
class SharedInbox:
    """Webhook mode: this instance's name (its rows' holder) and who else still runs."""

    holder: str
    #: Called inside a transaction: a check whether a holder still runs.
    alive: Callable[[object], Callable[[str], bool]]


class Pipeline:
    """Stores received updates, then handles them through lanes; one per platform adapter."""

    def __init__(self, db: Database, clock: Clock, platform: str, key_prefix: str, handle: Handle,
                 after: Callable[[Received, Outcome], Awaitable[None]] | None = None,
                 on_done: Callable[[Received], Awaitable[None]] | None = None, concurrency: int = CONCURRENCY,
                 shared: SharedInbox | None = None):
        self.db = db
        self.clock = clock
        self.platform = platform
        self.key_prefix = key_prefix
        self._handle = handle
        self._after = after
        self._on_done = on_done
        self.shared = shared
        self.lanes = Lanes(concurrency) if shared is None else OrderedLanes(concurrency)
        self._waiting_since: dict[int, float] = {}
        self._adopter: asyncio.Task | None = None
        self._room = asyncio.Semaphore(MAX_WAITING)
        self._stopping = False
        self._queued: set[str] = set()
        self._next_prune = 0.0

    async def store(self, batch: list[Received]) -> list[Received]:
        """Write the batch to the inbox (one transaction); returns the items not seen before.

        Raises when the database is unreachable: then nothing may be acknowledged.
        """
        if not batch:
            return []
        items = [(received.key, received.as_payload()) for received in batch]
        lanes = {received.key: received.lanes() for received in batch} if self.shared else None
        fresh = await self.db.run(lambda: self._receive(items, lanes))
        for received in batch:
            received.inbox_id = fresh.get(received.key)
        return [received for received in batch if received.key in fresh]

    def _receive(self, items: list[tuple[str, dict]], lanes: dict | None) -> dict[str, int]:
        with self.db.transaction(durable=True) as session:  # acknowledged right after: must survive power loss
            fresh = inbox.receive_with_ids(session, items, self.clock.now(),
                                           holder=self.shared.holder if self.shared else None, lanes=lanes)
        if time.monotonic() >= self._next_prune:
            self._prune()
        return fresh

    def _prune(self) -> None:
        self._next_prune = time.monotonic() + PRUNE_EVERY
        with self.db.transaction() as session:
            inbox.prune(session, self.clock.now() - INBOX_RETENTION)

    async def resume(self) -> int:
        """Submit what was received but never applied (a crash, or a stop during an outage).

        With several instances: only what no running instance holds, and from then on every
        ``ADOPT_EVERY`` seconds (an instance may die at any time).
        """
        if self.shared is not None:
            adopted = await self.adopt()
            self._adopter = asyncio.create_task(self._adopt_forever(), name=f"{self.platform} inbox adoption")
            return adopted
        resumed, after_id = 0, 0
        while True:
            def load(after_id=after_id) -> list[tuple[int, Received | None]]:
                with self.db.transaction() as session:
                    return _received(inbox.pending(session, self.key_prefix, after_id=after_id))
            page = await self.db.run(load)
            if not page:
                break
            after_id = page[-1][0]
            resumed += await self._submit_stored(page)
        if resumed:
            log.info("%s: resuming %s received but unapplied updates", self.platform, resumed)
        return resumed

    async def adopt(self) -> int:
        """Take over the unapplied updates of instances that no longer run, and queue them (oldest first)."""
        shared = self.shared

        def take() -> list[tuple[int, Received | None]]:
            with self.db.transaction() as session:
                return _received(inbox.adopt(session, self.key_prefix, shared.holder, shared.alive(session)))
        adopted = await self._submit_stored(await self.db.run(take))
        if adopted:
            log.info("%s: took over %s updates received by an instance that stopped", self.platform, adopted)
        return adopted

    async def _submit_stored(self, stored: list[tuple[int, "Received | None"]]) -> int:
        """Queue updates read back from the inbox (not those already queued); how many."""
        submitted = 0
        for row_id, received in stored:
            if received is not None and received.key not in self._queued:
                received.inbox_id = row_id
                await self.submit(received)
                submitted += 1
        return submitted

    async def _adopt_forever(self) -> None:
        while True:
            await asyncio.sleep(ADOPT_EVERY)
            try:
                await self.adopt()
            except Exception:  # noqa: BLE001 - tried again shortly
                log_failure(log, "%s: taking over updates of stopped instances failed", self.platform)

    async def submit(self, received: Received) -> None:
        """Queue one stored item in its lanes; waits while too much is queued already."""
        if received.key in self._queued:
            return  # already queued in this process (loaded at start, then redelivered)
        await self._room.acquire()
        self._queued.add(received.key)
        if self.shared is None:
            self.lanes.submit(received.lanes(), lambda: self._apply(received))
        else:
            self.lanes.submit(received.lanes(), received.inbox_id, lambda: self._attempt(received))

    async def _attempt(self, received: Received) -> bool:
        """Several instances: apply it, unless an earlier update of its chat or person is with another instance."""
        database_away = False
        try:
            waiting_for = await self.db.run(lambda: self._earlier_elsewhere(received))
        except Exception as error:  # noqa: BLE001
            if not is_unavailable(error):
                log_failure(log, "%s: could not look for earlier updates of the chat", self.platform)
            waiting_for, database_away = [], is_unavailable(error)
        if waiting_for or database_away:
            if self._stopping:  # left in the inbox: another instance (or the next start) takes it over
                self._queued.discard(received.key)
                self._room.release()
                return True
            if database_away:
                return False  # tried again in its place shortly
            since = self._waiting_since.setdefault(received.inbox_id, time.monotonic())
            if time.monotonic() - since < MAX_ORDER_WAIT:
                return False
            log.warning("%s: an earlier update of the same chat has waited %.0f s at another instance; "
                        "going on without it", self.platform, MAX_ORDER_WAIT)
        self._waiting_since.pop(received.inbox_id, None)
        await self._apply(received)
        return True

    def _earlier_elsewhere(self, received: Received) -> list[str]:
        chat_lane, person_lane = received.lanes()
        with self.db.transaction() as session:
            return inbox.earlier_elsewhere(session, received.inbox_id, chat_lane, person_lane, self.shared.holder)

    async def _apply(self, received: Received) -> None:
        try:
            outcome = await self._handle_until_stored(received)
            if outcome is not None and self._after is not None and not outcome.already_applied:
                try:
                    await self._after(received, outcome)
                except Exception:  # noqa: BLE001 - an answer to show is a nicety, the update is applied
                    log_failure(log, "after handling a %s update", self.platform)
        finally:
            self._queued.discard(received.key)
            self._room.release()
            if self._on_done is not None:
                await self._on_done(received)

    async def _handle_until_stored(self, received: Received) -> Outcome | None:
        backoff = Backoff(RETRY_START, RETRY_MAX)
        while True:
            try:
                return await self._handle(received.incoming)
            except Exception as error:  # noqa: BLE001
                if not is_unavailable(error):
                    raise
                if self._stopping:
                    return None  # still in the inbox: handled after the next start
                log.warning("database unavailable while handling a %s update (%s); retrying in %.1f s",
                            self.platform, type(error).__name__, backoff.delay)
                await backoff.wait()

    @property
    def queued(self) -> set[str]:
        """Keys queued in this process and not finished yet."""
        return self._queued

    async def stop(self, grace: float) -> None:
        """Finish what is being handled (up to ``grace`` seconds); the rest stays in the inbox."""
        self._stopping = True
        if self._adopter is not None:
            self._adopter.cancel()
            await asyncio.gather(self._adopter, return_exceptions=True)
            self._adopter = None
        if not await self.lanes.drain(grace):
            await self.lanes.cancel()


def received_from(incomings: Iterable[tuple[Incoming, dict]]) -> list[Received]:
    return [Received(incoming=incoming, extra=extra) for incoming, extra in incomings]


def _received(rows) -> list[tuple[int, "Received | None"]]:
    """Inbox rows as (row id, the update they stored); None where the content is gone."""
    return [(row.id, Received.from_payload(row.payload) if row.payload else None) for row in rows]
