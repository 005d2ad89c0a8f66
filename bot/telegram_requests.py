"""python-telegram-bot's HTTP requests (``HTTPXRequest``) with the calls in flight capped at the
connection pool's size.

The rest wait here, in an ``asyncio.Semaphore``, instead of in httpcore's pool. httpcore looks
again at every waiting request against every connection each time a request starts or ends
(``_assign_requests_to_connections``: quadratic in the queue, with a system call per idle
connection), and under load the bot keeps more calls going than it has connections: 50 guided
reports at once spent about 38% of the event loop's CPU there (py-spy, bench/pipeline.py). With
the cap the order in which calls go out is the same (first come, first served), only cheaper.

This is python-telegram-bot's documented way to change how requests are made: a subclass of
its request class, handed to ``ApplicationBuilder.request``.
"""

import asyncio

from telegram.request import HTTPXRequest


class CappedHTTPXRequest(HTTPXRequest):
    """``HTTPXRequest`` with at most ``connection_pool_size`` calls handed to httpx at once."""

    def __init__(self, *, connection_pool_size: int, **settings):
        super().__init__(connection_pool_size=connection_pool_size, **settings)
        self._in_flight = asyncio.Semaphore(connection_pool_size)

    async def do_request(self, *args, **kwargs) -> tuple[int, bytes]:
        async with self._in_flight:
            return await super().do_request(*args, **kwargs)
