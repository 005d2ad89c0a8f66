"""The one bootstrap: picks the concrete parts and wires them together."""

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Config, MonitoringConfig
from bot.dispatcher import OutboxDispatcher
from bot.instances import Instance, Leadership
from bot.jobs import Jobs
from bot.pacing import MATRIX_LIMITS, TELEGRAM_LIMITS, Pacing
from bot.park_setup import apply_parks
from bot.pipeline import SharedInbox
from bot.telegram_adapter import TelegramAdapter
from bot.telegram_menus import register_menus
from bot.safe_logging import log_failure
from handlers import failures, rate_limits, router
from handlers.clock import Clock, SystemClock
from handlers.i18n import Translator
from handlers.messages import Incoming, Outcome
from handlers.outbox import enqueue
from handlers.services import Services, Settings
from storage.db import Database, is_unavailable, make_engine, schema_lock, upgrade
from storage.inbox import mark_applied

if TYPE_CHECKING:  # imported only when configured: matrix-nio costs ~30 MiB, aiohttp and prometheus ~10 MiB
    from bot.health_server import HealthServer
    from bot.matrix_adapter import MatrixAdapter
    from bot.monitoring import Metrics

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10  # a message being sent at shutdown may finish; then the task is cancelled


@dataclass
class Weerbaar:
    """A running deployment: services, adapters, the outbox dispatcher and the jobs."""

    services: Services
    dispatcher: OutboxDispatcher
    jobs: Jobs
    telegram: TelegramAdapter | None = None
    matrix: "MatrixAdapter | None" = None
    #: Why the deployment cannot go on (e.g. another instance polls the same token); the CLI exits.
    fatal: str | None = None
    health: "HealthServer | None" = None
    #: Webhook mode: this instance's heartbeat among several (None with one poller).
    instance: Instance | None = None
    #: Who syncs Matrix and runs the sweeps (the leader; the others are standby).
    leadership: Leadership | None = None
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _run_jobs: bool = True
    _fatal_listeners: list = field(default_factory=list)
    flood_guard: rate_limits.FloodGuard = field(default_factory=rate_limits.FloodGuard)

    async def start(self, run_jobs: bool = True) -> None:
        if self.health is not None:  # first, so /healthz answers while the platforms connect
            await self.health.start()
        if self.instance is not None:
            await self.instance.start()
        if self.telegram is not None:
            await self.telegram.start()
            await register_menus(self.telegram.application.bot, self.services.texts)
        self._run_jobs = run_jobs
        if self.leadership is None:
            self.leadership = Leadership(self.services.db, self.services.clock,
                                         self.instance.name if self.instance else self.dispatcher.holder,
                                         on_elected=self._lead, on_lost=self.on_fatal)
            self.jobs.may_run = lambda: self.leadership.is_leader
            if self.matrix is not None:  # a leader whose lease lapses stops syncing before another may start
                self.matrix.may_sync = lambda: self.leadership.is_leader
        await self.leadership.start()  # a single instance leads at once: Matrix is synced before this returns
        self._tasks.append(asyncio.create_task(self.dispatcher.run_forever(), name="outbox"))

    async def _lead(self) -> None:
        """The leader's duties: sync Matrix (one client per device) and run the sweeps (once, not per instance)."""
        if self.matrix is not None:
            await self.matrix.start()
        if self._run_jobs:
            self.jobs.start()
        self.dispatcher.wake()

    async def stop(self) -> None:
        if self.leadership is not None:
            await self.leadership.halt()
        self.jobs.stop()
        self.dispatcher.stop()
        _, still_running = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS) if self._tasks else ((), ())
        for task in still_running:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.matrix is not None:
            await self.matrix.stop()
        if self.telegram is not None:
            await self.telegram.stop()
        if self.leadership is not None:
            await self.leadership.stop()
        if self.instance is not None:
            await self.instance.stop()
        if self.health is not None:
            await self.health.stop()
        self.services.db.close()

    def platforms_connected(self) -> dict[str, bool]:
        """For ``/readyz``: is each configured platform connected? (Matrix only on the leader: a standby is ready.)"""
        adapters = {"telegram": self.telegram, "matrix": self.matrix}
        connected = {name: adapter.connected for name, adapter in adapters.items() if adapter is not None}
        if self.matrix is not None and self.leadership is not None and not self.leadership.elected:
            del connected["matrix"]
        return connected

    def role(self) -> dict:
        """For ``/readyz`` and the metrics: leader or standby, and who leads."""
        leadership = self.leadership
        if leadership is None:
            return {"role": "starting"}
        role = {"role": leadership.state, "leader": leadership.leader, "elections": leadership.elections}
        if self.instance is not None:
            role["instance"] = self.instance.name
            role["running_instances"] = self.instance.running_instances
        return role

    def add_fatal_listener(self, listener) -> None:
        self._fatal_listeners.append(listener)

    def on_fatal(self, message: str) -> None:
        self.fatal = message
        for listener in self._fatal_listeners:
            listener(message)

    async def handle(self, incoming: Incoming) -> Outcome:
        """Handle one message; if that fails, nothing was saved: log it safely and apologise.

        An unreachable database is not a failure of the message: the error goes back to the
        pipeline, which keeps the update and tries again, instead of apologising.
        """
        try:
            verdict = self.flood_guard.admit(incoming.sender.platform, incoming.sender.external_id,
                                             self.services.clock.now())
            if verdict != "handle":  # a flood from one person: dropped before any handler work (issue 13)
                await self.services.db.run(
                    lambda: rate_limits.drop_flooded(self.services, incoming, notice=verdict == "notice"))
                return Outcome()
            return await router.handle(self.services, incoming)
        except Exception as error:  # noqa: BLE001 - one bad message must not stop the bot
            if is_unavailable(error):
                raise
            log_failure(log, "handling a %s message failed", incoming.chat.platform)
            await self.services.db.run(lambda: _apologise(self.services, incoming))
            return Outcome(failed=True)


