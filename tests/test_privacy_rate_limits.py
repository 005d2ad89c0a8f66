"""Abuse limits per person: reports, questions and invite codes, answered kindly."""

from datetime import timedelta

import pytest

from sqlmodel import Session, select

from handlers.rate_limits import CODE_FAILURES, QUESTIONS_PER_DAY, REPORTS_PER_DAY
from storage.models import ReportEvent, Role
from tests.telegram_people import file_report, last, press, say


async def test_a_sixth_report_in_a_day_waits_kindly_and_can_be_sent_later(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what="Eerste")
    await bot.advance(timedelta(hours=23))
    for index in range(REPORTS_PER_DAY - 1):
        await file_report(bot, server, cast.erik, cast.group, what=f"Melding {index}")
    await file_report(bot, server, cast.erik, cast.group, what="Eentje te veel", send=False)
    summary = last(server, cast.erik.private)
    refused = await press(bot, server, cast.erik, "Versturen", message=summary)
    assert "al 5 meldingen verstuurd" in refused.text and "112" in refused.text and "60 minuten" in refused.text
    assert len(bot.reports()) == REPORTS_PER_DAY
    # Others are not limited by Erik's reports.
    await file_report(bot, server, cast.fleur, cast.group, what="Fleur's own")
    assert len(bot.reports()) == REPORTS_PER_DAY + 1

    await bot.advance(timedelta(minutes=61))
    sent = await press(bot, server, cast.erik, "Versturen", message=summary)
    assert "verstuurd" in sent.text and "SP-0007" in sent.text
    assert bot.reports()[-1].what == "Eentje te veel"


async def test_questions_per_official_are_limited_per_day(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what="Iets")
    for index in range(QUESTIONS_PER_DAY):
        await say(bot, cast.police, cast.police.private, f"/vraag SP-0001 Vraag {index}")
    refused = await say(bot, cast.police, cast.police.private, "/vraag SP-0001 Nog eentje")
    assert "al 20 vragen" in refused.text and "terugkoppeling geven kan altijd" in refused.text
    with Session(bot.db.engine) as session:
        assert len(session.exec(select(ReportEvent).where(ReportEvent.kind == "question")).all()) == QUESTIONS_PER_DAY
    fed_back = await say(bot, cast.police, cast.police.private, "/feedback SP-0001 Wel terugkoppeling")
    assert "terugkoppeling op SP-0001 is naar de melder gestuurd" in fed_back.text
    await bot.advance(timedelta(hours=24))
    asked = await say(bot, cast.police, cast.police.private, "/vraag SP-0001 Weer een vraag")
    assert "Je vraag over SP-0001 is naar de melder gestuurd" in asked.text


async def test_guessing_invite_codes_is_slowed_and_the_admins_are_told_without_the_codes(bot, server, cast):
    guesses = [f"Guess{index:02d}CodeAbcdefgh"[:20] for index in range(CODE_FAILURES)]
    for guess in guesses:
        reply = await say(bot, cast.outsider, cast.outsider.private, f"/start {guess}")
        assert "Deze code ken ik niet" in reply.text
    alert = last(server, cast.admin.private)
    assert "Otto" in alert.text and "5 keer een onbekende uitnodigingscode" in alert.text
    assert all(guess not in alert.text for guess in guesses)
    good = bot.invite("police")
    refused = await say(bot, cast.outsider, cast.outsider.private, f"/start {good}")
    assert "te veel onbekende codes" in refused.text.lower()
    # One more wrong try does not alert the admins again.
    admin_messages = len(server.messages(cast.admin.private))
    await say(bot, cast.outsider, cast.outsider.private, "/start AnotherWrongGuess123")
    assert len(server.messages(cast.admin.private)) == admin_messages

    await bot.advance(timedelta(hours=1, minutes=1))
    verified = await say(bot, cast.outsider, cast.outsider.private, f"/start {good}")
    assert "geverifieerd" in verified.text
    with Session(bot.db.engine) as session:
        assert session.exec(select(Role).where(Role.role == "police")).all()[-1].revoked_at is None
    # Someone else's tries were never limited.
    other = server.add_user("Iris", username=None, language_code="nl")
    assert "geverifieerd" in (await say(bot, other, other.private, f"/start {bot.invite('police')}")).text


async def test_a_flood_from_one_person_is_dropped_and_never_holds_up_the_others(bot, server, cast):
    from bot.config import ConfigError
    from handlers.rate_limits import FLOOD_MESSAGES, FloodGuard
    from tests.harness import bot_config

    assert bot_config(None, flood_per_minute=FLOOD_MESSAGES).flood_per_minute == FLOOD_MESSAGES
    with pytest.raises(ConfigError, match="bot.flood_per_minute"):
        bot_config(None, flood_per_minute=-1)
    bot.app.flood_guard = FloodGuard(limit=FLOOD_MESSAGES)  # what build() makes of the default config
    for index in range(FLOOD_MESSAGES + 15):
        cast.outsider.send(cast.outsider.private, f"hallo {index}")
    cast.fleur.send(cast.fleur.private, "/help")
    await bot.settle()
    flooded = server.messages(cast.outsider.private)
    assert len(flooded) == FLOOD_MESSAGES + 1                       # answers, then one notice, then quiet
    assert "ik sla er even een paar over" in flooded[-1].text
    assert server.messages(cast.fleur.private)                        # Fleur was answered all the same
    # A flood of commands in the group is not answered either (the group stays calm).
    for _ in range(FLOOD_MESSAGES + 5):
        cast.erik.send(cast.group, "/melden")
    await bot.settle()
    assert len([m for m in server.messages(cast.group) if "privé" in (m.text or "").lower()
                or m.buttons]) <= FLOOD_MESSAGES + 1
    bot.clock.advance(timedelta(minutes=1, seconds=1))
    answer = await say(bot, cast.outsider, cast.outsider.private, "/help")
    assert answer is not None and "ik sla er even" not in answer.text
