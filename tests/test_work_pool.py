"""The database's thread pool: urgent work (the outbox's rounds) goes ahead of the work waiting."""

import asyncio
import threading

import pytest

from storage.db import Database, make_engine
from storage.work_pool import WorkPool


def test_urgent_work_goes_ahead_of_the_work_waiting_and_the_rest_keeps_its_order():
    pool = WorkPool(1)
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def busy():
        started.set()
        release.wait()
        done.append("busy")

    pool.submit(busy)
    started.wait()  # the one thread is taken: the rest waits
    futures = [pool.submit(lambda name=name: done.append(name) or name, urgent=name.startswith("urgent"))
               for name in ("a", "b", "urgent 1", "c", "urgent 2")]
    release.set()
    assert [future.result() for future in futures] == ["a", "b", "urgent 1", "c", "urgent 2"]
    assert done == ["busy", "urgent 1", "urgent 2", "a", "b", "c"]
    pool.shutdown()


def test_an_error_goes_to_the_caller_and_work_given_up_before_it_started_does_not_run():
    pool = WorkPool(1)
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []
    pool.submit(lambda: (started.set(), release.wait()))
    started.wait()
    failing = pool.submit(lambda: 1 / 0)
    given_up = pool.submit(lambda: ran.append("given up"))
    assert given_up.cancel()
    release.set()
    with pytest.raises(ZeroDivisionError):
        failing.result()
    pool.shutdown()
    assert ran == []
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)


async def test_the_database_runs_urgent_work_first(tmp_path):
    db = Database(make_engine(f"sqlite:///{tmp_path}/pool.db"))
    started, release = threading.Event(), threading.Event()
    order: list[str] = []
    busy = asyncio.ensure_future(db.run(lambda: (started.set(), release.wait())))
    await asyncio.get_running_loop().run_in_executor(None, started.wait)
    handler = asyncio.ensure_future(db.run(lambda: order.append("handler")))
    outbox = asyncio.ensure_future(db.run(lambda: order.append("outbox round"), urgent=True))
    await asyncio.sleep(0)  # one turn of the loop (no time passes): both tasks hand their work to the pool
    release.set()
    await asyncio.gather(busy, handler, outbox)
    assert order == ["outbox round", "handler"]
    db.close()
