"""Webhooks as the Bot API server does them: setWebhook, deleteWebhook, getWebhookInfo, delivery.

What the real server does (telegram-bot-api's ``WebhookActor``) and the fake copies:

- ``setWebhook`` checks the URL and ``secret_token`` (1-256 of ``A-Z a-z 0-9 _ -``), keeps
  ``allowed_updates`` and ``max_connections`` (1-100, default 40), and from then on
  ``getUpdates`` answers 409 Conflict. An empty ``url`` removes the webhook.
- Updates are POSTed as JSON with the ``X-Telegram-Bot-Api-Secret-Token`` header. They are
  grouped in queues (a message by its chat, a button press by the person who pressed):
  one update of a queue is in flight at a time, the next only after a 2xx answer, so the
  order within a chat holds; different queues go in parallel, up to ``max_connections``.
- A non-2xx answer or a broken connection keeps the update and sends it again after a
  delay that doubles (1 s, 2 s, 4 s ... at most ``RETRY_MAX``); ``getWebhookInfo`` shows
  the last error.

The URL: real Telegram takes only ``https://`` on ports 443, 80, 88 or 8443. A local Bot
API server (``--local``) also takes plain ``http://`` on any port; the fake does that for
loopback hosts only (127.0.0.1, ::1, localhost): the test allowance, since a test has no
TLS certificate. Any other ``http://`` URL gets the real error. The fake never posts beyond
this machine: an update for any other host fails as if the name did not resolve.
"""

import asyncio
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp

from .limits import ApiError, bad_request
from .methods import method

if TYPE_CHECKING:
    from .server import FakeTelegram

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]*$")
MAX_SECRET_LENGTH = 256
HTTPS_PORTS = (443, 80, 88, 8443)
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
DEFAULT_MAX_CONNECTIONS = 40
RETRY_START, RETRY_MAX = 1.0, 8.0
POST_TIMEOUT = 60.0
GETUPDATES_CONFLICT = ("Conflict: can't use getUpdates method while webhook is active; "
                       "use deleteWebhook to delete the webhook first")


@dataclass
class Webhook:
    url: str
    secret_token: str
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0
    failed_posts: int = 0
    retry_at: dict[int, float] = field(default_factory=dict)  # update_id -> loop time of the next try
    delay: dict[int, float] = field(default_factory=dict)


def queue_of(update: dict) -> int:
    """The delivery queue: a message's chat, the presser of a button, else the update itself."""
    body = next(value for key, value in update.items() if key != "update_id")
    if isinstance(body, dict):
        if isinstance(body.get("chat"), dict):
            return body["chat"]["id"]
        if isinstance(body.get("from"), dict):
            return body["from"]["id"]
    return -update["update_id"]


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    if parts.scheme == "http":
        if parts.hostname not in LOOPBACK_HOSTS:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        return
    if (parts.port or 443) not in HTTPS_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


def check_secret(secret: str) -> None:
    if len(secret) > MAX_SECRET_LENGTH:
        raise bad_request("secret token is too long")
    if not SECRET_PATTERN.match(secret):
        raise bad_request("secret token contains unallowed characters")


@method("setWebhook")
async def set_webhook(tg: "FakeTelegram", params):
    url = params.text("url", "") or ""
    if not url:
        await tg.webhooks.remove(drop_pending=params.flag("drop_pending_updates"))
        return True
    check_url(url)
    secret = params.text("secret_token", "") or ""
    check_secret(secret)
    max_connections = min(max(params.integer("max_connections", DEFAULT_MAX_CONNECTIONS), 1), 100)
    allowed = params.structure("allowed_updates", "can't parse allowed_updates JSON object")
    if allowed is not None:
        tg.world.allowed_updates = tg.allowed_update_types(allowed)
    if params.flag("drop_pending_updates"):
        tg.world.discard_pending()
    await tg.webhooks.set(Webhook(url=url, secret_token=secret, max_connections=max_connections,
                                  allowed_updates=sorted(tg.world.allowed_updates) if allowed else None))
    return True


