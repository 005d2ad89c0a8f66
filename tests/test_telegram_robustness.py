"""Bad input at every step, and delivery that never silently fails."""

from datetime import timedelta

from sqlmodel import Session, select

from storage.models import GroupChat, OutboxMessage, ReportDraft
from tests.telegram_people import button, file_report, last, open_report_from_group, press, say


def draft_state(bot):
    with Session(bot.db.engine) as session:
        return [(d.step, dict(d.data)) for d in session.exec(select(ReportDraft))]


async def test_bad_input_at_every_step_changes_nothing(bot, server, cast):
    erik = cast.erik
    await open_report_from_group(bot, server, erik, cast.group)
    category_question = last(server, erik.private)

    # Category: text that is no category, and a sticker.
    before = draft_state(bot)
    await say(bot, erik, erik.private, "geen idee")
    assert "Kies een van de knoppen" in server.messages(erik.private)[-2].text
    erik.send_sticker(erik.private)
    await bot.settle()
    assert "verwacht hier tekst" in server.messages(erik.private)[-2].text
    assert draft_state(bot) == before
    await press(bot, server, erik, "Drugs", message=category_question)

    # Where: whitespace only, 5,000 characters, a sticker.
    before = draft_state(bot)
    await say(bot, erik, erik.private, "   ")
    assert "leeg" in last(server, erik.private).text
    await say(bot, erik, erik.private, "x" * 5000)
    assert "te lang (5000 tekens; max. 300)" in last(server, erik.private).text
    erik.send_sticker(erik.private)
    await bot.settle()
    assert draft_state(bot) == before

    # An old button (the category question) now changes nothing and says so.
    erik.press(category_question, button(category_question, "Vastgoed")["callback_data"])
    await bot.settle()
    assert server.answered_callbacks[-1].text.startswith("Deze knop hoort bij een eerder bericht")
    assert draft_state(bot) == before

    # HTML-like text is kept literally and shown escaped, never as markup.
    await say(bot, erik, erik.private, "Hal <b>3</b> & loods <script>")
    await press(bot, server, erik, "Nu")
    await say(bot, erik, erik.private, "x" * 2001)
    assert "max. 2000" in last(server, erik.private).text
    await say(bot, erik, erik.private, "Busjes </i> 's nachts")
    photo_question = last(server, erik.private)
    await say(bot, erik, erik.private, "hier is een foto")  # text where a photo or button is expected
    assert "Kies een van de knoppen" in server.messages(erik.private)[-2].text
    await press(bot, server, erik, "Klaar", message=photo_question)
    await press(bot, server, erik, "Anoniem")
    summary = await press(bot, server, erik, "Nee")
    assert "Hal <b>3</b> & loods <script>" in summary.text
    assert "Busjes </i> 's nachts" in summary.text

    # Somebody else pressing a forged button of Erik's draft or report changes nothing.
    data = button(summary, "Versturen")["callback_data"]
    await say(bot, cast.fleur, cast.fleur.private, "/start")
    await say(bot, cast.outsider, cast.outsider.private, "/start")
    cast.fleur.press_raw(last(server, cast.fleur.private), data)
    await bot.settle()
    assert server.answered_callbacks[-1].text.startswith("This button belongs")
    assert draft_state(bot)[0][0] == "summary"
    await press(bot, server, erik, "Versturen", message=summary)
    report_message = last(server, cast.police.private)
    assert "Hal <b>3</b> & loods <script>" in report_message.text
    cast.outsider.press_raw(last(server, cast.outsider.private), button(report_message, "Sluiten")["callback_data"])
    await bot.settle()
    assert "does not exist" in server.answered_callbacks[-1].text or "bestaat niet" in server.answered_callbacks[-1].text
    assert bot.reports()[0].status == "open"


async def test_change_a_field_from_the_summary(bot, server, cast):
    erik = cast.erik
    await open_report_from_group(bot, server, erik, cast.group)
    await press(bot, server, erik, "Drugs")
    await say(bot, erik, erik.private, "Hal 3")
    await press(bot, server, erik, "Nu")
    await say(bot, erik, erik.private, "Eerste versie")
    await press(bot, server, erik, "Klaar")
    await press(bot, server, erik, "Anoniem")
    await press(bot, server, erik, "Nee")
    await press(bot, server, erik, "wijzigen")
    await press(bot, server, erik, "Wat")
    summary = await say(bot, erik, erik.private, "Tweede versie")
    assert "Tweede versie" in summary.text and "Eerste versie" not in summary.text
    await press(bot, server, erik, "Annuleren")
    assert "geannuleerd" in last(server, erik.private).text
    assert bot.reports() == [] and draft_state(bot) == []


