"""The periodic sweeps over the database: one asyncio task, a sweep every interval.

A plain task, not APScheduler: one job on a fixed interval needs no scheduler, and importing
APScheduler (with the package metadata, multiprocessing and tzlocal it pulls in) was ~45 ms of
the bot's start-up CPU, measured with ``bench/startup.py``. The behaviour is the one the
scheduler was configured for: the first sweep one interval after the start, then on that
grid; one sweep at a time, and moments missed while a sweep ran long are not made up.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from bot.safe_logging import log_failure
from handlers import membership, park_sweeps
from handlers.retention import run_retention
from handlers.services import Services
from handlers.sweeps import expire_idle_drafts, prune_delivered_messages, send_due_reminders

log = logging.getLogger(__name__)


class Jobs:
    def __init__(self, services: Services, interval: timedelta, after_sweep: Callable[[], None],
                 on_swept: Callable[[float, int], None] | None = None):
        self.services = services
        self.interval = interval
        self.after_sweep = after_sweep
        #: Told each sweep's duration in seconds and how many reminders it sent (the metrics).
        self.on_swept = on_swept
        #: Whether this instance may sweep now (several instances: only the leader; checked at each run).
        self.may_run: Callable[[], bool] = lambda: True
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():  # elected again: the one task goes on
            self._task = asyncio.get_running_loop().create_task(self._every_interval(), name="sweeps")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _every_interval(self) -> None:
        loop = asyncio.get_running_loop()
        seconds = self.interval.total_seconds()
        due = loop.time() + seconds
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            await self._scheduled_sweep()
            due += seconds
            if due <= loop.time():  # the sweep outlasted the interval: the next moment on the grid
                due += (loop.time() - due) // seconds * seconds + seconds

    async def _scheduled_sweep(self) -> None:
        if not self.may_run():
            log.info("sweep skipped: this instance is not the leader (its lease was not renewed in time)")
            return
        await self.run_sweeps()

    async def run_sweeps(self) -> None:
        """One sweep: due reminders and escalations, expired drafts, old delivered messages."""
        started = time.perf_counter()
        try:
            # In a worker thread: a national sweep takes seconds, and chats must not wait for it.
            reminded = await asyncio.to_thread(send_due_reminders, self.services)
            expired = await asyncio.to_thread(expire_idle_drafts, self.services)
            pruned = await asyncio.to_thread(prune_delivered_messages, self.services)
            park_level = await asyncio.to_thread(park_sweeps.run, self.services)  # issue 12: requests, digests, scans
            await membership.recheck(self.services)  # who is still in the park's group (one policy: handlers.membership)
            purged = await asyncio.to_thread(run_retention, self.services)
        except Exception:  # noqa: BLE001 - the next sweep tries again
            log_failure(log, "sweep failed")
            return
        if self.on_swept is not None:
            self.on_swept(time.perf_counter() - started, reminded)
        if reminded or expired or pruned or purged:
            log.info("sweep: %s reminders, %s expired drafts, %s old messages pruned, %s reports purged",
                     reminded, expired, pruned, purged)
        if reminded or expired or park_level or purged:
            self.after_sweep()