@method("deleteWebhook")
async def delete_webhook(tg: "FakeTelegram", params):
    await tg.webhooks.remove(drop_pending=params.flag("drop_pending_updates"))
    return True


@method("getWebhookInfo")
async def get_webhook_info(tg: "FakeTelegram", params):
    hook = tg.webhooks.current
    info = {"url": hook.url if hook else "", "has_custom_certificate": False,
            "pending_update_count": tg.pending_updates()}
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info.update(last_error_date=hook.last_error_date, last_error_message=hook.last_error_message)
    return info


class Webhooks:
    """The fake's webhook state and its delivery task."""

    def __init__(self, tg: "FakeTelegram"):
        self.tg = tg
        self.current: Webhook | None = None
        self._task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        #: Redelivery after an error: the first delay, doubling up to the last (seconds).
        self.retry_start, self.retry_max = RETRY_START, RETRY_MAX

    @property
    def active(self) -> bool:
        return self.current is not None

    def conflict(self) -> ApiError:
        return ApiError(409, GETUPDATES_CONFLICT)

    async def set(self, hook: Webhook) -> None:
        await self._stop_delivery()
        self.current = hook
        self.tg.current_poll = None  # a long poll under way ends
        self.tg.world.update_signal.fire()
        self._task = asyncio.create_task(self._deliver_forever(hook), name="fake webhook delivery")

    async def remove(self, drop_pending: bool) -> None:
        await self._stop_delivery()
        self.current = None
        if drop_pending:
            self.tg.world.discard_pending()

    async def close(self) -> None:
        await self._stop_delivery()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _stop_delivery(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _deliver_forever(self, hook: Webhook) -> None:
        world = self.tg.world
        in_flight: dict[int, asyncio.Task] = {}  # queue -> the post under way
        loop = asyncio.get_running_loop()
        try:
            while True:
                now = loop.time()
                next_try: float | None = None
                seen_queues: set[int] = set()
                for update in world.deliverable(len(world.updates) or 1):
                    queue = queue_of(update)
                    if queue in seen_queues:
                        continue  # an earlier update of this queue is not delivered yet
                    seen_queues.add(queue)
                    if queue in in_flight or len(in_flight) >= hook.max_connections:
                        continue
                    retry_at = hook.retry_at.get(update["update_id"], 0.0)
                    if retry_at > now:
                        next_try = retry_at if next_try is None else min(next_try, retry_at)
                        continue
                    in_flight[queue] = asyncio.create_task(self._post(hook, update))
                    in_flight[queue].add_done_callback(lambda _task, queue=queue: (
                        in_flight.pop(queue, None), world.update_signal.fire()))
                timeout = 1.0 if next_try is None else max(min(next_try - now, 1.0), 0.01)
                await world.update_signal.wait(timeout)
        finally:
            for task in in_flight.values():
                task.cancel()
            await asyncio.gather(*in_flight.values(), return_exceptions=True)

    async def _post(self, hook: Webhook, update: dict) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT))
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        problem = None
        if urlsplit(hook.url).hostname not in LOOPBACK_HOSTS:  # the fake never leaves this machine
            problem = "Failed to resolve host: Name or service not known"
        else:
            try:
                async with self._session.post(hook.url, json=update, headers=headers) as response:
                    await response.read()
                    if not 200 <= response.status <= 299:
                        problem = f"Wrong response from the webhook: {response.status} {response.reason}"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                problem = "Connection refused"
        update_id = update["update_id"]
        if problem is None:
            hook.delivered += 1
            hook.retry_at.pop(update_id, None)
            hook.delay.pop(update_id, None)
            self.tg.world.updates = [u for u in self.tg.world.updates if u["update_id"] != update_id]
            return
        hook.failed_posts += 1
        hook.last_error_date, hook.last_error_message = self.tg._unix_date(), problem
        delay = hook.delay.get(update_id, self.retry_start / 2) * 2
        hook.delay[update_id] = min(delay, self.retry_max)
        hook.retry_at[update_id] = asyncio.get_running_loop().time() + hook.delay[update_id]
