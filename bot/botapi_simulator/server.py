"""FakeTelegram: an in-process Bot API server on loopback, plus the handles tests act through."""

import asyncio
import json
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from aiohttp import web

from .limits import ApiError, DeepLink, RateLimiter, bad_request, too_many_requests
from . import chats, sending  # noqa: F401  (importing registers their methods)
from .webhooks import Webhooks
from .chats import AnsweredCallback
from .methods import METHODS
from .params import Params
from .recorded import RecordedMessage, Signal
from .world import BOT_ID, DEFAULT_UPDATE_TYPES, FakeChat, FakeUser, World

_TOKEN_FORM = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")
_STATUS_TEXT = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                504: "Gateway Timeout"}
_UPLOAD_LIMIT = 60 * 1024 * 1024


class ApiRequest(NamedTuple):
    """One call the bot made (also the ones that failed)."""
    method: str
    params: dict


class ApiFailure(NamedTuple):
    """One call that got an error answer."""
    method: str
    params: dict
    error_code: int
    description: str


@dataclass
class _Injection:
    method: str
    error: ApiError
    chat_id: int | None


class FakeTelegram:
    """A Bot API server that enforces Telegram's limits and records what the bot did.

    ``token``: when given, the only token accepted; otherwise any token of the form
    '123:ABC' is. ``clock``: time for flood control (default time.monotonic): a callable
    returning seconds, or a callable/object-with-now() returning a datetime (naive = UTC);
    a datetime clock also dates the messages, so they agree with the bot's clock.
    """

    def __init__(self, bot_username: str = "weerbaar_test_bot", *, bot_first_name: str = "Weerbaar",
                 token: str | None = None, clock=None) -> None:
        self.clock = clock
        self.world = World(bot_username, bot_first_name, self._unix_date)
        self.rate_limits = True
        self.limiter = RateLimiter(self._seconds)
        self.requests: list[ApiRequest] = []
        self.errors: list[ApiFailure] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.deleted: list[tuple[int, int]] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.current_poll: object | None = None
        self.closing = False
        #: Seconds of network round trip added to every answer (half before, half after handling), as
        #: on a real network; 0 by default. ``on_request`` callbacks see each call as it arrives.
        self.latency = 0.0
        self.on_request: list[Callable[[str, dict], None]] = []
        self.port: int | None = None
        self._token = token
        self._injections: list[_Injection] = []
        self._cursors: dict[int, int] = {}
        self._runner: web.AppRunner | None = None
        self._request_signal = Signal()
        #: setWebhook's state and delivery (``webhooks.py``); while a webhook is set, getUpdates answers 409.
        self.webhooks = Webhooks(self)

    def _read_clock(self):
        if self.clock is None:
            return None
        return self.clock() if callable(self.clock) else self.clock.now()

    def _seconds(self) -> float:
        value = self._read_clock()
        if value is None:
            return time.monotonic()
        return _unix(value) if isinstance(value, datetime) else float(value)

    def _unix_date(self) -> int:
        value = self._read_clock()
        return int(_unix(value)) if isinstance(value, datetime) else int(time.time())

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=_UPLOAD_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.closing = False

    async def stop(self) -> None:
        self.closing = True
        self.world.update_signal.fire()
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeTelegram":
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()

    @property
    def token(self) -> str:
        return self._token or f"{BOT_ID}:AAFakeTokenForWeerbaarTests"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot(self) -> dict:
        return dict(self.world.bot)

    # --- the world ----------------------------------------------------------------------------
    def add_user(self, first_name: str, *, username: str | None = None,
                 language_code: str | None = "nl", last_name: str | None = None,
                 user_id: int | None = None) -> FakeUser:
        return self.world.add_user(first_name, username, language_code, last_name, user_id)

    def add_group(self, title: str, members: Iterable[FakeUser] = (), privacy_mode: bool = True,
                  *, supergroup: bool = False, creator: FakeUser | None = None,
                  admins: Iterable[FakeUser] = (), bot_admin: bool = False,
                  username: str | None = None, added_by: FakeUser | None = None) -> FakeChat:
        """A group (or supergroup) the bot is in; creator defaults to the first member.

        With added_by, the bot gets what Telegram sends when that user adds it: a
        my_chat_member update and a new_chat_members message.
        """
        return self.world.add_group(title, members, privacy_mode, supergroup=supergroup,
                                    creator=creator, admins=admins, bot_admin=bot_admin,
                                    username=username, added_by=added_by)

    def add_member(self, group: FakeChat, user: FakeUser) -> None:
        """The user joins (the bot gets the new_chat_members service message)."""
        self.world.set_member(group, user, "member")

    def remove_member(self, group: FakeChat, user: FakeUser, *, kicked: bool = False) -> None:
        self.world.set_member(group, user, "kicked" if kicked else "left")

    def set_status(self, group: FakeChat, user: FakeUser, status: str) -> None:
        """Any of creator/administrator/member/left/kicked, e.g. to promote an admin."""
        assert status in ("creator", "administrator", "member", "left", "kicked"), status
        self.world.set_member(group, user, status)

    def set_bot_status(self, group: FakeChat, status: str, *, by: FakeUser | None = None) -> None:
        """member/administrator, or left/kicked (then the bot's calls there answer 403).

        The bot gets the my_chat_member update (and, when re-added, new_chat_members).
        """
        assert status in ("administrator", "member", "left", "kicked"), status
        self.world.set_bot_status(group, status, by)

    def migrate_to_supergroup(self, group: FakeChat) -> int:
        """Upgrades a group; the bot gets both migrate service messages. Returns the new id."""
        return self.world.migrate(group).id

    def chat(self, chat_id: int) -> FakeChat:
        return self.world.chats[chat_id]

    def user(self, user_id: int) -> FakeUser:
        return self.world.users[user_id]

    # --- what the bot did --------------------------------------------------------------------
    @property
    def sent(self) -> list[RecordedMessage]:
        """Every message the bot sent, across chats, in order (deleted ones flagged)."""
        return list(self.world.sent)

    @property
    def deep_links(self) -> list[DeepLink]:
        """Every t.me link to this bot the bot put in a button or text link."""
        return list(self.world.deep_links)

    def messages(self, chat: FakeChat | FakeUser | int) -> list[RecordedMessage]:
        """The bot's messages in that chat, in order, as they are now (without deleted ones)."""
        return [m for m in self.world.bot_messages(_chat_id(chat)) if not m.deleted]

    async def wait_for(self, predicate: Callable[[RecordedMessage], bool],
                       timeout: float = 10.0) -> RecordedMessage:
        """The first bot message (already sent or still to come, edits included) matching."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for message in self.world.sent:
                if not message.deleted and predicate(message):
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no bot message matched in {timeout}s; {self._summary()}")
            await self.world.message_signal.wait(remaining)

    async def next_message(self, chat: FakeChat | FakeUser | int,
                           timeout: float = 10.0) -> RecordedMessage:
        """The next bot message in chat that next_message has not returned before."""
        chat_id = _chat_id(chat)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            messages = self.world.bot_messages(chat_id)
            cursor = self._cursors.get(chat_id, 0)
            if cursor < len(messages):
                self._cursors[chat_id] = cursor + 1
                return messages[cursor]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no new bot message in chat {chat_id} in {timeout}s; "
                                   f"{self._summary()}")
            await self.world.message_signal.wait(remaining)

    async def wait_for_request(self, method: str,
                               predicate: Callable[[dict], bool] | None = None,
                               timeout: float = 10.0) -> ApiRequest:
        """The first logged call of method (whose params match predicate), waiting if needed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for request in self.requests:
                if request.method.lower() == method.lower() and (
                        predicate is None or predicate(request.params)):
                    return request
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"the bot made no matching {method} call in {timeout}s")
            await self._request_signal.wait(remaining)

    def pending_updates(self) -> int:
        """Updates the bot has not confirmed yet with a getUpdates offset."""
        return sum(1 for u in self.world.updates if self.world.allowed(u))

    @property
    def updates_enqueued(self) -> int:
        """How many updates the bot gets in total so far (not counting filtered or dropped ones)."""
        world = self.world
        filtered = sum(1 for u in world.updates if not world.allowed(u))
        return world.enqueued_total - world.discarded_total - filtered

    def unanswered_callbacks(self) -> list[str]:
        """Ids of button presses the bot never answered (the user's spinner keeps turning)."""
        return [qid for qid, state in self.world.callbacks.items() if not state.answered]

    def get_commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """The command list set for exactly this scope and language, as getMyCommands gives it."""
        key = (_scope_key(scope), language_code)
        return list(self.commands.get(key, []))

    def fail_next(self, method: str, status: int = 429, retry_after: int = 3,
                  chat_id: FakeChat | FakeUser | int | None = None,
                  description: str | None = None) -> None:
        """The next call of method (optionally only for that chat) fails with status."""
        if status == 429:
            error = too_many_requests(retry_after)
        elif status >= 500:
            error = ApiError(status, description or _STATUS_TEXT.get(status, "Internal Server Error"))
        elif status == 400:
            error = bad_request(description or "injected failure")
        else:
            error = ApiError(status, description or "Forbidden: injected failure")
        target = None if chat_id is None else _chat_id(chat_id)
        self._injections.append(_Injection(method.lower(), error, target))

    # --- used by the methods -----------------------------------------------------------------
    def flood_check(self, chat: FakeChat, count: int) -> None:
        if self.rate_limits:
            self.limiter.check(chat.id, chat.is_private, count)

    def flood_record(self, chat: FakeChat, count: int) -> None:
        self.limiter.record(chat.id, chat.is_private, count)

    @staticmethod
    def allowed_update_types(allowed) -> frozenset[str]:
        if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
            raise bad_request("can't parse allowed_updates JSON object")
        return frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES

    # --- HTTP ----------------------------------------------------------------------------------
    def _token_ok(self, token: str) -> bool:
        if self._token is not None:
            return token == self._token
        return _TOKEN_FORM.fullmatch(token) is not None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = Params({}, {})
        try:
            params = await _read_params(request)
            self.requests.append(ApiRequest(method, params.logged()))
            self._request_signal.fire()
            for callback in list(self.on_request):
                callback(method, params.values)
            if self.latency:
                await asyncio.sleep(self.latency / 2)
            if not self._token_ok(request.match_info["token"]):
                raise ApiError(401, "Unauthorized")
            handler = METHODS.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            self._raise_injected(method, params)
            result = await handler(self, params)
        except ApiError as exc:
            self.errors.append(ApiFailure(method, params.logged(), exc.error_code, exc.description))
            await self._answer_delay()
            return web.json_response(exc.envelope(), status=exc.error_code)
        await self._answer_delay()
        return web.json_response({"ok": True, "result": result})

    async def _answer_delay(self) -> None:
        if self.latency:
            await asyncio.sleep(self.latency / 2)

    async def wait_for_calls(self, method: str, count: int, timeout: float = 10.0) -> None:
        """Wait until ``method`` has been called at least ``count`` times in all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while sum(1 for request in self.requests if request.method.lower() == method.lower()) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fewer than {count} {method} calls in {timeout}s")
            await self._request_signal.wait(remaining)

    def _raise_injected(self, method: str, params: Params) -> None:
        chat_id = params.values.get("chat_id")
        for injection in self._injections:
            if injection.method == method.lower() and injection.chat_id in (None, chat_id):
                self._injections.remove(injection)
                raise injection.error

    async def _file(self, request: web.Request) -> web.Response:
        if not self._token_ok(request.match_info["token"]):
            return web.json_response(ApiError(401, "Unauthorized").envelope(), status=401)
        path = request.match_info["path"]
        for stored in self.world.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return web.json_response(ApiError(404, "Not Found").envelope(), status=404)

    def _summary(self) -> str:
        recent = [repr(m) for m in self.world.sent[-5:]]
        failures = [f"{f.method}: {f.description}" for f in self.errors[-3:]]
        return f"last bot messages: {recent}; last errors: {failures}"


async def _read_params(request: web.Request) -> Params:
    values: dict = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            values.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename or key, value.file.read())
                else:
                    values[key] = value
    return Params(values, files)


def _unix(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _chat_id(chat: FakeChat | FakeUser | int) -> int:
    if isinstance(chat, FakeUser):
        return chat.private.id
    if isinstance(chat, FakeChat):
        return chat.id
    return int(chat)


def _scope_key(scope: dict | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)
