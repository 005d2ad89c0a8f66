"""APScheduler jobs: periodic sweeps over the database."""

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

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
        self.scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        self.scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        self.scheduler.add_job(self._scheduled_sweep, "interval", seconds=self.interval.total_seconds(),
                               id="sweeps", max_instances=1, coalesce=True)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

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
