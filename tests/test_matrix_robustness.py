"""Matrix faults: rate limits answered through the outbox, a homeserver that goes away and comes back."""

import asyncio
import secrets
from datetime import timedelta
from urllib.parse import quote

import aiohttp
import pytest

from tests.matrix_people import MatrixWorld


class Switchboard:
    """A TCP relay between the bot and Synapse that can be pulled out and put back (same port)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, upstream_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()
                self._writers.discard(sink)

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def admin_token(synapse) -> str:
    localpart = f"serveradmin_{secrets.token_hex(3)}"
    user_id, password = await synapse.register(localpart, secrets.token_urlsafe(12), admin=True)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{synapse.base_url}/_matrix/client/v3/login", json={
                "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id},
                "password": password}) as response:
            return (await response.json())["access_token"]


async def lift_rate_limit(synapse, token: str, user_id: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{synapse.base_url}/_synapse/admin/v1/users/{quote(user_id)}/override_ratelimit",
                                json={"messages_per_second": 0, "burst_count": 0},
                                headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200, await response.text()


async def test_limit_exceeded_is_retried_after_retry_after_ms(synapse_tight_rate_limit, sqlite_database, clock,
                                                            tmp_path):
    synapse = synapse_tight_rate_limit
    world = MatrixWorld(synapse, tmp_path, sqlite_database, clock)
    token = await admin_token(synapse)
    try:
        await world.start_bot()
        erik = await world.person("erik")
        await lift_rate_limit(synapse, token, erik.user_id)
        await world.open_dm(erik)
        for command in ("!help", "!mijnmeldingen", "!stop", "!help"):
            await world.tell(erik, erik.dm, command)
        rows = world.bot.outbox()
        limited = [row for row in rows if row.status == "pending"]
        assert limited and limited[0].error == "rate limited", [(r.status, r.error) for r in rows]
        wait = limited[0].next_attempt_at - clock.now()
        assert timedelta(seconds=1) < wait <= timedelta(seconds=60)

        await lift_rate_limit(synapse, token, world.bot_user_id)
        await world.bot.app.dispatcher.deliver_due()
        assert [row.status for row in world.bot.outbox()] == [row.status for row in rows]  # not before its time
        clock.advance(wait)
        while await world.bot.app.dispatcher.deliver_due():
            clock.advance(timedelta(minutes=1))
        assert {row.status for row in world.bot.outbox()} == {"sent"}
        await erik.sync_until(lambda: len(erik.all_notices(erik.dm)) == 4, "all four answers")
        bodies = [notice.body for notice in erik.all_notices(erik.dm)]
        assert "Wat ik voor je kan doen" in bodies[0] and "Wat ik voor je kan doen" in bodies[3]  # in order
    finally:
        await world.close()


@pytest.fixture
async def switchboard(synapse):
    board = Switchboard(synapse.port)
    await board.up()
    yield board
    await board.down()


async def test_homeserver_away_then_everything_delivered(synapse, switchboard, sqlite_database, clock, tmp_path):
    world = MatrixWorld(synapse, tmp_path, sqlite_database, clock)
    try:
        await world.start_bot(homeserver=switchboard.url)
        erik = await world.person("erik")
        await world.open_dm(erik)
        await world.tell(erik, erik.dm, "!help")
        await erik.expect(erik.dm, "Wat ik voor je kan doen")

        said = await erik.say(erik.dm, "!mijnmeldingen")
        await world.adapter.wait_seen(said)
        await switchboard.down()
        await world.bot.app.dispatcher.deliver_due()
        [waiting] = [row for row in world.bot.outbox() if row.status == "pending"]
        assert waiting.error.startswith("network") and waiting.attempts == 1

        await switchboard.up()
        clock.advance(timedelta(minutes=1))
        await world.bot.app.dispatcher.deliver_due()
        assert {row.status for row in world.bot.outbox()} == {"sent"}
        await erik.expect(erik.dm, "")
        # The sync loop found its way back too: the bot still answers.
        await world.tell(erik, erik.dm, "!help")
        await erik.expect(erik.dm, "Wat ik voor je kan doen")
    finally:
        await world.close()
