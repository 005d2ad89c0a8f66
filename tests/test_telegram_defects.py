"""Regression tests for the loop's defects of issue 7, through the real bot on the fake Bot API."""

from sqlmodel import Session, select

from storage.models import Category, OutboxMessage, Person, Report, ReportDraft
from tests.telegram_people import button, file_report, last, open_report_from_group, press, say

HOSTILE_NAME = 'Bakker & Zn <a href="https://evil.example/">Politie</a>'


def delivery_to(server, official):
    return next(m for m in reversed(server.messages(official.private)) if m.buttons and "SP-" in m.text)


async def test_a_named_reporter_with_markup_in_the_name_is_shown_literally_and_their_answer_arrives(bot, server,
                                                                                                    cast):
    reporter = server.add_user(HOSTILE_NAME, username="bakker_zn", language_code="nl")
    server.add_member(cast.group, reporter)
    await file_report(bot, server, reporter, cast.group, anonymous=False, what="Busjes & pakketten")
    delivered = delivery_to(server, cast.police)
    assert f"{HOSTILE_NAME} (@bakker_zn)" in delivered.text
    assert not any(entity.get("url", "").startswith("https://evil") for entity in delivered.get("entities", []))

    await say(bot, cast.police, cast.police.private, "/vraag SP-0001 Welke kleur had het busje?")
    await press(bot, server, reporter, "Antwoorden")
    await say(bot, reporter, reporter.private, "Wit, met <b>blauwe</b> letters & een logo")
    answer = last(server, cast.police.private)
    assert "Wit, met <b>blauwe</b> letters & een logo" in answer.text
    assert HOSTILE_NAME in answer.text
    assert not any(entity.get("type") == "text_link" for entity in answer.get("entities", []))
    assert all(row.status == "sent" for row in bot.outbox())


async def test_an_answer_that_cannot_reach_the_official_is_reported_to_admins_and_reporter(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)
    await say(bot, cast.police, cast.police.private, "/vraag SP-0001 Welk kenteken?")
    cast.police.block_bot()
    await press(bot, server, cast.erik, "Antwoorden")
    await say(bot, cast.erik, cast.erik.private, "12-ABC-3")
    alert = last(server, cast.admin.private).text
    assert "Het antwoord van de melder over SP-0001 kon Piet (politie (wijkagent)) niet bereiken" in alert
    assert "kon de instantie niet bereiken" in last(server, cast.erik.private).text


async def test_a_question_that_cannot_reach_the_reporter_is_reported_to_the_official(bot, server, cast):
    await file_report(bot, server, cast.fleur, cast.group, category="Real estate", what="Cash deal")
    cast.fleur.block_bot()
    await say(bot, cast.municipality, cast.municipality.private, "/ask SP-0001 Which unit?")
    assert "kon de melder niet bereiken" in last(server, cast.municipality.private).text or \
        "could not reach the reporter" in last(server, cast.municipality.private).text


async def test_reminders_and_claims_that_cannot_reach_an_official_are_reported_to_admins(bot, server, cast):
    from datetime import timedelta

    await file_report(bot, server, cast.erik, cast.group)
    cast.municipality.block_bot()
    await press(bot, server, cast.police, "Oppakken", message=delivery_to(server, cast.police))
    alert = last(server, cast.admin.private).text
    assert "Een bericht over SP-0001 kon Gwen (gemeente) niet bereiken" in alert
    await press(bot, server, cast.police, "Terugkoppelen", message=delivery_to(server, cast.police))
    await bot.advance(timedelta(hours=5))  # nothing due: feedback stopped the reminders
    assert last(server, cast.admin.private).text == alert

    await file_report(bot, server, cast.erik, cast.group, what="Tweede melding")
    await bot.advance(timedelta(hours=5))
    assert "Een herinnering over SP-0002 kon Gwen (gemeente) niet bereiken" in last(server, cast.admin.private).text
    await bot.advance(timedelta(hours=16))  # the next reminder fails the same way: the admins were told already
    assert bot.reports()[1].reminder_count == 2
    told = [m for m in server.messages(cast.admin.private) if "Een herinnering over SP-0002 kon Gwen" in m.text]
    assert len(told) == 1


async def test_confirmation_names_only_roles_that_received_it_and_admins_hear_of_the_rest(bot, server, cast):
    with Session(bot.db.engine) as session:
        drugs = session.exec(select(Category).where(Category.key == "drugs")).first().id
    await say(bot, cast.admin, cast.admin.private, f"/categorie rollen #{drugs} police,park_manager")
    await file_report(bot, server, cast.erik, cast.group)
    confirmation = last(server, cast.erik.private).text
    assert "verstuurd naar: politie (wijkagent)." in confirmation and "parkmanager" not in confirmation
    alert = last(server, cast.admin.private).text
    assert "SP-0001" in alert and "ging naar: politie (wijkagent)" in alert and "Voor parkmanager is geen" in alert
    assert "park_manager" not in alert


