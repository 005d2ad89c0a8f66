"""Metrics and health as an operator sees them: real HTTP against the running bot."""

import dataclasses
import json
import socket

import aiohttp
import pytest

from bot.config import MonitoringConfig
from bot.health_server import HealthServer
from bot.monitoring import Metrics
from handlers.clock import ManualClock
from storage.db import Database, make_engine
from tests.harness import START, Harness
from tests.telegram_people import assemble, file_report

SECRET_WHAT = "Kenteken 12-ABC-3 laadt nachtelijk vaten"


@pytest.fixture
async def monitored(server, database, clock):
    """The real bot with ``[monitoring]`` on a free loopback port."""
    harness = Harness(server, database, clock)
    harness.config = dataclasses.replace(harness.config, monitoring=MonitoringConfig(port=0))
    await harness.start()
    yield harness
    await harness.stop()


async def get(app, path: str) -> tuple[int, str]:
    health = app.health
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{health.host}:{health.port}{path}") as response:
            return response.status, await response.text()


def value(metrics: str, line_start: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric line {line_start!r}")


async def test_metrics_count_the_loop_without_content_or_identities(monitored, server):
    cast = await assemble(monitored, server)
    await file_report(monitored, server, cast.erik, cast.group, what=SECRET_WHAT)
    status, metrics = await get(monitored.app, "/metrics")
    assert status == 200
    assert value(metrics, 'weerbaar_reports{park="spaanse-polder",status="open"}') == 1
    assert value(metrics, 'weerbaar_updates_handled_total{kind="button",platform="telegram",result="ok"}') >= 5
    assert value(metrics, 'weerbaar_updates_handled_total{kind="command",platform="telegram",result="ok"}') >= 5
    assert value(metrics, 'weerbaar_outbox_deliveries_total{platform="telegram",purpose="delivery",result="sent"}') == 2
    assert value(metrics, 'weerbaar_handler_seconds_count{platform="telegram"}') >= 10
    for secret in (SECRET_WHAT, "Loods 7", "Erik", "erik_ondernemer", str(cast.erik.id)):
        assert secret not in metrics


async def test_overdue_reports_and_sweeps_are_measured(monitored, server):
    from datetime import timedelta

    cast = await assemble(monitored, server)
    await file_report(monitored, server, cast.erik, cast.group)
    monitored.clock.advance(timedelta(hours=5))  # past the first reminder (4 working hours)
    _, before = await get(monitored.app, "/metrics")
    assert value(before, 'weerbaar_reports_overdue{park="spaanse-polder"}') == 1
    await monitored.app.jobs.run_sweeps()
    await monitored.settle()
    _, after = await get(monitored.app, "/metrics")
    assert value(after, "weerbaar_sweep_seconds_count") == 1
    assert value(after, "weerbaar_reminder_sweep_reminders_total") >= 1
    assert 'weerbaar_reports_overdue{park="spaanse-polder"}' not in after


async def test_health_and_readiness(monitored):
    status, body = await get(monitored.app, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert json.loads(body)["role"] == "leader"  # alone, it leads: it runs the sweeps
    status, body = await get(monitored.app, "/readyz")
    assert status == 200 and '"telegram": true' in body and '"database": true' in body
    _, metrics = await get(monitored.app, "/metrics")
    assert value(metrics, "weerbaar_leader") == 1 and value(metrics, "weerbaar_leader_elections_total") == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_not_ready_when_the_database_is_unreachable():
    unreachable = Database(make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none"))
    server = HealthServer("127.0.0.1", 0, Metrics(unreachable, ManualClock(START)), unreachable,
                          platforms_connected=lambda: {"telegram": True})
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{server.port}/readyz") as response:
                assert response.status == 503
                assert (await response.json())["checks"] == {"database": False, "telegram": True}
            async with session.get(f"http://127.0.0.1:{server.port}/healthz") as response:
                assert response.status == 200
    finally:
        await server.stop()
