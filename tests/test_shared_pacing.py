"""Two instances' dispatchers on one database share Telegram's limits (webhook mode), on SQLite and PostgreSQL."""

from datetime import timedelta

from bot.dispatcher import OutboxDispatcher
from bot.pacing import TELEGRAM_LIMITS, Pacing
from handlers.clock import ManualClock
from tests.test_dispatcher import NOW, RecordingSender, add, statuses


def instance(db, clock, sender, name: str) -> OutboxDispatcher:
    return OutboxDispatcher(db, clock, {"telegram": sender}, on_failure=lambda session, row: None,
                            pacing={"telegram": Pacing(TELEGRAM_LIMITS)}, holder=name, shared_pacing=True)


async def test_two_instances_send_to_one_private_chat_at_most_once_a_second(database):
    clock = ManualClock(NOW)
    sender = RecordingSender()  # one Telegram: what both instances sent, in order
    first, second = instance(database, clock, sender, "a"), instance(database, clock, sender, "b")
    for text in ("een", "twee", "drie"):
        add(database, "42", text)
    await first.deliver_due()
    await second.deliver_due()  # its own window is empty, but the database knows what "a" just sent
    assert sender.sent == [("42", "een")]
    clock.advance(timedelta(seconds=1.1))
    await second.deliver_due()
    await first.deliver_due()
    assert sender.sent == [("42", "een"), ("42", "twee")]
    clock.advance(timedelta(seconds=1.1))
    await first.deliver_due()
    assert [text for _, text in sender.sent] == ["een", "twee", "drie"]  # in order, one a second
    assert {status for _, status in statuses(database)} == {"sent"}


async def test_two_instances_keep_a_group_under_twenty_a_minute(database):
    clock = ManualClock(NOW)
    sender = RecordingSender()
    first, second = instance(database, clock, sender, "a"), instance(database, clock, sender, "b")
    for number in range(30):
        add(database, "-100", f"groep {number}")
    await first.deliver_due()
    clock.advance(timedelta(seconds=1))
    await second.deliver_due()
    assert len(sender.sent) == 20  # not 20 each
    clock.advance(timedelta(seconds=61))
    await second.deliver_due()
    assert [text for _, text in sender.sent] == [f"groep {n}" for n in range(30)]


def test_the_overall_budget_is_divided_among_the_running_instances():
    pacing = Pacing(TELEGRAM_LIMITS)
    assert sum(pacing.grant(str(chat), 1, 0.0) for chat in range(40)) == 30
    shared = Pacing(TELEGRAM_LIMITS)
    shared.set_instances(2)
    assert sum(shared.grant(str(chat), 1, 0.0) for chat in range(40)) == 15
    for chat in range(15):  # the platform answered them: they count from their answer on
        shared.answered(str(chat), 0.0)
    shared.set_instances(1)  # the other one stopped: the whole budget again (after the window)
    assert sum(shared.grant(str(chat), 1, 1.1) for chat in range(40, 80)) == 30
