"""Crash tests: the real bot process is killed with SIGKILL during traffic and started again.

Counted per message afterwards: every input applied exactly once (each update id once in the
inbox, applied; every report stored with exactly what its reporter typed), every intended
message delivered. Telegram offers no idempotency for sends, so a message whose send was
under way at a kill (its row leased to the dead sender) may arrive twice: such duplicates are
counted and printed, and a duplicate of any other message fails the test.
"""

import asyncio
from collections import Counter

import pytest
from sqlmodel import Session, select

from handlers.clock import SystemClock
from storage.models import InboxUpdate, OutboxMessage, Report
from tests.bot_process import BotProcess
from tests.fake_telegram import FakeTelegram
from tests.telegram_people import button

REPORTERS = 4
WAIT = 60.0  # a step may span a kill and a restart
TRAFFIC = {"getupdates", "sendmessage", "answercallbackquery", "getchatmember"}


@pytest.fixture
async def live_server():
    """The fake Bot API on real time (the bot process has its own clock), flood control on."""
    server = FakeTelegram(bot_username="weerbaar_test_bot", token="1000:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq")
    server.rate_limits = False
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def processes():
    """Bot processes a test starts; whatever still runs at the end is killed."""
    started: list[BotProcess] = []
    yield started
    for process in started:
        await process.kill()


async def message_in(server: FakeTelegram, chat, part: str, after: int = 0):
    chat_id = chat.private.id if hasattr(chat, "private") else chat.id
    return await server.wait_for(lambda m: m.chat_id == chat_id and part in (m.text or m.caption or "")
                                 and m.message_id > after, timeout=WAIT)


async def file_report(server: FakeTelegram, user, number: int) -> None:
    """The whole guided report, each step after the bot's question, as a person would."""
    user.send(user.private, "/melden")
    category_question = await message_in(server, user, "Kies een soort")
    user.press(category_question, _data(category_question, "Drugs"))
    await message_in(server, user, "Waar was het")
    user.send(user.private, f"Loods {number}, Spaanse Polderweg")
    await message_in(server, user, "Wanneer was het")
    user.send(user.private, f"gisteren om {number} uur")
    await message_in(server, user, "Wat heb je gezien")
    user.send(user.private, f"Busjes bij loods {number}")
    for question, label in (("Heb je foto", "Klaar"), ("Mogen instanties", "Anoniem"), ("Is het dringend", "Nee"),
                            ("Controleer je melding", "Versturen")):
        message = await message_in(server, user, question)
        user.press(message, _data(message, label))
    await message_in(server, user, "is verstuurd")


def _data(message, label: str) -> str:
    return button(message, label)["callback_data"]


async def give_feedback(server: FakeTelegram, police, number: int) -> None:
    delivery = await message_in(server, police, f"SP-{number:04d}")
    police.press(delivery, _data(delivery, "Terugkoppelen"))
    menu = await message_in(server, police, f"Terugkoppeling op SP-{number:04d}: kies")
    police.press(menu, _data(menu, "Ontvangen, dank"))


