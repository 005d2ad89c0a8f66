"""The dispatcher paces itself within Telegram's limits, on the fake's flood control (same clock)."""

from datetime import timedelta

import pytest

from bot.pacing import Limits, Pacing
from tests.harness import Harness
from tests.telegram_people import assemble, file_report, last, press


@pytest.fixture
async def paced_bot(server, database, clock):
    server.rate_limits = True  # before the start: the bot then paces itself on the same clock
    harness = Harness(server, database, clock)
    await harness.start()
    yield harness
    await harness.stop()


async def advance_until_sent(bot, seconds: int) -> None:
    for _ in range(seconds):
        bot.clock.advance(timedelta(seconds=1))
        await bot.settle()


async def test_a_burst_of_messages_goes_out_within_the_limits_and_in_order(paced_bot, server):
    bot = paced_bot
    cast = await _assemble_paced(bot, server)
    await file_report(bot, server, cast.erik, cast.group, photos=3, send=False)
    await press(bot, server, cast.erik, "Versturen")
    await file_report(bot, server, cast.fleur, cast.group, what="Tweede melding", send=True)
    await advance_until_sent(bot, 30)
    assert [error for error in server.errors if error.error_code == 429] == []
    police = server.messages(cast.police.private)
    assert sum(1 for m in police if m.get("photo")) == 3
    numbers = [m.text.split("SP-")[1][:4] for m in police if "Nieuwe melding" in m.text]
    assert numbers == ["0001", "0002"]  # in order
    assert {row.status for row in bot.outbox()} == {"sent"}


async def _assemble_paced(bot, server):
    """The usual cast; every step's answers need the clock to move a second now and then."""
    original_settle = bot.settle

    async def settle_with_time():
        await original_settle()
        for _ in range(3):
            bot.clock.advance(timedelta(seconds=1.1))
            await original_settle()

    bot.settle = settle_with_time
    return await assemble(bot, server)


def test_windows_grant_at_most_the_limit_and_a_429_pauses_its_chat():
    pacing = Pacing(Limits(overall=(30, 1.0), private_chat=(1, 1.0), group_chat=(20, 60.0)))
    assert pacing.grant("1", 3, now=0.0) == 1
    pacing.answered("1", now=0.0)
    assert pacing.grant("1", 1, now=0.5) == 0
    assert pacing.grant("1", 1, now=1.0) == 1
    pacing.answered("1", now=1.0)
    assert pacing.grant("-5", 25, now=1.0) == 20
    for _ in range(20):
        pacing.answered("-5", now=1.0)
    assert pacing.grant("-5", 1, now=30.0) == 0
    assert sum(pacing.grant(str(chat), 1, now=100.0) for chat in range(100, 140)) == 30
    for chat in range(100, 130):
        pacing.answered(str(chat), now=100.0)
    pacing.pause("7", 5.0, now=200.0)
    assert pacing.grant("7", 1, now=204.0) == 0 and pacing.grant("7", 1, now=205.0) == 1


def test_a_send_counts_until_its_answer_then_a_window_from_the_answer():
    """A slow answer must not let the next send in the chat reach the server within the window."""
    pacing = Pacing(Limits(private_chat=(1, 1.0)))
    assert pacing.grant("1", 1, now=0.0) == 1
    assert pacing.grant("1", 1, now=1.5) == 0  # still in flight: the server may see it only now
    pacing.answered("1", now=1.5)
    assert pacing.ready_at("1", now=1.5) == 2.5
    assert pacing.grant("1", 1, now=2.4) == 0 and pacing.grant("1", 1, now=2.5) == 1
    pacing.released("1")  # not sent after all: the window is free again
    assert pacing.grant("1", 1, now=2.5) == 1
