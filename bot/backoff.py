"""Exponential backoff for loops that retry until something comes back (a database, a homeserver)."""

import asyncio


class Backoff:
    """``wait()`` sleeps the current delay and doubles it, up to ``maximum``; ``reset()`` after a success."""

    def __init__(self, start: float, maximum: float):
        self.start = start
        self.maximum = maximum
        self.delay = start

    def reset(self) -> None:
        self.delay = self.start

    async def wait(self) -> None:
        delay = self.delay
        self.delay = min(delay * 2, self.maximum)
        await asyncio.sleep(delay)
