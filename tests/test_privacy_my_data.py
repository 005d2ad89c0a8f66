"""See and erase my data: /mijngegevens and /vergeet, also by an admin on request."""

from sqlmodel import Session, select

from handlers.my_data import split_messages
from storage.models import AdminChange, OutboxMessage, Person, Report, ReportDraft, Role
from tests.telegram_people import file_report, last, press, say

WHAT = "Busjes <b>'s nachts</b> & zware pakketten"
QUESTION = "Welk kenteken?"
ANSWER = "XX-123-Y, wit"


def person_of(bot, user) -> Person | None:
    with Session(bot.db.engine) as session:
        return session.exec(select(Person).where(Person.external_id == str(user.id))).first()


async def test_my_data_shows_everything_held_about_me(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what=WHAT, anonymous=False, photos=1)
    await say(bot, cast.police, cast.police.private, f"/vraag SP-0001 {QUESTION}")
    await press(bot, server, cast.erik, "Antwoorden")
    await say(bot, cast.erik, cast.erik.private, ANSWER)
    await say(bot, cast.police, cast.police.private, "/feedback SP-0001 We kijken ernaar")
    before = len(server.messages(cast.erik.private))
    await say(bot, cast.erik, cast.erik.private, "/mijngegevens")
    shown = "\n".join(message.text for message in server.messages(cast.erik.private)[before:])
    for expected in ("Alles wat Weerbaar over je bewaart", "Naam: Erik", "@erik_ondernemer", "Platform: telegram",
                     "SP-0001", WHAT, "Loods 7", "Foto's: 1", "Toestemming naam tonen: ja", QUESTION, ANSWER,
                     "We kijken ernaar", "politie", "jij", "Rollen\nGeen", "/vergeet"):
        assert expected in shown, expected
    # An official sees their roles.
    roles = await say(bot, cast.police, cast.police.private, "/mydata")
    assert roles is not None
    text = "\n".join(m.text for m in server.messages(cast.police.private)[-3:])
    assert "politie (wijkagent) in De Spaanse Polder" in text and "actief" in text
    assert "Wat je als instantie deed (2)" in text and "SP-0001: vraag" in text and "SP-0001: terugkoppeling" in text
    assert QUESTION not in text  # the texts belong to the report, not to the official


def test_long_exports_are_split_between_lines_and_never_inside_an_entity():
    sections = [f"line {index} " + "&amp;" * 300 for index in range(20)]
    messages = split_messages(sections, limit=1000)
    assert len(messages) > 5 and all(len(message) <= 1000 for message in messages)
    assert all(not message.rstrip().endswith("&am") for message in messages)
    assert "".join(messages).count("&amp;") >= 20 * 300 - len(messages)


