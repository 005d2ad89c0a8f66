"""The dispatcher paces itself within Telegram's limits, on the fake's flood control (same clock)."""

import itertools
from datetime import timedelta

import pytest

from bot.botapi_simulator.limits import ApiError, RateLimiter
from bot.pacing import ROUND_TRIP_CREDIT, ROUND_TRIP_MIN_SAMPLES, ROUND_TRIP_SPAN, TELEGRAM_LIMITS, Limits, Pacing
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


def test_an_answered_send_counts_from_its_answer_less_part_of_the_smallest_round_trip():
    pacing = Pacing(Limits(private_chat=(1, 1.0)))
    pacing.grant("1", 1, now=0.0)
    pacing.answered("1", now=0.05, round_trip=0.05)
    assert pacing.ready_at("1", now=0.05) == 1.05  # one answer is no floor yet: counted from the answer
    now = 1.0
    for chat in range(100, 100 + ROUND_TRIP_MIN_SAMPLES):  # enough answers, over more than a few seconds
        pacing.grant(str(chat), 1, now)
        pacing.answered(str(chat), now + 0.05, round_trip=0.05)
        now += ROUND_TRIP_SPAN / ROUND_TRIP_MIN_SAMPLES + 0.01
    pacing.grant("1", 1, now)
    pacing.answered("1", now + 0.08, round_trip=0.08)  # a slow answer: the way there and back are the floor's
    assert pacing.ready_at("1", now + 0.08) == pytest.approx(now + 0.08 - ROUND_TRIP_CREDIT * 0.05 + 1.0)
    pacing.answered("2", now + 0.1)  # not the platform's answer (failed before it left): no round trip
    pacing.grant("3", 1, now + 0.1)
    pacing.answered("3", now + 0.11, round_trip=0.01)  # a smaller round trip lowers the floor at once
    assert pacing.ready_at("3", now + 0.11) == pytest.approx(now + 0.11 - ROUND_TRIP_CREDIT * 0.01 + 1.0)


class Network:
    """Sends travel ``legs`` (there, back) to the fake Bot API's flood control, on one clock."""

    def __init__(self, legs):
        self.now = 1000.0
        self.limiter = RateLimiter(lambda: self.now)
        self.legs = legs
        self.arrivals: dict[str, list[float]] = {}
        self.rate_limited = 0

    def send(self, chat_id: str) -> float:
        """One send now; returns its round trip (the clock moved by it)."""
        there, back = next(self.legs)
        self.now += there
        try:
            self.limiter.check(int(chat_id), private=True)
        except ApiError:
            self.rate_limited += 1
        else:
            self.limiter.record(int(chat_id), private=True)
            self.arrivals.setdefault(chat_id, []).append(self.now)
        self.now += back
        return there + back


def send_all(pacing: Pacing, network: Network, chats: list[str]) -> None:
    """Each message when the pacing allows it, one at a time (the clock moves with each send)."""
    for chat in chats:
        network.now = max(network.now, pacing.ready_at(chat, network.now))
        assert pacing.grant(chat, 1, network.now) == 1
        round_trip = network.send(chat)
        pacing.answered(chat, network.now, round_trip=round_trip)


def test_a_chat_gets_a_message_a_second_at_the_servers_pace_and_never_a_429():
    """25 ms each way: once the pacing knows the floor, each next message arrives about a second
    (plus the margin) after the one before it, not a round trip later, and the fake never answers 429."""
    network = Network(itertools.repeat((0.025, 0.025)))
    pacing = Pacing(TELEGRAM_LIMITS)
    send_all(pacing, network, [str(chat) for chat in range(100, 200)])  # others first: over 3 s at 30/s
    send_all(pacing, network, ["42"] * 10)
    gaps = [b - a for a, b in itertools.pairwise(network.arrivals["42"])]
    assert network.rate_limited == 0
    # Counted from the answer, each gap would be the window, the margin and a whole round trip (0.05 s).
    assert all(1.0 <= gap < 1.0 + TELEGRAM_LIMITS.margin + 0.02 for gap in gaps), gaps


def test_a_busy_machine_makes_legs_long_and_uneven_and_still_no_429():
    """Legs from 25 ms to 300 ms in a fixed uneven pattern (a busy machine): never under the limits."""
    pattern = [(0.025, 0.025), (0.3, 0.025), (0.025, 0.3), (0.12, 0.04), (0.026, 0.031), (0.2, 0.2)]
    network = Network(itertools.cycle(pattern))
    pacing = Pacing(TELEGRAM_LIMITS)
    send_all(pacing, network, [str(chat) for chat in range(100, 200)])
    send_all(pacing, network, [chat for _ in range(12) for chat in ("42", "43", "44")])
    assert network.rate_limited == 0
    assert all(b - a >= 1.0 for chat in ("42", "43", "44")
               for a, b in itertools.pairwise(network.arrivals[chat]))
