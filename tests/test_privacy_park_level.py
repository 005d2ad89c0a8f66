"""Issue 13 over issue 12's data: /mijngegevens shows it (also as a file), /vergeet and retention erase it."""

import json
from datetime import timedelta

from sqlmodel import Session, select

from storage.models import (
    AdminChange, InboxUpdate, OutboxMessage, ParkLevelDraft, ParkMember, ParkRequest, RequestReply, ScanAnswer, ScanProgress,
    UpdateUseful,
)
from tests.telegram_people import button, file_report, last, press, say
from tests.test_park_requests import help_with, post_request
from tests.test_park_scan import five_members
from tests.test_park_updates import become_members, compose

HELP = "Ik heb <beelden> van 02:10 & later"


def document_of(server, message) -> dict:
    assert "document" in message, f"no document: {message!r}"
    return json.loads(server.world.files[message["document"]["file_id"]].content.decode())


async def useful_update(bot, server, cast) -> None:
    await compose(bot, server, cast.police, "Controle gehouden", private=True)
    await press(bot, server, cast.police, "Versturen")
    await press(bot, server, cast.erik, "Nuttig", message=last(server, cast.erik.private))


async def test_my_data_comes_as_a_file_too_with_the_park_level_data(bot, server, cast):
    await become_members(bot, cast, cast.erik, cast.fleur)
    await file_report(bot, server, cast.erik, cast.group, what="Busjes <b>'s nachts</b>", photos=1)
    await post_request(bot, server, cast.police)
    await help_with(bot, server, cast.erik, cast.group, HELP, photos=1)
    await useful_update(bot, server, cast)

    before = len(server.messages(cast.erik.private))
    await say(bot, cast.erik, cast.erik.private, "/mijngegevens")
    messages = server.messages(cast.erik.private)[before:]
    shown = "\n".join(message.text for message in messages[:-1])
    assert "Op parkniveau" in shown and "Lid van de groep van De Spaanse Polder" in shown
    assert "Je hulpantwoord op SP-O1" in shown and HELP in shown and "Je vond 1 update(s) nuttig" in shown
    file = messages[-1]
    assert file["document"]["file_name"] == "weerbaar-mijngegevens-2026-11-30.json"
    assert file.caption.startswith("📎 Hetzelfde als bestand")
    data = document_of(server, file)
    assert data["account"]["name"] == "Erik" and data["account"]["username"] == "erik_ondernemer"
    [report] = data["reports"]
    assert report["number"] == "SP-0001" and report["what"] == "Busjes <b>'s nachts</b>" and len(report["photos"]) == 1
    assert report["name_shown_to_officials"] is False and report["status"] == "open"
    [reply] = data["help_replies"]
    assert reply["request"] == "SP-O1" and reply["text"] == HELP and len(reply["photos"]) == 1
    assert len(data["useful_marks"]) == 1 and data["park_memberships"][0]["park"] == "De Spaanse Polder"
    assert "Piet" not in json.dumps(data)  # officials appear by role only
    with Session(bot.db.engine) as session:  # delivered: the file's bytes are not kept in the outbox
        row = session.exec(select(OutboxMessage).where(OutboxMessage.attachment_name == file["document"]["file_name"])
                           ).one()
        assert row.status == "sent" and row.attachment is None

    # An official's file names what they posted; in English for an English-speaking person.
    await say(bot, cast.municipality, cast.municipality.private, "/mydata")
    english = last(server, cast.municipality.private)
    assert english.caption.startswith("📎 The same as a file") and document_of(server, english)["roles"]
    police = await say(bot, cast.police, cast.police.private, "/mijngegevens")
    assert [r["request"] for r in document_of(server, police)["requests_written"]] == ["SP-O1"]


