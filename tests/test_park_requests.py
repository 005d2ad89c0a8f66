"""Requests with follow-up (issue 12), end to end through the real Telegram path."""

from datetime import timedelta

from sqlmodel import Session, select

from storage.models import AdminChange, OutboxMessage, ParkRequest, RequestReply
from tests.telegram_people import button, last, press, say
from tests.test_park_updates import become_members

QUESTION = "Wie heeft camerabeelden van de Industrieweg, dinsdagnacht 02:00–04:00?"


async def post_request(bot, server, official, text: str = QUESTION):
    preview = await say(bot, official, official.private, f"/oproep {text}")
    assert "Voorbeeld" in preview.text and text in preview.text and "🙋 Oproep SP-O" in preview.text
    return await press(bot, server, official, "Plaatsen")


async def help_with(bot, server, helper, group, text: str, *, photos: int = 0, named: bool = False):
    """The helper follows the group's button into the private chat and answers."""
    link = button(next(m for m in reversed(server.messages(group)) if m.buttons and "Oproep" in m.text),
                  "helpen")["url"]
    helper.open_link(link)
    await bot.settle()
    assert "privé" in server.messages(helper.private)[-2].text or "privately" in server.messages(helper.private)[-2].text
    await say(bot, helper, helper.private, text)
    for _ in range(photos):
        helper.send_photo(helper.private)
        await bot.settle()
    await press(bot, server, helper, "Klaar" if helper.language_code == "nl" else "Done")
    await press(bot, server, helper, ("naam" if helper.language_code == "nl" else "name") if named else
                ("Anoniem" if helper.language_code == "nl" else "Anonymous"))
    return await press(bot, server, helper, "Versturen" if helper.language_code == "nl" else "Send")


async def test_a_request_is_answered_privately_and_closing_thanks_everyone_who_helped(bot, server, cast):
    await become_members(bot, cast, cast.erik, cast.fleur)
    done = await post_request(bot, server, cast.police)
    assert "Oproep SP-O1 staat in de groep" in done.text
    in_group = last(server, cast.group)
    assert in_group.text.startswith("🙋 Oproep SP-O1 — De Spaanse Polder") and QUESTION in in_group.text
    assert "— Politie (wijkagent)" in in_group.text and "Piet" not in in_group.text
    assert button(in_group, "Ik kan helpen")["url"] == "https://t.me/weerbaar_test_bot?start=h_spaanse-polder_1"
    group_count = len(server.messages(cast.group))

    sent = await help_with(bot, server, cast.erik, cast.group, "Ik heb beelden van 02:10 tot 02:40", photos=1)
    assert "Dank je! Je antwoord op oproep SP-O1" in sent.text
    answer, photo = server.messages(cast.police.private)[-2:]
    assert "Antwoord op oproep SP-O1" in answer.text and "Van: anoniem" in answer.text
    assert "Ik heb beelden van 02:10" in answer.text and "Erik" not in answer.text
    assert "photo" in photo and "foto 1 van 1" in photo.caption
    await help_with(bot, server, cast.fleur, cast.group, "I saw a van without plates", named=True)
    assert "Fleur (@fleur_bv)" in last(server, cast.police.private).text
    assert len(server.messages(cast.group)) == group_count  # the group sees nobody helping

    await press(bot, server, cast.police, "Beantwoorden", message=answer)
    await say(bot, cast.police, cast.police.private, "Kun je ze bewaren tot vrijdag?")
    assert "Politie (wijkagent) reageert op je antwoord bij oproep SP-O1" in last(server, cast.erik.private).text
    assert "bewaren tot vrijdag" in last(server, cast.erik.private).text

    await press(bot, server, cast.police, "Oproep sluiten", message=answer)
    await press(bot, server, cast.police, "Zelf schrijven")
    await say(bot, cast.police, cast.police.private, "Dank je — de beelden hebben geholpen bij een aanhouding")
    assert "Oproep SP-O1 is gesloten; 2 helper(s)" in last(server, cast.police.private).text
    to_erik, to_fleur = last(server, cast.erik.private), last(server, cast.fleur.private)
    assert "Oproep SP-O1 is gesloten" in to_erik.text and "geholpen bij een aanhouding" in to_erik.text
    assert "Request SP-O1 is closed" in to_fleur.text and "Police (neighbourhood officer)" in to_fleur.text
    assert len(server.messages(cast.group)) == group_count
    assert not any("Erik" in m.text or "Fleur" in m.text for m in server.messages(cast.group))

    # After closing the button says so, and nothing more reaches the official.
    cast.erik.open_link(button(in_group, "Ik kan helpen")["url"])
    await bot.settle()
    assert "al gesloten" in last(server, cast.erik.private).text
    with Session(bot.db.engine) as session:
        request = session.exec(select(ParkRequest)).one()
        assert request.status == "closed" and request.next_reminder_at is None
        assert len(session.exec(select(RequestReply)).all()) == 2
        actions = [c.action for c in session.exec(select(AdminChange).order_by(AdminChange.id))]
    assert actions == ["request.posted", "request.closed"]
    log = await say(bot, cast.admin, cast.admin.private, "/logboek")  # as sentences, the official not called an admin
    assert "Piet plaatste oproep SP-O1 in de groep" in log.text
    assert "Piet sloot oproep SP-O1; 2 helper(s) kregen het slotbericht" in log.text
    assert "Beheerder Piet" not in log.text