async def test_a_photo_caption_is_kept_and_shown_to_officials(bot, server, cast):
    erik = cast.erik
    await open_report_from_group(bot, server, erik, cast.group)
    await press(bot, server, erik, "Drugs")
    await say(bot, erik, erik.private, "Loods 7")
    await press(bot, server, erik, "Nu")
    await say(bot, erik, erik.private, "Busje laadt 's nachts")
    erik.send_photo(erik.private, caption="x" * 1000)
    await bot.settle()
    assert "te lang (1000 tekens; max. 900)" in last(server, erik.private).text
    erik.send_photo(erik.private, caption="Kenteken 12-ABC-3 op de bestelbus & <b>aanhanger</b>")
    await bot.settle()
    assert "Foto 1 ontvangen, met onderschrift" in last(server, erik.private).text
    await press(bot, server, erik, "Klaar")
    await press(bot, server, erik, "Anoniem")
    summary = await press(bot, server, erik, "Nee")
    assert "foto 1: Kenteken 12-ABC-3 op de bestelbus & <b>aanhanger</b>" in summary.text
    await press(bot, server, erik, "Versturen")
    photo = next(m for m in server.messages(cast.police.private) if m.get("photo"))
    assert photo.caption == "SP-0001 · foto 1/1: Kenteken 12-ABC-3 op de bestelbus & <b>aanhanger</b>"
    assert "foto 1: Kenteken 12-ABC-3" in delivery_to(server, cast.police).text
    assert bot.reports()[0].photo_captions == ["Kenteken 12-ABC-3 op de bestelbus & <b>aanhanger</b>"]


async def test_leaving_the_group_while_writing_ends_the_draft_at_send(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, send=False)
    summary = last(server, cast.erik.private)
    server.remove_member(cast.group, cast.erik)
    await press(bot, server, cast.erik, "Versturen", message=summary)
    assert "geen lid meer van de groep van De Spaanse Polder" in last(server, cast.erik.private).text
    assert bot.reports() == []
    with Session(bot.db.engine) as session:
        assert session.exec(select(ReportDraft)).all() == []
    assert not any("busjes" in m.text for m in server.messages(cast.police.private))


async def test_out_of_range_numbers_are_answered_like_unknown_ones(bot, server, cast):
    huge = "9" * 23
    await file_report(bot, server, cast.erik, cast.group)
    delivered = delivery_to(server, cast.police)
    for data in (f"r{huge}:claim", f"q{huge}:ans"):
        cast.police.press_raw(delivered, data)
        await bot.settle()
        forged = server.answered_callbacks[-1].text
        cast.police.press_raw(delivered, data.replace(huge, "999999"))
        await bot.settle()
        assert forged == server.answered_callbacks[-1].text and "bestaat niet" in forged
    for data in (f"p{huge}", f"pc{huge}:{huge}", f"d{huge}:summary:send"):
        cast.erik.press_raw(last(server, cast.erik.private), data)
        await bot.settle()
        forged = server.answered_callbacks[-1].text, last(server, cast.erik.private).text
        cast.erik.press_raw(last(server, cast.erik.private), data.replace(huge, "999999"))
        await bot.settle()
        assert forged == (server.answered_callbacks[-1].text, last(server, cast.erik.private).text), data
    for command in ("/feedback SP-{} dank", "/oppakken SP-{}"):
        forged = (await say(bot, cast.police, cast.police.private, command.format(huge))).text
        known = (await say(bot, cast.police, cast.police.private, command.format("999999"))).text
        assert forged == known and "bestaat niet" in forged
    for command in ("/intrekken #{}", "/afwezig #{} #{}", "/terug #{}", "/categorie uit #{}", "/categorie aan #{}",
                    "/categorie hernoemen #{} X"):
        forged = (await say(bot, cast.admin, cast.admin.private, command.format(huge, huge))).text
        known = (await say(bot, cast.admin, cast.admin.private, command.format("999999", "999999"))).text
        assert forged == known.replace("999999", huge), command
        assert "probeer het nog eens" not in forged.lower()
    with Session(bot.db.engine) as session:
        assert session.exec(select(Report)).one().lead_person_id is None
        assert all(row.status == "sent" for row in session.exec(select(OutboxMessage)))
        assert session.exec(select(Person)).all()


async def test_a_toast_shows_a_name_as_written_not_as_markup(bot, server, cast):
    officer = server.add_user("Wijkteam <Zuid> & Co", language_code="nl")
    await bot.verify(officer, "police")
    await file_report(bot, server, cast.erik, cast.group)
    await press(bot, server, officer, "Oppakken", message=delivery_to(server, officer))
    await press(bot, server, cast.police, "Oppakken", message=delivery_to(server, cast.police))
    toast = server.answered_callbacks[-1].text
    assert "Wijkteam <Zuid> & Co" in toast and "&amp;" not in toast and "<b>" not in toast
