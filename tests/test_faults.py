"""Fault tests on the real bot process: the database goes away, the Bot API fails and is slow.

Afterwards nothing is lost or applied twice, and order per chat is kept.
"""

import asyncio
import os
import uuid

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from storage.db import make_engine
from storage.models import InboxUpdate
from tests.bot_process import BotProcess
from tests.databases import POSTGRES_URL, postgres_unavailable_reason
from tests.test_crash import live_server, message_in, processes  # noqa: F401 - the fixtures

USERS = 4


class SwitchableProxy:
    """A TCP proxy to PostgreSQL that can be cut: open connections drop, new ones are refused."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.up = True
        self.refused = 0
        self._refused_signal = asyncio.Event()
        self._links: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            self.refused += 1
            self._refused_signal.set()
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._links |= {writer, upstream_writer}
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer),
                             return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self._links.discard(writer)

    def cut(self) -> None:
        self.up = False
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def wait_refused(self, count: int) -> None:
        while self.refused < count:
            self._refused_signal.clear()
            await asyncio.wait_for(self._refused_signal.wait(), 60)

    async def close(self) -> None:
        self.server.close()


@pytest.fixture
async def postgres_schema():
    reason = postgres_unavailable_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    yield schema
    with admin.begin() as connection:
        connection.execute(text(f'drop schema "{schema}" cascade'))
    admin.dispose()


async def test_while_the_database_is_away_no_update_is_acknowledged_or_lost(live_server, tmp_path, postgres_schema,
                                                                            processes):
    server = live_server
    proxy = SwitchableProxy(int(POSTGRES_URL.rsplit(":", 1)[1].split("/")[0]))
    port = await proxy.start()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?options=-csearch_path%3D{postgres_schema}"
    bot = BotProcess(tmp_path, server, database_url=url)
    processes.append(bot)
    db = await asyncio.to_thread(bot.prepare)  # through the proxy, which runs on this loop
    users = [server.add_user(f"User{n}", language_code="nl") for n in range(USERS)]
    await bot.start()
    try:
        for user in users:
            user.start()
        for user in users:
            await message_in(server, user, "Welkom")

        proxy.cut()
        for user in users:
            user.send(user.private, "eerste bericht")
            user.send(user.private, "tweede bericht")
        await proxy.wait_refused(6)  # the bot tried again and again while the database was away
        assert server.pending_updates() == 2 * USERS  # nothing acknowledged
        proxy.up = True
        for user in users:
            first = await message_in(server, user, "Dat begrijp ik niet")
            await message_in(server, user, "Dat begrijp ik niet", after=first.message_id)
    finally:
        assert await bot.stop() == 0, bot.log()[-3000:]
    for user in users:
        assert len(server.messages(user.private)) == 3, server.messages(user.private)  # welcome + 2 answers
    def read_inbox():
        with Session(db.engine) as session:
            return session.exec(select(InboxUpdate)).all()
    inbox = await asyncio.to_thread(read_inbox)
    assert len(inbox) == 3 * USERS and all(row.applied_at for row in inbox)
    assert "could not even apologise" not in bot.log()
    db.engine.dispose()
    await proxy.close()


async def test_bot_api_failures_slow_answers_and_429s_lose_or_repeat_nothing(live_server, tmp_path, processes):
    server = live_server
    server.rate_limits = True  # the fake's flood control, on real time like the bot's pacing
    bot = BotProcess(tmp_path, server)
    processes.append(bot)
    bot.prepare()
    users = [server.add_user(f"User{n}", language_code="nl") for n in range(USERS)]
    await bot.start()
    for _ in range(3):
        server.fail_next("sendMessage", status=502)
    for user in users[:3]:
        server.fail_next("sendMessage", status=429, retry_after=1, chat_id=user)  # a 429 storm
    server.fail_next("getUpdates", status=502)
    server.latency = 2.0  # slow answers: under the bot's read timeout, so nothing is sent twice
    try:
        for user in users:
            user.start()
            user.send(user.private, "/mijnmeldingen")
            user.send(user.private, "hallo")
        for user in users:
            await message_in(server, user, "Dat begrijp ik niet")
    finally:
        server.latency = 0.0
        assert await bot.stop() == 0, bot.log()[-3000:]
    for user in users:
        texts = [message.text for message in server.messages(user.private)]
        assert len(texts) == 3, texts  # each answered once ...
        assert "Welkom" in texts[0] and "nog geen meldingen" in texts[1] and "begrijp" in texts[2]  # ... in order
    too_many = [error for error in server.errors if error.error_code == 429]
    assert len(too_many) == 3  # only the injected ones: the bot never went over the limits itself
