"""One poller per bot token, one syncer per Matrix account: a lease row in the database.

The holder renews its lease every ``RENEW`` seconds. A second instance finds the lease
held and exits with a clear message. A lease whose holder crashed is taken over when it
ran out, or at once when the holder was a process on this machine that no longer exists
(a restart after a crash does not wait).
"""

import asyncio
import logging
import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from bot.safe_logging import log_failure
from handlers.clock import Clock
from storage import leases
from storage.db import Database

log = logging.getLogger(__name__)

TTL = timedelta(seconds=30)
RENEW = 10.0


class AnotherInstance(RuntimeError):
    """Someone else holds the lease."""


class InstanceLease:
    def __init__(self, db: Database, clock: Clock, name: str, holder: str | None = None,
                 ttl: timedelta = TTL, renew: float = RENEW):
        self.db = db
        self.clock = clock
        self.name = name
        self.holder = holder or instance_name()
        self.ttl = ttl
        self.renew = renew
        self._task: asyncio.Task | None = None

    async def acquire(self) -> None:
        """Take the lease and keep renewing it; raises ``AnotherInstance`` if it is held."""
        other = await self.db.run(self._take)
        if other is not None:
            raise AnotherInstance(f"another Weerbaar instance ({other}) already runs {self.name}; "
                                  "only one may. Stop it first, or wait until its lease runs out.")
        self._task = asyncio.create_task(self._renew_forever(), name=f"lease {self.name}")

    def _take(self) -> str | None:
        for attempt in range(2):
            try:
                with self.db.transaction() as session:
                    return leases.acquire(session, self.name, self.holder, self.clock.now(), self.ttl, holder_is_gone)
            except IntegrityError:
                if attempt:
                    raise
        return None

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.renew)
            try:
                other = await self.db.run(self._take)
            except Exception:  # noqa: BLE001 - the database may blip; the lease lasts longer than a renewal
                log_failure(log, "could not renew the lease %s", self.name)
                continue
            if other is not None:
                log.error("lost the lease %s to %s", self.name, other)

    async def release(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

        def drop() -> None:
            with self.db.transaction() as session:
                leases.release(session, self.name, self.holder)
        try:
            await self.db.run(drop)
        except Exception:  # noqa: BLE001 - it runs out by itself
            log_failure(log, "could not release the lease %s", self.name)


def instance_name() -> str:
    """Who holds a lease: this machine, this process, and a random part (two holders in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_gone(holder: str) -> bool:
    """True when the holder was a process on this machine that has ended."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