async def test_a_helper_sends_camera_footage_and_a_pdf_and_the_official_receives_them(bot, server, cast):
    await become_members(bot, cast, cast.erik)
    await post_request(bot, server, cast.police)
    cast.erik.open_link(button(last(server, cast.group), "helpen")["url"])
    await bot.settle()
    await say(bot, cast.erik, cast.erik.private, "Beelden van de poortcamera, 02:10 tot 02:40")
    video = cast.erik.send_video(cast.erik.private, b"\x00\x00\x00\x18ftypmp42" + b"v" * 4000,
                                 file_name="poort-0210.mp4")["video"]
    await bot.settle()
    assert "Bestand ontvangen (1)" in last(server, cast.erik.private).text
    cast.erik.send_photo(cast.erik.private)
    await bot.settle()
    pdf = cast.erik.send_document(cast.erik.private, b"%PDF-1.4 tijden", file_name="tijden.pdf")["document"]
    await bot.settle()
    added = last(server, cast.erik.private)
    assert "Bestand ontvangen (2)" in added.text and "met naam en wat erin staat" in added.text
    await press(bot, server, cast.erik, "Klaar")
    preview = await press(bot, server, cast.erik, "Anoniem")
    assert "Foto's: 1" in preview.text and "Bestanden en video's: 2" in preview.text
    before = len(server.messages(cast.police.private))
    await press(bot, server, cast.erik, "Versturen")

    answer, photo, footage, document = server.messages(cast.police.private)[before:]
    assert "Antwoord op oproep SP-O1" in answer.text and "Van: anoniem" in answer.text and "Erik" not in answer.text
    assert "Bestanden en video's: 2" in answer.text and "poortcamera" in answer.text
    assert "photo" in photo
    assert footage["video"]["file_id"] == video["file_id"] and footage.caption == "Oproep SP-O1 — bestand 1 van 2"
    assert document["document"]["file_id"] == pdf["file_id"] and document["document"]["file_name"] == "tijden.pdf"
    assert document.caption == "Oproep SP-O1 — bestand 2 van 2"
    assert not any("Erik" in (m.text or m.caption or "") for m in server.messages(cast.police.private))
    with Session(bot.db.engine) as session:
        reply = session.exec(select(RequestReply)).one()
        assert reply.anonymous and [(f["kind"], f["name"]) for f in reply.files] == [
            ("video", "poort-0210.mp4"), ("document", "tijden.pdf")]
        delivered = session.exec(select(OutboxMessage).where(OutboxMessage.purpose == "request_reply")).all()
        assert all(row.status == "sent" and row.file is None for row in delivered)  # no reference kept once sent

    # The helper sees the files counted in /mijngegevens; /vergeet erases the reply with them.
    await say(bot, cast.erik, cast.erik.private, "/mijngegevens")
    shown = "\n".join(m.text or "" for m in server.messages(cast.erik.private)[-8:])
    assert "met 2 bestand(en)/video('s)" in shown and "poort-0210" not in shown
    await say(bot, cast.erik, cast.erik.private, "/vergeet")
    await press(bot, server, cast.erik, "Ja, wis")
    with Session(bot.db.engine) as session:
        assert session.exec(select(RequestReply)).all() == []


async def test_a_named_helper_can_send_only_so_many_files(bot, server, cast):
    await become_members(bot, cast, cast.fleur)
    await post_request(bot, server, cast.police)
    cast.fleur.open_link(button(last(server, cast.group), "helpen")["url"])
    await bot.settle()
    await say(bot, cast.fleur, cast.fleur.private, "Footage from two cameras")
    for number in range(6):
        cast.fleur.send_document(cast.fleur.private, b"%PDF-1.4 " + bytes([48 + number]), file_name=f"cam{number}.pdf")
        await bot.settle()
    full = last(server, cast.fleur.private)
    assert "More than 5 files and videos cannot go with one answer" in full.text
    await press(bot, server, cast.fleur, "Done")
    await press(bot, server, cast.fleur, "name")
    before = len(server.messages(cast.police.private))
    await press(bot, server, cast.fleur, "Send")
    answer, *files = server.messages(cast.police.private)[before:]
    assert "Fleur (@fleur_bv)" in answer.text and "Bestanden en video's: 5" in answer.text
    assert [f["document"]["file_name"] for f in files] == [f"cam{n}.pdf" for n in range(5)]


