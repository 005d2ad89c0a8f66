"""Several instances on one PostgreSQL: each one's heartbeat, and the one leader among them.

- **Heartbeat.** Every instance in webhook mode holds a lease ``instance:<name>`` renewed every
  ``HEARTBEAT_RENEW`` seconds. Others read them to know who runs: inbox updates held by an
  instance without a heartbeat are taken over (``bot.pipeline``), and the overall send budget
  is divided by the number of running instances (``bot.pacing``).
- **Leader.** One instance is the leader (lease ``leader``, renewed every ``LEADER_RENEW``
  seconds, ``LEADER_TTL`` long): it syncs the Matrix account -- two clients with the same
  device would corrupt its olm sessions -- and runs the sweeps, so no job runs twice. The
  others are standby and try to take the lease every ``LEADER_RENEW`` seconds: when the
  leader dies it is taken over after ``LEADER_TTL`` (at once when the leader was a process
  on this machine). A leader that could not renew for ``LEADER_TTL - SAFETY`` seconds
  (the database is away for it) pauses: no sweep, no Matrix sync or send, until it renews;
  if it then finds the lease taken by another it stops the process (its restart comes back
  as standby), so two syncers never overlap.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.safe_logging import log_failure
from bot.single_instance import InstanceLease, holder_is_gone, instance_name
from handlers.clock import Clock
from storage import leases
from storage.db import Database

log = logging.getLogger(__name__)

HEARTBEAT_TTL, HEARTBEAT_RENEW = timedelta(seconds=15), 5.0
LEADER_TTL, LEADER_RENEW, SAFETY = timedelta(seconds=10), 2.0, 3.0
INSTANCE_PREFIX = "instance:"
LEADER = "leader"


class Instance:
    """This process among the instances: its name, its heartbeat, and how many run."""

    def __init__(self, db: Database, clock: Clock, on_count: Callable[[int], None] | None = None):
        self.db = db
        self.clock = clock
        self.name = instance_name()
        self.running_instances = 1
        self._on_count = on_count or (lambda count: None)
        self._heartbeat = InstanceLease(db, clock, f"{INSTANCE_PREFIX}{self.name}", holder=self.name,
                                        ttl=HEARTBEAT_TTL, renew=HEARTBEAT_RENEW)
        self._counter: asyncio.Task | None = None

    async def start(self) -> None:
        await self._heartbeat.acquire()
        await self._count()
        self._counter = asyncio.create_task(self._count_forever(), name="instances")

    async def stop(self) -> None:
        if self._counter is not None:
            self._counter.cancel()
            await asyncio.gather(self._counter, return_exceptions=True)
            self._counter = None
        await self._heartbeat.release()

    def alive(self, session) -> Callable[[str], bool]:
        """A check, within ``session``: does this holder still run (a heartbeat, and not a dead local process)?"""
        running = leases.live_holders(session, INSTANCE_PREFIX, self.clock.now())
        return lambda holder: holder in running and not holder_is_gone(holder)

    async def _count(self) -> None:
        def count() -> int:
            with self.db.transaction() as session:
                alive = self.alive(session)
                return sum(1 for holder in leases.live_holders(session, INSTANCE_PREFIX, self.clock.now())
                           if alive(holder))
        try:
            running = max(await self.db.run(count), 1)
        except Exception:  # noqa: BLE001 - keep the last count
            log_failure(log, "could not count the running instances")
            return
        if running != self.running_instances:
            log.info("%s instance(s) running", running)
        self.running_instances = running
        self._on_count(running)

    async def _count_forever(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_RENEW)
            await self._count()


class Leadership:
    """Elects one leader among the instances; ``on_elected`` runs once when this one becomes it."""

    def __init__(self, db: Database, clock: Clock, holder: str, on_elected: Callable[[], Awaitable[None]],
                 on_lost: Callable[[str], None]):
        self.db = db
        self.clock = clock
        self.holder = holder
        self._on_elected = on_elected
        self._on_lost = on_lost
        self.elected = False
        self.leader: str | None = None
        self._renewed_at = 0.0
        self._task: asyncio.Task | None = None
        self._duties: asyncio.Task | None = None
        self.elections = 0

    @property
    def is_leader(self) -> bool:
        """Leader with a lease renewed recently enough that nobody else can have taken it."""
        return self.elected and time.monotonic() - self._renewed_at < LEADER_TTL.total_seconds() - SAFETY

    @property
    def state(self) -> str:
        return "leader" if self.is_leader else "standby"

    async def start(self) -> None:
        """Try once now, then keep trying (standby) or renewing (leader) in the background.

        When elected right away (a single instance) the leader's duties start before this
        returns, and a failure among them goes to the caller, as when there was no election.
        """
        elected_now = await self._round(take_up_duties=False)
        self._task = asyncio.create_task(self._forever(), name="leadership")
        if elected_now:
            await self._on_elected()

    async def halt(self) -> None:
        """Stop renewing and taking (the lease stays until ``stop``: Matrix is stopped in between)."""
        for task in (self._task, self._duties):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._duties = None

    async def stop(self) -> None:
        """Hand the lease back, so a standby takes over at once."""
        await self.halt()
        if self.elected:
            def drop() -> None:
                with self.db.transaction() as session:
                    leases.release(session, LEADER, self.holder)
            try:
                await self.db.run(drop)
            except Exception:  # noqa: BLE001 - it runs out by itself
                log_failure(log, "could not hand back the leadership")
            self.elected = False

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(LEADER_RENEW)
            await self._round()

    async def _round(self, take_up_duties: bool = True) -> bool:
        """Take or renew the lease; True when this instance just became the leader."""
        def take() -> str | None:
            with self.db.transaction() as session:
                return leases.acquire(session, LEADER, self.holder, self.clock.now(), LEADER_TTL, holder_is_gone)
        try:
            other = await self.db.run(take)
        except Exception:  # noqa: BLE001 - the database may blip; is_leader runs out meanwhile
            log_failure(log, "could not renew or take the leadership")
            return False
        if other is not None:
            self.leader = other
            if self.elected:
                self.elected = False
                self._on_lost(f"lost the leadership to {other}; stopping so that only one instance syncs "
                              "Matrix and runs the sweeps (a restart comes back as standby)")
            return False
        self.leader = self.holder
        self._renewed_at = time.monotonic()
        if self.elected:
            return False
        self.elected = True
        self.elections += 1
        log.info("this instance is the leader now (Matrix sync, sweeps)")
        if take_up_duties:  # its own task: a Matrix start takes seconds, and the lease must be renewed meanwhile
            self._duties = asyncio.create_task(self._take_up_duties(), name="leader duties")
        return True

    async def _take_up_duties(self) -> None:
        try:
            await self._on_elected()
        except Exception:  # noqa: BLE001 - a leader that cannot start its duties steps down
            log_failure(log, "starting the leader's duties failed; stepping down")
            self._on_lost("could not start the leader's duties (Matrix sync, sweeps)")
