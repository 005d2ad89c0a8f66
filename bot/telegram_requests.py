"""python-telegram-bot's HTTP requests over several small connection pools, with the calls in
flight capped at what the pools hold.

The rest wait here, in an ``asyncio.Semaphore``, instead of in httpcore's pool. httpcore looks
again at every waiting request against every connection each time a request starts or ends
(``_assign_requests_to_connections``: quadratic in the queue, with a system call per idle
connection), and under load the bot keeps more calls going than it has connections: 50 guided
reports at once spent about 38% of the event loop's CPU there (py-spy, bench/pipeline.py). With
the cap the order in which calls go out is the same (first come, first served), only cheaper.

That look at every connection stays, once per call start and end: one pool's cost per call grows
with its size. So the bot keeps several small pools side by side.

This is python-telegram-bot's documented way to change how requests are made: a subclass of
its request class, handed to ``ApplicationBuilder.request``.
"""

import asyncio

from telegram.request import BaseRequest, HTTPXRequest


class SpreadHTTPXRequest(BaseRequest):
    """Bot API calls spread over several ``HTTPXRequest`` pools of ``connections_per_pool`` each.

    A call goes to the pool with the fewest calls in flight (the first one while the bot is quiet,
    so its connections stay warm). At most ``pools × connections_per_pool`` calls are in flight, so
    the least busy pool always has a connection free: no call ever waits in httpcore's pool.
    """

    def __init__(self, *, pools: int, connections_per_pool: int, **settings):
        self._pools = [HTTPXRequest(connection_pool_size=connections_per_pool, **settings) for _ in range(pools)]
        self._in_flight = [0] * pools
        self._slots = asyncio.Semaphore(pools * connections_per_pool)

    @property
    def read_timeout(self) -> float | None:
        return self._pools[0].read_timeout

    async def initialize(self) -> None:
        for pool in self._pools:
            await pool.initialize()

    async def shutdown(self) -> None:
        for pool in self._pools:
            await pool.shutdown()

    async def do_request(self, *args, **kwargs) -> tuple[int, bytes]:
        async with self._slots:
            index = min(range(len(self._pools)), key=self._in_flight.__getitem__)
            self._in_flight[index] += 1
            try:
                return await self._pools[index].do_request(*args, **kwargs)
            finally:
                self._in_flight[index] -= 1
