"""Telegram webhook mode: an aiohttp endpoint that answers 200 only after the update is in the inbox.

Why our own aiohttp endpoint and not python-telegram-bot's ``Updater.start_webhook``: PTB's
webhook server answers Telegram as soon as the update is in its in-memory queue, before
anything is stored, so a crash right after loses the update -- the same reason the poller is
our own. Here each request is checked (the ``X-Telegram-Bot-Api-Secret-Token`` header,
compared in constant time: 403 otherwise), parsed, stored in the inbox, and only after the
commit answered 200. When the database is unreachable the answer is 503, and Telegram sends
the update again later (to this instance or, behind a load balancer, another one).

Requests that arrive together are stored together (one durable commit for all of them, by
one writer task), in the order they arrived, and queued for handling in that order: the row
ids of one instance grow in the order its updates are handled.
"""

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import WebhookConfig
from bot.safe_logging import log_failure
from storage.db import is_unavailable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few kB; Telegram's largest are far below this
BATCH = 100

Take = Callable[[list[dict]], Awaitable[None]]


class WebhookServer:
    """Listens for Telegram's POSTs; ``take`` stores a batch of raw updates (raises when it cannot)."""

    def __init__(self, config: WebhookConfig, take: Take, count: Callable[[str], None] | None = None):
        self.config = config
        self._take = take
        self._count = count or (lambda result: None)
        self._runner: web.AppRunner | None = None
        self._queue: asyncio.Queue[tuple[dict, asyncio.Future]] = asyncio.Queue()
        self._writer: asyncio.Task | None = None
        self.port: int | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.config.path, self._on_update)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.config.listen_host, self.config.listen_port).start()
        self.port = self._runner.addresses[0][1]
        self._writer = asyncio.create_task(self._write_forever(), name="telegram webhook inbox")
        log.info("Telegram webhook listening on %s:%s%s", self.config.listen_host, self.port, self.config.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # first: no new requests; Telegram sends them elsewhere or later
            self._runner = None
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None

    @property
    def running(self) -> bool:
        return self._runner is not None and self._writer is not None and not self._writer.done()

    async def _on_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.config.secret.encode()):
            self._count("forbidden")
            return web.Response(status=403, text="forbidden")
        try:
            update = await request.json()
        except ValueError:
            update = None
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            self._count("bad_request")
            return web.Response(status=400, text="not an update")
        stored = asyncio.get_running_loop().create_future()
        await self._queue.put((update, stored))
        try:
            await stored
        except Exception as error:  # noqa: BLE001 - not stored: Telegram must send it again
            if is_unavailable(error):
                self._count("unavailable")
                return web.Response(status=503, text="database unavailable, send again later")
            self._count("failed")
            return web.Response(status=500, text="not stored")
        self._count("stored")
        return web.Response(status=200)

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < BATCH:
                batch.append(self._queue.get_nowait())
            try:
                await self._take([update for update, _ in batch])
            except Exception as error:  # noqa: BLE001 - each request answers non-2xx
                if not is_unavailable(error):
                    log_failure(log, "storing a batch of Telegram webhook updates failed")
                for _, stored in batch:
                    if not stored.done():
                        stored.set_exception(error)
                continue
            for _, stored in batch:
                if not stored.done():
                    stored.set_result(None)
