"""Prometheus metrics, with no content and no identities: counts, durations and park slugs only.

The counters live in a registry of their own (one per running bot, never the library's
global one). Figures that the database already knows (outbox backlog, overdue reports,
reports and feedback per park) are read from it at scrape time, so every instance that
shares one PostgreSQL reports the same truth.
"""

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func
from sqlmodel import Session, col, select

from handlers.clock import Clock
from handlers.messages import Incoming, Outcome
from storage.db import Database
from storage.models import OutboxMessage, Park, Report

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def kind_of(incoming: Incoming) -> str:
    """What sort of update this was, for the ``kind`` label (never its text)."""
    if incoming.press is not None:
        return "button"
    if incoming.command:
        return "command"
    if incoming.photo:
        return "photo"
    if incoming.location:
        return "location"
    if incoming.migrated_to_chat_id:
        return "migration"
    return "text" if incoming.text is not None else "other"


class Metrics:
    """The bot's counters and the database figures, rendered in the Prometheus text format."""

    def __init__(self, db: Database, clock: Clock):
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter("weerbaar_updates_handled", "Updates handled, by platform and kind",
                               ["platform", "kind", "result"], registry=self.registry)
        self.handler_seconds = Histogram("weerbaar_handler_seconds", "Time to handle one update",
                                         ["platform"], registry=self.registry,
                                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.deliveries = Counter("weerbaar_outbox_deliveries", "Outbox delivery attempts by result",
                                  ["platform", "purpose", "result"], registry=self.registry)
        self.reminders = Counter("weerbaar_reminder_sweep_reminders", "Reminders and escalations sent by sweeps",
                                 registry=self.registry)
        self.sweep_seconds = Histogram("weerbaar_sweep_seconds", "Duration of one sweep", registry=self.registry,
                                       buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300))
        self.webhook_requests = Counter("weerbaar_telegram_webhook_requests",
                                        "Telegram webhook requests by result (stored, forbidden, bad_request, "
                                        "unavailable, failed)", ["result"], registry=self.registry)
        self.registry.register(_DatabaseFigures(db, clock))

    def watch_role(self, role: Callable[[], dict]) -> None:
        """Export leader or standby, the elections won and the running instances (read at scrape time)."""
        self.registry.register(_Role(role))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def metered_handle(self, handle: Callable[[Incoming], Awaitable[Outcome]]
                       ) -> Callable[[Incoming], Awaitable[Outcome]]:
        """Wrap the bootstrap's handle: count each update and time it."""
        async def counted(incoming: Incoming) -> Outcome:
            started = time.perf_counter()
            result = "ok"
            try:
                outcome = await handle(incoming)
                if outcome.failed:
                    result = "failed"
                return outcome
            except BaseException:
                result = "failed"
                raise
            finally:
                self.handler_seconds.labels(incoming.chat.platform).observe(time.perf_counter() - started)
                self.updates.labels(incoming.chat.platform, kind_of(incoming), result).inc()
        return counted

    def count_delivery(self, row: OutboxMessage, result: object) -> None:
        """One delivery attempt's result: sent, rate_limited (429), transient (retried), permanent, redirect."""
        name = {"Sent": "sent", "RetryAfter": "rate_limited", "Transient": "transient",
                "Permanent": "permanent", "Redirect": "redirect"}.get(type(result).__name__, "other")
        self.deliveries.labels(row.platform, row.purpose, name).inc()


class MeteredSender:
    """An outbox sender that counts what each delivery attempt came to."""

    def __init__(self, sender, metrics: Metrics):
        self.sender = sender
        self.metrics = metrics

    async def deliver(self, row: OutboxMessage):
        result = await self.sender.deliver(row)
        self.metrics.count_delivery(row, result)
        return result

    def __getattr__(self, name: str):
        return getattr(self.sender, name)


class _Role:
    """This instance's part among several: leader (1) or standby (0), elections won, instances running."""

    def __init__(self, role: Callable[[], dict]):
        self.role = role

    def describe(self):
        return []

    def collect(self):
        role = self.role()
        leader = GaugeMetricFamily("weerbaar_leader", "1 when this instance leads (syncs Matrix, runs the sweeps)")
        leader.add_metric([], 1 if role.get("role") == "leader" else 0)
        yield leader
        elections = CounterMetricFamily("weerbaar_leader_elections", "Times this instance became the leader")
        elections.add_metric([], role.get("elections", 0))
        yield elections
        if "running_instances" in role:
            running = GaugeMetricFamily("weerbaar_running_instances", "Instances with a live heartbeat")
            running.add_metric([], role["running_instances"])
            yield running


class _DatabaseFigures:
    """Collected at scrape time: outbox backlog, overdue reports, reports and feedback per park."""

    def __init__(self, db: Database, clock: Clock):
        self.db = db
        self.clock = clock

    def describe(self):
        return []

    def collect(self):
        now = self.clock.now()
        pending = GaugeMetricFamily("weerbaar_outbox_pending", "Outbox messages waiting to be sent", labels=["platform"])
        oldest = GaugeMetricFamily("weerbaar_outbox_oldest_pending_seconds", "Age of the oldest waiting message",
                                   labels=["platform"])
        failed = GaugeMetricFamily("weerbaar_outbox_failed", "Outbox messages that failed for good (until pruned)",
                                   labels=["platform", "purpose"])
        overdue = GaugeMetricFamily("weerbaar_reports_overdue", "Open reports whose reminder is due",
                                    labels=["park"])
        reports = GaugeMetricFamily("weerbaar_reports", "Reports ever filed, by park and status",
                                    labels=["park", "status"])
        answered = GaugeMetricFamily("weerbaar_reports_with_feedback", "Reports that received feedback, by park",
                                     labels=["park"])
        with Session(self.db.engine) as session:
            for platform, count, first in session.exec(
                    select(OutboxMessage.platform, func.count(), func.min(OutboxMessage.created_at))
                    .where(OutboxMessage.status == "pending").group_by(OutboxMessage.platform)):
                pending.add_metric([platform], count)
                oldest.add_metric([platform], max((now - first).total_seconds(), 0.0))
            for platform, purpose, count in session.exec(
                    select(OutboxMessage.platform, OutboxMessage.purpose, func.count())
                    .where(OutboxMessage.status == "failed")
                    .group_by(OutboxMessage.platform, OutboxMessage.purpose)):
                failed.add_metric([platform, purpose], count)
            for slug, count in session.exec(
                    select(Park.slug, func.count()).join(Report, col(Report.park_id) == col(Park.id))
                    .where(Report.status == "open", col(Report.next_reminder_at) <= now).group_by(Park.slug)):
                overdue.add_metric([slug], count)
            for slug, status, count in session.exec(
                    select(Park.slug, Report.status, func.count()).join(Report, col(Report.park_id) == col(Park.id))
                    .group_by(Park.slug, Report.status)):
                reports.add_metric([slug, status], count)
            for slug, count in session.exec(
                    select(Park.slug, func.count()).join(Report, col(Report.park_id) == col(Park.id))
                    .where(col(Report.first_feedback_at).is_not(None)).group_by(Park.slug)):
                answered.add_metric([slug], count)
        yield from (pending, oldest, failed, overdue, reports, answered)
