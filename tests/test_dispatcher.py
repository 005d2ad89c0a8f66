"""The outbox dispatcher with a sender that records, on SQLite and PostgreSQL."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.dispatcher import OutboxDispatcher, Permanent, RetryAfter, Sent, Transient
from handlers.clock import ManualClock
from handlers.outbox import enqueue
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 30, 8, 0)


class RecordingSender:
    """Delivers by recording; answers with scripted results per chat first."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []
        self.script: dict[str, list] = {}

    async def deliver(self, row):
        scripted = self.script.get(row.chat_id)
        if scripted:
            result = scripted.pop(0)
            if not isinstance(result, Sent):
                return result
        self.sent.append((row.chat_id, row.text))
        return Sent(str(len(self.sent)))


def setup(db):
    clock = ManualClock(NOW)
    sender = RecordingSender()
    failures = []
    dispatcher = OutboxDispatcher(db, clock, {"telegram": sender}, on_failure=lambda s, row: failures.append(row.id))
    return clock, sender, failures, dispatcher


def add(db, chat, text):
    with db.transaction() as session:
        enqueue(session, now=NOW, platform="telegram", chat_id=chat, text=text)


def statuses(db):
    with Session(db.engine) as session:
        return [(row.text, row.status) for row in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))]


async def test_messages_per_chat_keep_their_order_through_a_rate_limit(database):
    clock, sender, _, dispatcher = setup(database)
    sender.script["a"] = [RetryAfter(5)]
    for text in ("a1", "b1", "a2", "b2"):
        add(database, text[0], text)
    await dispatcher.deliver_due()
    assert sender.sent == [("b", "b1"), ("b", "b2")]
    clock.advance(timedelta(seconds=5))
    await dispatcher.deliver_due()
    assert sender.sent[2:] == [("a", "a1"), ("a", "a2")]
    assert {status for _, status in statuses(database)} == {"sent"}


async def test_transient_errors_back_off_and_permanent_ones_are_reported(database):
    clock, sender, failures, dispatcher = setup(database)
    sender.script["a"] = [Transient("network"), Transient("network")]
    sender.script["b"] = [Permanent("forbidden: bot was blocked by the user")]
    add(database, "a", "a1")
    add(database, "b", "b1")
    await dispatcher.deliver_due()
    clock.advance(timedelta(seconds=2))
    await dispatcher.deliver_due()
    assert sender.sent == []  # second failure: now waiting 4 s
    clock.advance(timedelta(seconds=4))
    await dispatcher.deliver_due()
    assert sender.sent == [("a", "a1")]
    assert statuses(database) == [("a1", "sent"), ("b1", "failed")]
    assert len(failures) == 1


async def test_a_claimed_row_is_not_sent_twice(database):
    clock, sender, _, dispatcher = setup(database)
    add(database, "a", "a1")
    claimed = dispatcher._claim()
    assert [row.text for row in claimed] == ["a1"]
    assert dispatcher._claim() == []  # leased to the first claimer
    clock.advance(timedelta(minutes=3))
    assert [row.text for row in dispatcher._claim()] == ["a1"]  # the lease ran out: at least once
