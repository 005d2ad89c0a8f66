"""Lanes in the order of a number (the inbox row id) rather than of submission (several instances).

``bot.pipeline.Lanes`` runs items that share a key in the order they were submitted. With
several instances an update that another instance stored earlier may be taken over later
(that instance died), and must still go before the later updates of its chat: here items
run in the order of their number, and an item may ask to be tried again shortly (an
earlier update of its chat is still with another instance) without losing its place.
"""

import asyncio
import heapq
import time
from collections.abc import Awaitable, Callable, Iterable

BLOCKED_RETRY_START, BLOCKED_RETRY_MAX = 0.05, 1.0


class OrderedLanes:
    """Like ``Lanes``, but in the order of a number (the inbox row id), not of submission.

    An item runs when it is the lowest of every key it has and no other item of those keys
    runs; its work returns False to be tried again a little later (it is waiting for another
    instance), keeping its place, so a lower item that arrives meanwhile (taken over from a
    dead instance) still goes first.
    """

    def __init__(self, concurrency: int):
        self._waiting: dict[str, list[int]] = {}  # key -> heap of the items' numbers
        self._items: dict[int, tuple[tuple[str, ...], Callable[[], Awaitable[bool]]]] = {}
        self._busy_keys: set[str] = set()
        self._not_before: dict[int, float] = {}
        self._delay: dict[int, float] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, keys: Iterable[str], number: int, work: Callable[[], Awaitable[bool]]) -> None:
        keys = tuple(keys)
        if number in self._items:
            return
        self._items[number] = (keys, work)
        self._idle.clear()
        for key in keys:
            heapq.heappush(self._waiting.setdefault(key, []), number)
        self._kick(keys)

    def _startable(self, number: int) -> bool:
        keys, _ = self._items[number]
        if self._not_before.get(number, 0.0) > time.monotonic():
            return False
        return all(key not in self._busy_keys and self._waiting[key][0] == number for key in keys)

    def _kick(self, keys: Iterable[str]) -> None:
        for key in keys:
            heap = self._waiting.get(key)
            if heap and heap[0] in self._items and self._startable(heap[0]):
                self._start(heap[0])

    def _start(self, number: int) -> None:
        keys, work = self._items[number]
        self._busy_keys.update(keys)
        task = asyncio.create_task(self._run(number, keys, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, number: int, keys: tuple[str, ...], work: Callable[[], Awaitable[bool]]) -> None:
        done = True
        try:
            async with self._slots:
                done = await work()
        finally:
            self._busy_keys.difference_update(keys)
            if done:
                self._finish(number, keys)
            else:
                delay = min(self._delay.get(number, BLOCKED_RETRY_START / 2) * 2, BLOCKED_RETRY_MAX)
                self._delay[number] = delay
                self._not_before[number] = time.monotonic() + delay
                asyncio.get_running_loop().call_later(delay, self._kick, keys)
            self._kick(keys)

    def _finish(self, number: int, keys: tuple[str, ...]) -> None:
        del self._items[number]
        self._not_before.pop(number, None)
        self._delay.pop(number, None)
        for key in keys:
            heap = self._waiting[key]
            heap.remove(number)
            heapq.heapify(heap)
            if not heap:
                del self._waiting[key]
        if not self._items:
            self._idle.set()

    @property
    def busy(self) -> int:
        return len(self._items)

    async def drain(self, timeout: float | None = None) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