async def test_a_request_is_reminded_to_its_official_until_closed(bot, server, cast):
    await post_request(bot, server, cast.police)
    await bot.advance(timedelta(hours=4))  # the park's first_after is 4 working hours
    reminder = last(server, cast.police.private)
    assert reminder.text.startswith("⏰ Oproep SP-O1 staat nog open (0 antwoord(en)")
    await bot.advance(timedelta(hours=2))
    assert len([m for m in server.messages(cast.police.private) if m.text.startswith("⏰ Oproep")]) == 2
    reply = await say(bot, cast.police, cast.police.private, "/oproep sluit SP-O1 Bedankt, opgelost")
    assert "gesloten; 0 helper(s)" in reply.text
    count = len(server.messages(cast.police.private))
    await bot.advance(timedelta(days=3))
    assert len(server.messages(cast.police.private)) == count


async def test_bad_input_about_requests_is_answered_and_changes_nothing(bot, server, cast):
    await become_members(bot, cast, cast.erik)
    assert "voor geverifieerde instanties" in (await say(bot, cast.erik, cast.erik.private, "/oproep Help")).text
    await post_request(bot, server, cast.police)
    link = button(last(server, cast.group), "helpen")["url"]
    cast.outsider.open_link(link)
    await bot.settle()
    assert "Alleen leden van de groep van De Spaanse Polder" in last(server, cast.outsider.private).text
    assert "ken ik niet" in (await say(bot, cast.erik, cast.erik.private, "/helpen SP-O99")).text
    reply = await say(bot, cast.fire, cast.fire.private, "/oproep sluit SP-O1 klaar")
    assert "niet van jou" in reply.text
    assert "Gebruik: /oproep sluit" in (await say(bot, cast.police, cast.police.private, "/oproep sluit")).text
    # A request that merely starts with the word is a request, not a close.
    assert "Voorbeeld" in (await say(bot, cast.police, cast.police.private, "/oproep Sluit je poort 's nachts")).text
    await say(bot, cast.police, cast.police.private, "/stop")
    # An answer that is too long, then /stop: nothing reaches the official.
    before = len(server.messages(cast.police.private))
    await say(bot, cast.erik, cast.erik.private, "/helpen SP-O1")
    cast.erik.send_sticker(cast.erik.private)  # a sticker is not passed on: said so, asked again
    await bot.settle()
    refusal, again = server.messages(cast.erik.private)[-2:]
    assert "kan ik niet doorsturen; tekst, foto's, bestanden en video's wel" in refusal.text
    assert "Wat kun je vertellen" in again.text
    reply = await say(bot, cast.erik, cast.erik.private, "x" * 2001)
    assert "te lang" in reply.text
    assert "niets verstuurd" in (await say(bot, cast.erik, cast.erik.private, "/stop")).text
    assert len(server.messages(cast.police.private)) == before
    # A park without a linked group cannot get a request.
    await bot.verify(cast.police, "police", park="noorderveld")
    await say(bot, cast.police, cast.police.private, "/oproep Iemand iets gezien?")
    reply = await press(bot, server, cast.police, "Noorderveld")
    assert "Noorderveld heeft nog geen gekoppelde groep" in reply.text
    with Session(bot.db.engine) as session:
        assert len(session.exec(select(ParkRequest)).all()) == 1
        assert session.exec(select(RequestReply)).all() == []


async def test_the_official_lists_open_requests(bot, server, cast):
    await post_request(bot, server, cast.police)
    await post_request(bot, server, cast.police, "Wie zag de brand bij hal 3?")
    listing = await say(bot, cast.police, cast.police.private, "/oproepen")
    assert "SP-O1 · De Spaanse Polder · 0 antwoord(en)" in listing.text and "SP-O2" in listing.text
    await press(bot, server, cast.police, "SP-O2", message=listing)
    await press(bot, server, cast.police, "genoeg informatie")
    assert "Oproep SP-O2 is gesloten" in last(server, cast.police.private).text
    assert "SP-O2" not in (await say(bot, cast.police, cast.police.private, "/oproepen")).text


async def test_names_with_markup_characters_reach_the_official_as_written(bot, server, cast):
    helper = server.add_user("Bob <&> BV", language_code="nl")
    server.add_member(cast.group, helper)
    await become_members(bot, cast, helper)
    await post_request(bot, server, cast.police)
    await help_with(bot, server, helper, cast.group, "Ik zag <niets> & niemand", named=True)
    answer = last(server, cast.police.private)
    assert "Van: Bob <&> BV" in answer.text and "Ik zag <niets> & niemand" in answer.text