async def test_sigkill_during_traffic_applies_every_input_once(live_server, tmp_path, processes):
    server = live_server
    bot = BotProcess(tmp_path, server)
    processes.append(bot)
    db = bot.prepare()
    admin = server.add_user("Anna", language_code="nl")
    police = server.add_user("Piet", language_code="nl")
    reporters = [server.add_user(f"Reporter{n}", language_code="nl") for n in range(REPORTERS)]
    group = server.add_group("Ondernemers Spaanse Polder", members=[admin, *reporters])
    await bot.start()
    admin.start(bot.invite(db, "admin"))
    police.start(bot.invite(db, "police"))
    await message_in(server, police, "geverifieerd")
    await message_in(server, admin, "geverifieerd")
    admin.send(group, "/koppel")
    await message_in(server, group, "actief")
    for reporter in reporters:  # they have spoken in the park's group: /melden in private asks about that park
        reporter.send(group, "/help")

    # Kill at many points: on the arrival of the n-th Bot API call of all kinds (a getUpdates that
    # acknowledges, a send whose answer never arrives, a membership check before the transaction, ...).
    # Only traffic calls count, so a kill never lands in a start-up (which is slow on a busy machine).
    kill_at = {10, 30, 55, 85, 120}
    seen = [0]

    def maybe_kill(method: str, params: dict) -> None:
        if method.lower() not in TRAFFIC:
            return
        seen[0] += 1
        if seen[0] in kill_at:
            bot.kill_now()

    server.on_request.append(maybe_kill)

    in_flight: set[int] = set()  # outbox rows leased to the sender at a kill: sent or about to be

    async def keep_alive() -> None:
        while True:
            await bot.process.wait()
            in_flight.update(_leased(db))  # the dead process's last state, before the next one starts
            await bot.start(wait=False)

    restarter = asyncio.create_task(keep_alive())
    try:
        await asyncio.gather(*(file_report(server, user, n + 1) for n, user in enumerate(reporters)))
        numbers = sorted(report.number for report in _reports(db))
        await asyncio.gather(*(give_feedback(server, police, number) for number in numbers))
        for user in reporters:
            await message_in(server, user, "Terugkoppeling op je melding")
    finally:
        server.on_request.clear()
        restarter.cancel()
        await asyncio.gather(restarter, return_exceptions=True)
    try:
        if bot.process.returncode is not None:  # the last kill came as the traffic ended
            await bot.start()
        await _drain(server, db)
    finally:
        assert await bot.stop() == 0, bot.log()[-3000:]

    assert bot.kills >= 3, f"only {bot.kills} kills happened"
    # Every input applied exactly once: each report once, with exactly what was typed for each step.
    assert_each_report_holds_what_was_typed(db, REPORTERS)
    with Session(db.engine) as session:
        inbox = session.exec(select(InboxUpdate)).all()
        outbox = session.exec(select(OutboxMessage)).all()
    user_updates = server.updates_enqueued
    # Per input: every update the fake handed out (consecutive update ids) is in the inbox once, applied.
    update_ids = sorted(int(row.key.rsplit(":", 1)[1]) for row in inbox)
    assert update_ids == list(range(update_ids[0], update_ids[0] + user_updates))
    assert all(row.applied_at and row.payload is None for row in inbox)
    assert {row.status for row in outbox} == {"sent"}
    # Every intended message delivered. Telegram cannot tell whether a send it may have taken arrived,
    # so a row leased to the sender at a kill may arrive twice; no other row may.
    delivered = Counter((m.chat_id, m.text or m.caption) for m in server.sent)
    intended = Counter((int(row.chat_id), _plain(row)) for row in outbox)
    missing = [key for key in intended if key not in delivered]
    assert not missing
    twice = {key: count - intended[key] for key, count in delivered.items() if count > intended.get(key, 0)}
    could_be_twice = {(int(row.chat_id), _plain(row)) for row in outbox if row.id in in_flight}
    assert set(twice) <= could_be_twice, bot.log()[-2000:]
    duplicates = sum(twice.values())
    print(f"\n{bot.kills} SIGKILLs, {user_updates} inputs applied once each, {len(outbox)} messages, "
          f"{len(in_flight)} of them in flight at a kill, {duplicates} delivered twice")


def _plain(row: OutboxMessage) -> str:
    from tests.fake_telegram.entities import parse_html, strip_text

    text, entities = parse_html(row.text or "")
    return strip_text(text, entities)[0]


def _leased(db) -> set[int]:
    """Outbox rows a sender held (leased, not marked) when its process died."""
    with Session(db.engine) as session:
        return set(session.exec(select(OutboxMessage.id).where(
            OutboxMessage.status == "pending", OutboxMessage.claimed_by.is_not(None),
            OutboxMessage.next_attempt_at > SystemClock().now())))


def _reports(db) -> list[Report]:
    with Session(db.engine) as session:
        return list(session.exec(select(Report).order_by(Report.id)))


def assert_each_report_holds_what_was_typed(db, reporters: int) -> None:
    """Every input applied once: one report per reporter, each step holding what was typed for it."""
    reports = _reports(db)
    assert len(reports) == reporters
    for report in reports:
        typed = int(report.what.rsplit(" ", 1)[1])
        assert report.where_text == f"Loods {typed}, Spaanse Polderweg"
        assert report.when_text == f"gisteren om {typed} uur"
        assert report.first_feedback_at is not None


async def _drain(server: FakeTelegram, db) -> None:
    """Wait until the outbox has nothing pending (each delivered message wakes the check)."""
    for _ in range(500):
        with Session(db.engine) as session:
            if not session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).first():
                return
        await server.world.message_signal.wait(1.0)
    raise AssertionError("the outbox did not drain")


async def test_a_second_instance_on_the_same_token_exits_clearly(live_server, tmp_path, processes):
    first = BotProcess(tmp_path, live_server)
    processes.append(first)
    first.prepare()
    await first.start()
    second = BotProcess(tmp_path / "second", live_server, database_url=first.database_url) \
        if (tmp_path / "second").mkdir() is None else None
    processes.append(second)
    await second.start(wait=False)
    try:
        assert await second.process.wait() == 3
    finally:
        await second.stop()
    assert "another Weerbaar instance" in second.log() and "already runs telegram-poller" in second.log()
    assert first.process.returncode is None  # the first keeps polling
    assert await first.stop() == 0


async def test_a_poller_with_another_database_meets_409_and_one_of_them_stops(live_server, tmp_path, processes):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = BotProcess(tmp_path / "a", live_server), BotProcess(tmp_path / "b", live_server)
    processes.extend([first, second])
    first.prepare()
    second.prepare()
    await first.start()
    await second.start(wait=False)
    done, _ = await asyncio.wait([asyncio.create_task(first.process.wait()),
                                  asyncio.create_task(second.process.wait())],
                                 timeout=60, return_when=asyncio.FIRST_COMPLETED)
    assert done, "neither instance stopped"
    stopped, running = (first, second) if first.process.returncode is not None else (second, first)
    assert stopped.process.returncode == 3
    assert "409 Conflict" in stopped.log() and "only one may" in stopped.log()
    assert running.process.returncode is None
    assert await running.stop() == 0
