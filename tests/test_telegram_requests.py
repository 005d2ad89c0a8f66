"""Bot API calls over several small connection pools: every call answered, never more in flight
than the pools hold, and connections reused (a real HTTP server on loopback, real httpx)."""

import asyncio
import json
import socket

from aiohttp import web

from bot.telegram_requests import SpreadHTTPXRequest


class CountingServer:
    """Answers each call once ``wave`` of them are in flight at once (or the last ones have come),
    noting the most in flight and the client connections they came on."""

    def __init__(self, calls: int, wave: int):
        self.calls, self.wave = calls, wave
        self.arrived = self.in_flight = self.most_in_flight = 0
        self.connections: set[int] = set()
        self.gate = asyncio.Event()

    async def answer(self, request: web.Request) -> web.Response:
        self.arrived += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.connections.add(request.transport.get_extra_info("peername")[1])
        if self.in_flight == self.wave or self.arrived == self.calls:
            self.gate.set()
        await self.gate.wait()
        self.in_flight -= 1
        if self.in_flight == 0:
            self.gate.clear()
        return web.json_response({"ok": True, "result": request.match_info["method"]})


async def test_calls_spread_over_small_pools_and_wait_beyond_them():
    server = CountingServer(calls=20, wave=6)
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", server.answer)
    runner = web.AppRunner(app)
    await runner.setup()
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    await web.SockSite(runner, listening).start()
    request = SpreadHTTPXRequest(pools=3, connections_per_pool=2, read_timeout=5.0)
    await request.initialize()
    try:
        answers = await asyncio.gather(*(request.do_request(f"http://127.0.0.1:{port}/bot1:x/call{n}", "POST")
                                         for n in range(20)))
    finally:
        await request.shutdown()
        await runner.cleanup()
    assert [json.loads(body)["result"] for _, body in answers] == [f"call{n}" for n in range(20)]
    assert {status for status, _ in answers} == {200}
    assert server.most_in_flight == 6  # three pools of two: the rest waited their turn
    assert len(server.connections) <= 6  # and went on the connections already open
