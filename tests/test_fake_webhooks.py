"""The fake Bot API's webhooks behave like Telegram's, seen through python-telegram-bot's real HTTP stack."""

import asyncio

import pytest
from aiohttp import web
from telegram.error import BadRequest, Conflict

from tests.fake_telegram import FakeTelegram
from tests.test_fake_telegram import make_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
SECRET = "s3cret_-Token"


class Receiver:
    """A webhook endpoint that records what arrives and answers what the test tells it."""

    def __init__(self):
        self.posts: list[tuple[dict, str | None]] = []
        self.statuses: list[int] = []  # answered in turn; 200 when empty
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> "Receiver":
        app = web.Application()
        app.router.add_post("/hook", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        self.posts.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self.arrived.set()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while sum(1 for _ in self.ok_updates()) < count:
                self.arrived.clear()
                await self.arrived.wait()

    def ok_updates(self) -> list[dict]:
        """What was posted, minus the posts answered with an error (those come again)."""
        return [update for update, _ in self.posts]


@pytest.fixture
async def tg():
    server = FakeTelegram(bot_username="weerbaar_test_bot")
    server.webhooks.retry_start = 0.05  # the fake's own redelivery delay, shortened for the test
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("url, error", [
    ("http://bot.example.org/hook", "bad webhook: An HTTPS URL must be provided for webhook"),
    ("https://bot.example.org:8080/hook", "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"),
    ("ftp://bot.example.org/hook", "bad webhook: Failed to resolve host: Name or service not known"),
])
async def test_set_webhook_refuses_what_telegram_refuses(tg, url, error):
    async with make_bot(tg) as bot:
        with pytest.raises(BadRequest):
            await bot.set_webhook(url)
        assert tg.errors[-1].description == f"Bad Request: {error}"  # as sent (PTB re-capitalises it)
        assert (await bot.get_webhook_info()).url == ""


@pytest.mark.parametrize("secret, error", [
    ("a b", "secret token contains unallowed characters"),
    ("a+b/c=", "secret token contains unallowed characters"),
    ("x" * 257, "secret token is too long"),
])
async def test_set_webhook_checks_the_secret_token(tg, secret, error):
    async with make_bot(tg) as bot:
        with pytest.raises(BadRequest):
            await bot.set_webhook("https://bot.example.org/hook", secret_token=secret)
        assert tg.errors[-1].description == f"Bad Request: {error}"
        assert await bot.set_webhook("https://bot.example.org:8443/hook", secret_token="A-z_09" * 42)


async def test_while_a_webhook_is_set_get_updates_answers_409(tg):
    async with make_bot(tg) as bot:
        assert await bot.set_webhook("https://bot.example.org/hook", secret_token=SECRET,
                                     allowed_updates=["message", "callback_query"], max_connections=7)
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        assert (tg.errors[-1].error_code, tg.errors[-1].description) == (
            409, "Conflict: can't use getUpdates method while webhook is active; "
                 "use deleteWebhook to delete the webhook first")
        info = await bot.get_webhook_info()
        assert (info.url, info.max_connections, info.allowed_updates) == (
            "https://bot.example.org/hook", 7, ("callback_query", "message"))
        tg.add_user("Alice").start()
        assert (await bot.get_webhook_info()).pending_update_count == 1  # nobody listens at example.org
        assert await bot.delete_webhook()
        assert [update.message.text for update in await bot.get_updates(timeout=0)] == ["/start"]


async def test_updates_are_posted_with_the_secret_and_sent_again_after_an_error(tg):
    alice = tg.add_user("Alice")
    async with Receiver() as receiver, make_bot(tg) as bot:
        receiver.statuses = [503]  # the first post fails: the same update comes again
        assert await bot.set_webhook(receiver.url, secret_token=SECRET)
        alice.start()
        await receiver.wait_for(2)
        (first, first_secret), (second, second_secret) = receiver.posts[:2]
        assert first == second and first["message"]["text"] == "/start"
        assert first_secret == second_secret == SECRET
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 503 Service Unavailable"


async def test_one_update_per_chat_in_flight_so_the_order_per_chat_holds(tg):
    people = [tg.add_user(f"P{n}") for n in range(3)]
    release = asyncio.Event()
    in_flight: dict[int, int] = {}
    most_at_once: dict[int, int] = {}
    seen: list[tuple[int, str]] = []
    changed = asyncio.Condition()

    async def slow(request: web.Request) -> web.Response:
        update = await request.json()
        chat = update["message"]["chat"]["id"]
        in_flight[chat] = in_flight.get(chat, 0) + 1
        most_at_once[chat] = max(most_at_once.get(chat, 0), in_flight[chat])
        async with changed:
            changed.notify_all()
        await release.wait()
        seen.append((chat, update["message"]["text"]))
        in_flight[chat] -= 1
        async with changed:
            changed.notify_all()
        return web.Response(status=200)

    async def until(predicate) -> None:
        async with asyncio.timeout(10), changed:
            await changed.wait_for(predicate)

    app = web.Application()
    app.router.add_post("/hook", slow)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with make_bot(tg) as bot:
            await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
            for step in range(3):
                for person in people:
                    person.send(person.private, f"{person.first_name} {step}")
            await until(lambda: sum(in_flight.values()) == 3)  # one per chat, all chats at once
            release.set()
            await until(lambda: len(seen) == 9)
    finally:
        await runner.cleanup()
    assert set(most_at_once.values()) == {1}
    for person in people:
        assert [text for chat, text in seen if chat == person.id] == [f"{person.first_name} {n}" for n in range(3)]