async def test_forget_me_erases_my_data_and_keeps_open_reports_anonymously(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what="Oud verhaal", anonymous=False)
    await say(bot, cast.police, cast.police.private, "/sluit SP-0001 Afgehandeld")
    await file_report(bot, server, cast.erik, cast.group, what="Nog open", anonymous=False)
    asked = await say(bot, cast.erik, cast.erik.private, "/vergeet")
    assert "Weet je het zeker?" in asked.text and "1 jaar na het afsluiten" in asked.text
    cancelled = await press(bot, server, cast.erik, "Nee")
    assert "niets gewist" in cancelled.text
    await say(bot, cast.erik, cast.erik.private, "/vergeet")
    done = await press(bot, server, cast.erik, "Ja, wis")
    assert "gewist" in done.text and "SP-0002" in done.text and "geen antwoord meer" in done.text
    told = last(server, cast.police.private)
    assert "SP-0002" in told.text and "niet meer bereikbaar" in told.text
    assert "can no longer be reached" in last(server, cast.municipality.private).text

    old, still_open = bot.reports()
    assert old.purged_at is not None and old.what == ""
    assert still_open.what == "Nog open" and still_open.anonymous and still_open.next_reminder_at is None
    gone = person_of(bot, cast.erik)
    assert gone is None
    with Session(bot.db.engine) as session:
        tombstone = session.get(Person, still_open.reporter_person_id)
        assert (tombstone.display_name, tombstone.username, tombstone.private_chat_id) == ("", None, None)
        assert tombstone.forgotten_at is not None and "Erik" not in tombstone.external_id

    # Officials can still work on it, but nothing reaches the erased reporter.
    outbox_before = bot.outbox()[-1].id
    reply = await say(bot, cast.police, cast.police.private, "/feedback SP-0002 Wij gaan kijken")
    assert "kan niet meer worden bezorgd" in server.messages(cast.police.private)[-2].text + reply.text
    reply = await say(bot, cast.police, cast.police.private, "/vraag SP-0002 Waar precies?")
    assert "kan niet meer worden bezorgd" in reply.text
    with Session(bot.db.engine) as session:
        new_rows = session.exec(select(OutboxMessage).where(OutboxMessage.id > outbox_before)).all()
        assert all(row.recipient_person_id != tombstone.id for row in new_rows)
    await say(bot, cast.police, cast.police.private, "/sluit SP-0002 Klaar")
    assert bot.reports()[1].status == "closed"

    # Writing again makes a new, empty person.
    await say(bot, cast.erik, cast.erik.private, "/mijngegevens")
    fresh = "\n".join(m.text for m in server.messages(cast.erik.private)[-2:])
    assert "Meldingen\nGeen." in fresh


async def test_admin_erases_a_reporter_on_request_and_it_is_audited(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what="Open melding")
    refused = await say(bot, cast.police, cast.police.private, "/vergeet SP-0001")
    assert "alleen voor geverifieerde beheerders" in refused.text
    unknown = await say(bot, cast.admin, cast.admin.private, "/vergeet NV-0001")
    assert "Ik vind geen melding" in unknown.text
    asked = await say(bot, cast.admin, cast.admin.private, "/vergeet SP-0001")
    assert "de melder van SP-0001" in asked.text and "Erik" not in asked.text
    await press(bot, server, cast.admin, "Ja, wis")
    assert "Vastgelegd in het logboek" in last(server, cast.admin.private).text
    told = last(server, cast.erik.private)
    assert "Op jouw verzoek heeft een beheerder" in told.text and "SP-0001" in told.text
    with Session(bot.db.engine) as session:
        change = session.exec(select(AdminChange).where(AdminChange.action == "privacy.forget")).one()
        assert "Erik" not in change.subject
    again = await say(bot, cast.admin, cast.admin.private, "/vergeet SP-0001")
    assert "al alles laten wissen" in again.text
    log = await say(bot, cast.admin, cast.admin.private, "/logboek")
    assert "privacy.forget" in log.text


async def test_official_forgets_themselves_and_their_reports_go_to_the_others(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what="Drugs bij loods")
    await say(bot, cast.police, cast.police.private, "/oppakken SP-0001")
    await say(bot, cast.police, cast.police.private, "/vergeet")
    await press(bot, server, cast.police, "Ja, wis")
    report = bot.reports()[0]
    assert report.lead_person_id is None
    assert "SP-0001" in last(server, cast.municipality.private).text
    with Session(bot.db.engine) as session:
        assert all(role.revoked_at is not None for role in session.exec(select(Role).where(
            Role.role == "police")))


async def test_the_last_admin_must_hand_over_first(bot, server, cast):
    refused = await say(bot, cast.admin, cast.admin.private, "/vergeet")
    assert "laatste beheerder van De Spaanse Polder" in refused.text
    assert person_of(bot, cast.admin).forgotten_at is None


async def test_forget_also_drops_a_draft_in_progress(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what="Half af", send=False)
    await say(bot, cast.erik, cast.erik.private, "/vergeet")
    await press(bot, server, cast.erik, "Ja, wis")
    with Session(bot.db.engine) as session:
        assert session.exec(select(ReportDraft)).all() == []
        assert session.exec(select(Report)).all() == []
