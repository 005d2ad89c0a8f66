"""The inbox in storage, and the lanes that keep order per chat while chats run concurrently."""

import asyncio
import json
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.pipeline import Lanes, Received
from handlers.messages import ButtonPress, Chat, Incoming, Sender, SharedFile
from storage import inbox
from storage.models import InboxUpdate

NOW = datetime(2026, 11, 30, 8, 0)


def test_a_redelivered_update_is_recognised_and_applied_once(database):
    with database.transaction() as session:
        assert inbox.receive(session, [("telegram:1:10", {"a": 1}), ("telegram:1:11", {"b": 2})], NOW) == \
            {"telegram:1:10", "telegram:1:11"}
    with database.transaction() as session:
        assert inbox.receive(session, [("telegram:1:11", {"b": 2}), ("telegram:1:12", {})], NOW) == {"telegram:1:12"}
        assert [row.key for row in inbox.pending(session, "telegram:1:")] == ["telegram:1:10", "telegram:1:11",
                                                                           "telegram:1:12"]
    with database.transaction() as session:
        assert inbox.mark_applied(session, "telegram:1:10", NOW) is True
    with database.transaction() as session:
        assert inbox.mark_applied(session, "telegram:1:10", NOW) is False  # applied before: skipped
        assert inbox.mark_applied(session, "matrix:$event", NOW) is True  # never stored: recorded now
        assert [row.key for row in inbox.pending(session, "telegram:")] == ["telegram:1:11", "telegram:1:12"]
        applied = session.exec(select(InboxUpdate).where(col(InboxUpdate.applied_at).is_not(None))).all()
        assert len(applied) == 2 and all(row.payload is None for row in applied)
    with database.transaction() as session:
        assert inbox.prune(session, NOW + timedelta(seconds=1)) == 2
        assert len(inbox.pending(session, "")) == 2


def test_a_received_update_survives_as_its_payload():
    incoming = Incoming(sender=Sender("telegram", "7", "Erik", "erik", "nl"), chat=Chat("telegram", "7", True),
                        press=ButtonPress("d1:where:x", "3"), location=(52.1, 4.3), update_key="telegram:1:5")
    received = Received(incoming=incoming, extra={"callback_query_id": "42"})
    assert Received.from_payload(received.as_payload()) == received
    footage = Incoming(sender=Sender("matrix", "@erik:hs"), chat=Chat("matrix", "!dm:hs", True),
                       file=SharedFile("video", '{"mx":"mxc://hs/abc"}', "poort.mp4", "video/mp4", 4096))
    stored = json.loads(json.dumps(Received(incoming=footage).as_payload()))  # as the inbox row keeps it
    assert Received.from_payload(stored).incoming == footage


async def test_lanes_keep_order_per_key_and_run_other_keys_at_once():
    lanes = Lanes(concurrency=10)
    log: list[str] = []
    gate = asyncio.Event()

    def work(name: str, wait: bool = False):
        async def run() -> None:
            if wait:
                await gate.wait()
            log.append(name)
        return run

    lanes.submit(["chat:a", "person:1"], work("a1", wait=True))
    lanes.submit(["chat:a", "person:2"], work("a2"))
    lanes.submit(["chat:b", "person:3"], work("b1"))
    lanes.submit(["chat:c", "person:1"], work("c1"))  # same person as a1: waits for it
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == ["b1"]  # b runs while a is blocked; a2 and c1 wait for a1
    gate.set()
    assert await lanes.drain(5)
    assert log.index("a1") < log.index("a2") and log.index("a1") < log.index("c1")
