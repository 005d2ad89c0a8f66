"""The operator's HTTP endpoints: ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``.

``/healthz`` answers as long as the process runs its event loop. ``/readyz`` answers 200
only when the database is reachable and every configured platform is connected, so a load
balancer or orchestrator sends no traffic to an instance that cannot handle it. Bound to
loopback unless configured otherwise: the figures are not secret, but they are nobody's business.
Both answers also say this instance's role: ``leader`` (syncs Matrix, runs the sweeps) or
``standby``, who leads, and with several instances how many run. A standby is ready: it takes
Telegram webhooks and sends Telegram messages like the leader.
"""

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import text

from bot.monitoring import CONTENT_TYPE, Metrics
from storage.db import Database

log = logging.getLogger(__name__)


class HealthServer:
    def __init__(self, host: str, port: int, metrics: Metrics, db: Database,
                 platforms_connected: Callable[[], dict[str, bool]], role: Callable[[], dict] | None = None):
        self.host = host
        self.port = port
        self.metrics = metrics
        self.db = db
        self.platforms_connected = platforms_connected
        self.role = role or (lambda: {})
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # the real port when 0 was asked for
        log.info("metrics and health on http://%s:%s/", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = await asyncio.to_thread(self.metrics.render)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **self.role()})

    async def _readyz(self, _request: web.Request) -> web.Response:
        checks = {"database": await asyncio.to_thread(self._database_reachable)}
        checks.update(self.platforms_connected())
        ready = all(checks.values())
        return web.json_response({"status": "ready" if ready else "not ready", "checks": checks, **self.role()},
                                 status=200 if ready else 503)

    def _database_reachable(self) -> bool:
        try:
            with self.db.engine.connect() as connection:
                connection.execute(text("select 1"))
        except Exception:  # noqa: BLE001 - any failure means: not ready
            return False
        return True