def prepare_database(config: Config) -> Database:
    """Create the engine, migrate the schema and apply the configured parks (under the schema lock)."""
    db = Database(make_engine(config.database_url), workers=config.database_threads)
    upgrade(db.engine)
    with schema_lock(db.engine):
        with db.transaction() as session:
            apply_parks(session, config)
    return db


def build(config: Config, clock: Clock | None = None, db: Database | None = None,
          pacing: dict[str, Pacing] | None = None) -> Weerbaar:
    """Wire a deployment; ``pacing`` replaces the platforms' send limits (tests without flood control)."""
    clock = clock or SystemClock()
    db = db or prepare_database(config)
    settings = Settings(draft_idle_timeout=config.draft_idle_timeout, invite_valid_for=config.invite_valid_for,
                        official_roles=config.official_roles, outbox_retention=config.outbox_retention)
    services = Services(db=db, clock=clock, texts=Translator.load(), settings=settings)
    if pacing is None:
        pacing = {"telegram": Pacing(TELEGRAM_LIMITS), "matrix": Pacing(MATRIX_LIMITS, is_private=lambda chat: False)}
        if config.telegram is not None and config.telegram.pacing == "off":  # a Bot API without flood control
            del pacing["telegram"]
    several = config.telegram is not None and config.telegram.mode == "webhook"
    instance = None
    if several:  # webhook mode: any number of instances share the database, the pacing and the inbox
        telegram_pacing = pacing.get("telegram")
        instance = Instance(db, clock, on_count=telegram_pacing.set_instances if telegram_pacing else None)
    dispatcher = OutboxDispatcher(db, clock, senders={}, pacing=pacing, on_failure=lambda session, row:
                                  failures.on_permanent_failure(session, services, row),
                                  holder=instance.name if instance else None, shared_pacing=several)
    app = Weerbaar(services=services, dispatcher=dispatcher,
                   jobs=Jobs(services, config.sweep_interval, after_sweep=dispatcher.wake),
                   flood_guard=rate_limits.FloodGuard(limit=config.flood_per_minute), instance=instance)
    metrics = None
    if config.monitoring is not None:
        from bot.monitoring import Metrics

        metrics = Metrics(db, clock)
    handle = metrics.metered_handle(app.handle) if metrics is not None else app.handle
    if config.telegram is not None:
        app.telegram = TelegramAdapter(
            config.telegram, db, clock, handle=handle,
            after_update=dispatcher.wake, on_fatal=app.on_fatal,
            shared=SharedInbox(instance.name, instance.alive) if instance else None)
        services.platforms["telegram"] = app.telegram
        dispatcher.senders["telegram"] = app.telegram
    if config.matrix is not None:
        from bot.matrix_adapter import MatrixAdapter

        app.matrix = MatrixAdapter(
            config.matrix, db, clock, services.texts, handle=handle,
            after_event=dispatcher.wake)
        services.platforms["matrix"] = app.matrix
        dispatcher.senders["matrix"] = app.matrix
    if metrics is not None:
        _add_monitoring(app, config.monitoring, metrics, db)
    if app.telegram is not None and app.matrix is not None:
        # A photo reported on one platform reaches officials on the other as bytes.
        app.telegram.foreign_photos = app.matrix.fetch_photo
        app.matrix.foreign_photos = app.telegram.fetch_photo
        app.telegram.foreign_files = app.matrix.fetch_file  # files and videos too (issue 12's help replies)
        app.matrix.foreign_files = app.telegram.fetch_file
    return app


def _add_monitoring(app: Weerbaar, monitoring: MonitoringConfig, metrics: "Metrics", db: Database) -> None:
    """Count deliveries and sweeps, and serve ``/metrics``, ``/healthz``, ``/readyz``."""
    from bot.health_server import HealthServer
    from bot.monitoring import MeteredSender

    for platform, sender in list(app.dispatcher.senders.items()):
        app.dispatcher.senders[platform] = MeteredSender(sender, metrics)

    def swept(seconds: float, reminders: int) -> None:
        metrics.sweep_seconds.observe(seconds)
        metrics.reminders.inc(reminders)
    app.jobs.on_swept = swept
    if app.telegram is not None:
        app.telegram.on_webhook_request = lambda result: metrics.webhook_requests.labels(result).inc()
    metrics.watch_role(app.role)
    app.health = HealthServer(monitoring.host, monitoring.port, metrics, db, app.platforms_connected, app.role)


def _apologise(services: Services, incoming: Incoming) -> None:
    """Something broke while handling: nothing was saved; say so in the person's language (once)."""
    try:
        with services.db.transaction() as session:
            if incoming.update_key and not mark_applied(session, incoming.update_key, services.clock.now()):
                return
            language = services.texts.language_for(incoming.sender.language_code)
            enqueue(session, now=services.clock.now(), platform=incoming.chat.platform,
                    chat_id=incoming.chat.chat_id, text=services.texts(language, "error.internal"))
    except Exception:  # noqa: BLE001
        log_failure(log, "could not even apologise")