async def test_forget_erases_help_replies_useful_marks_membership_and_scan_place(bot, server, cast):
    people = await five_members(bot, server, cast)
    await post_request(bot, server, cast.police)
    await help_with(bot, server, cast.erik, cast.group, HELP)
    await help_with(bot, server, cast.fleur, cast.group, "I saw a van")
    await useful_update(bot, server, cast)
    await say(bot, cast.admin, cast.admin.private, "/scan start 2d")
    for person in (cast.erik, cast.fleur):
        await press(bot, server, person, "4")  # the first scan question answered, the rest still open
    cast.erik.open_link(button(next(m for m in reversed(server.messages(cast.group)) if "Oproep" in m.text),
                               "helpen")["url"])  # a second reply begun, not sent
    await bot.settle()
    with Session(bot.db.engine) as session:
        assert session.exec(select(ParkLevelDraft)).all()

    await say(bot, cast.erik, cast.erik.private, "/vergeet")
    done = await press(bot, server, cast.erik, "Ja, wis")
    assert "gewist" in done.text
    with Session(bot.db.engine) as session:
        replies = session.exec(select(RequestReply)).all()
        assert [reply.text for reply in replies] == ["I saw a van"]
        assert session.exec(select(UpdateUseful)).all() == []
        assert len(session.exec(select(ParkMember)).all()) == len(people) - 1
        assert len(session.exec(select(ScanProgress)).all()) == len(people) - 1
        assert len({answer.respondent for answer in session.exec(select(ScanAnswer))}) == 1  # Fleur's only
        assert session.exec(select(ParkLevelDraft)).all() == []


async def test_retention_deletes_help_replies_useful_marks_and_the_audit_trail(bot, server, cast):
    await become_members(bot, cast, cast.erik)
    await say(bot, cast.admin, cast.admin.private, "/beleid bewaren 2w")
    await post_request(bot, server, cast.police)
    await help_with(bot, server, cast.erik, cast.group, HELP, photos=1)
    await useful_update(bot, server, cast)
    await press(bot, server, cast.police, "Oproep sluiten", message=next(
        m for m in reversed(server.messages(cast.police.private)) if "Antwoord op oproep" in m.text))
    await press(bot, server, cast.police, "Zelf schrijven")
    await say(bot, cast.police, cast.police.private, "Dank je")
    with Session(bot.db.engine) as session:
        assert session.exec(select(ParkRequest)).one().status == "closed"
        assert session.exec(select(AdminChange)).all()

    await bot.advance(timedelta(days=13))
    with Session(bot.db.engine) as session:
        assert len(session.exec(select(RequestReply)).all()) == 1 and session.exec(select(UpdateUseful)).all()
    await bot.advance(timedelta(days=2))
    with Session(bot.db.engine) as session:
        assert session.exec(select(RequestReply)).all() == []
        assert session.exec(select(UpdateUseful)).all() == []
        assert session.exec(select(AdminChange)).all() == []
        assert session.exec(select(ParkRequest)).one().text  # the official's public notice stays


async def test_an_update_never_applied_loses_its_content_after_a_week(bot, server, cast):
    with bot.db.transaction() as session:
        session.add(InboxUpdate(key="telegram:stuck:1", payload={"text": "Busjes bij loods 7"},
                                received_at=bot.clock.now()))
    await bot.advance(timedelta(days=6))
    with Session(bot.db.engine) as session:
        assert session.exec(select(InboxUpdate).where(InboxUpdate.key == "telegram:stuck:1")).one().payload
    await bot.advance(timedelta(days=2))
    with Session(bot.db.engine) as session:
        stuck = session.exec(select(InboxUpdate).where(InboxUpdate.key == "telegram:stuck:1")).first()
        assert stuck is None or stuck.payload is None


async def test_an_official_answering_a_helper_who_erased_their_data_is_told(bot, server, cast):
    await become_members(bot, cast, cast.erik)
    await post_request(bot, server, cast.police)
    await help_with(bot, server, cast.erik, cast.group, HELP)
    answer = next(m for m in reversed(server.messages(cast.police.private)) if "Antwoord op oproep" in m.text)
    await press(bot, server, cast.police, "Beantwoorden", message=answer)  # the official starts writing
    await say(bot, cast.erik, cast.erik.private, "/vergeet")
    await press(bot, server, cast.erik, "Ja, wis")
    told = await say(bot, cast.police, cast.police.private, "Kun je de beelden bewaren?")
    assert "de helper heeft zijn gegevens laten wissen" in told.text
    erik_messages = len(server.messages(cast.erik.private))
    await press(bot, server, cast.police, "Beantwoorden", message=answer)  # the old button
    assert "bestaat niet meer" in server.answered_callbacks[-1].text
    assert len(server.messages(cast.erik.private)) == erik_messages
