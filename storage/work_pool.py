"""A bounded pool of threads for database work in which urgent work goes first.

The outbox dispatcher's rounds (mark what was sent, claim what may go next) take a few
milliseconds, and the pacing waits for them: queued behind a burst of handler transactions
(a hundred reports at once on SQLite's one thread is seconds of work) they kept every
official's chat idle meanwhile. So ``submit(..., urgent=True)`` goes ahead of the work that
waits; among equals the order is first come, first served.

A ``ThreadPoolExecutor`` does the threading (its lifecycle, shutdown and exit handling as
usual); what it queues is only "take the next job": each job submitted adds one such turn,
and a turn takes the most urgent job waiting when a thread gets to it.
"""

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class WorkPool:
    """``workers`` threads; urgent work first, then the rest, each in the order submitted."""

    def __init__(self, workers: int, name: str = "db"):
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._urgent: deque[tuple[Future, Callable]] = deque()
        self._normal: deque[tuple[Future, Callable]] = deque()
        self._lock = threading.Lock()

    def submit(self, work: Callable, urgent: bool = False) -> Future:
        future: Future = Future()
        job = (future, work)
        queue = self._urgent if urgent else self._normal
        with self._lock:
            queue.append(job)
        try:
            self._executor.submit(self._take_turn)
        except RuntimeError:  # shut down: the job never runs
            with self._lock:
                queue.remove(job)
            raise
        return future

    def shutdown(self) -> None:
        """Finish the work already submitted, then stop the threads."""
        self._executor.shutdown(wait=True)

    def _take_turn(self) -> None:
        with self._lock:
            future, work = (self._urgent or self._normal).popleft()
        if not future.set_running_or_notify_cancel():
            return  # its caller stopped waiting before it started
        try:
            result = work()
        except BaseException as error:  # noqa: BLE001 - handed to the caller, as an executor does
            future.set_exception(error)
        else:
            future.set_result(result)