async def test_stop_cancels_at_any_point(bot, server, cast):
    await open_report_from_group(bot, server, cast.erik, cast.group)
    await press(bot, server, cast.erik, "Drugs")
    reply = await say(bot, cast.erik, cast.erik.private, "/stop")
    assert "geannuleerd" in reply.text
    assert draft_state(bot) == []


async def test_rate_limits_and_server_errors_are_retried_until_delivered(bot, server, cast):
    server.fail_next("sendMessage", status=429, retry_after=7, chat_id=cast.police.id)
    server.fail_next("sendMessage", status=502, chat_id=cast.municipality.id)
    await file_report(bot, server, cast.erik, cast.group, what="Vertraagd bericht")
    assert not any("Vertraagd" in m.text for m in server.messages(cast.police.private))
    assert not any("Vertraagd" in m.text for m in server.messages(cast.municipality.private))
    bot.clock.advance(timedelta(seconds=2))
    await bot.settle()
    assert "Vertraagd" in last(server, cast.municipality.private).text  # 5xx: retried after 2 s backoff
    assert not any("Vertraagd" in m.text for m in server.messages(cast.police.private))
    bot.clock.advance(timedelta(seconds=5))
    await bot.settle()
    assert "Vertraagd" in last(server, cast.police.private).text  # 429: after retry_after
    with Session(bot.db.engine) as session:
        assert {row.status for row in session.exec(select(OutboxMessage))} == {"sent"}


async def test_real_rate_limiter_spaces_out_messages(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, photos=3, send=False)
    server.rate_limits = True
    await press(bot, server, cast.erik, "Versturen")
    for _ in range(10):
        bot.clock.advance(timedelta(seconds=1))
        await bot.settle()
    assert sum(1 for m in server.messages(cast.police.private) if m.get("photo")) == 3
    with Session(bot.db.engine) as session:
        assert {row.status for row in session.exec(select(OutboxMessage))} == {"sent"}


async def test_unreachable_officials_alert_the_admins(bot, server, cast):
    cast.police.block_bot()
    cast.municipality.block_bot()
    await file_report(bot, server, cast.erik, cast.group)
    alert = last(server, cast.admin.private)
    assert "SP-0001" in alert.text and "geen enkele instantie bereiken" in alert.text
    with Session(bot.db.engine) as session:
        failed = session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")).all()
    assert failed and all("blocked" in row.error for row in failed)


async def test_feedback_to_a_reporter_who_blocked_the_bot_is_reported_back(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)
    cast.erik.block_bot()
    await press(bot, server, cast.police, "Terugkoppelen", message=last(server, cast.police.private))
    await press(bot, server, cast.police, "Ontvangen, dank")
    assert "kon de melder niet bereiken" in last(server, cast.police.private).text


async def test_group_migration_keeps_the_link(bot, server, cast):
    new_id = server.migrate_to_supergroup(cast.group)
    await bot.settle()
    with Session(bot.db.engine) as session:
        assert [g.chat_id for g in session.exec(select(GroupChat))] == [str(new_id)]
    await say(bot, cast.erik, cast.group.current() if hasattr(cast.group, "current") else cast.group, "/melden")
    assert any("privé" in m.text for m in server.messages(new_id))


async def test_an_internal_failure_apologises_and_logs_no_content(bot, server, cast, caplog):
    from sqlalchemy import text

    with bot.db.engine.begin() as connection:  # a broken database: every private text now fails
        connection.execute(text("DROP TABLE pendinginput"))
    with caplog.at_level("INFO"):
        reply = await say(bot, cast.erik, cast.erik.private, "Geheime loods 9: busjes met drugs")
    assert "er ging iets mis" in reply.text and "niets opgeslagen" in reply.text
    assert "handling a telegram message failed" in caplog.text
    assert "Geheime loods" not in caplog.text and "busjes" not in caplog.text


async def test_an_old_prompt_for_text_expires_instead_of_sending_later_text(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)
    await press(bot, server, cast.police, "Vraag", message=last(server, cast.police.private))
    before = len(server.messages(cast.erik.private))
    bot.clock.advance(timedelta(hours=3))  # longer than the idle time (2h in these tests)
    reply = await say(bot, cast.police, cast.police.private, "Boodschappenlijstje: melk, brood")
    assert "te lang geleden" in reply.text and "niets verstuurd" in reply.text
    assert len(server.messages(cast.erik.private)) == before
