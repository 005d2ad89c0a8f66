"""The whole reciprocity loop on Telegram, through python-telegram-bot and the fake Bot API."""

from sqlmodel import Session, select

from storage.models import GroupChat, Invite, ReportEvent, Role
from tests.telegram_people import button, file_report, last, press, say

REPORT_TEXT = "Elke nacht busjes met zware pakketten"


async def test_invite_verifies_once_and_is_stored_hashed(bot, server):
    piet = server.add_user("Piet", username="piet", language_code="nl")
    code = bot.invite("police")
    piet.start(code)
    await bot.settle()
    assert "geverifieerd als" in last(server, piet.private).text
    with Session(bot.db.engine) as session:
        roles = session.exec(select(Role)).all()
        assert [(r.role, r.revoked_at) for r in roles] == [("police", None)]
        assert code not in {invite.code_hash for invite in session.exec(select(Invite))}

    other = server.add_user("Mallory", language_code="en")
    other.start(code)
    await bot.settle()
    assert "already used" in last(server, other.private).text
    other.start("WrongCodeWrongCode12")
    await bot.settle()
    assert "don't know this code" in last(server, other.private).text
    with Session(bot.db.engine) as session:
        assert len(session.exec(select(Role)).all()) == 1


async def test_expired_invite_verifies_nothing(bot, server):
    from datetime import timedelta

    code = bot.invite("police", valid_for=timedelta(hours=1))
    bot.clock.advance(timedelta(hours=2))
    late = server.add_user("Laat", language_code="nl")
    late.start(code)
    await bot.settle()
    assert "verlopen" in last(server, late.private).text
    with Session(bot.db.engine) as session:
        assert session.exec(select(Role)).all() == []


async def test_only_a_verified_admin_links_the_group(bot, server):
    admin = server.add_user("Anna", language_code="nl")
    stranger = server.add_user("Sjaak", language_code="nl")
    group = server.add_group("Ondernemers", members=[admin, stranger], privacy_mode=True)
    await say(bot, stranger, group, "/koppel")
    assert "Alleen een geverifieerde beheerder" in last(server, group).text
    await bot.verify(admin, "admin")
    await say(bot, admin, group, "/koppel")
    welcome = last(server, group)
    assert "De Spaanse Polder" in welcome.text
    assert button(welcome, "melden")["url"] == "https://t.me/weerbaar_test_bot?start=m_spaanse-polder"

    other_admin = server.add_user("Nora", language_code="nl")
    server.add_member(group, other_admin)
    await bot.verify(other_admin, "admin", park="noorderveld")
    await say(bot, other_admin, group, "/koppel")
    assert "alleen een beheerder daarvan" in last(server, group).text
    with Session(bot.db.engine) as session:
        assert len(session.exec(select(GroupChat)).all()) == 1


async def test_full_loop_report_claim_question_feedback_rating_close(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what=REPORT_TEXT)
    confirmation = last(server, cast.erik.private)
    assert "SP-0001" in confirmation.text and "verstuurd" in confirmation.text

    # Routed to police and municipality (drugs), not to the fire brigade.
    police_msg = last(server, cast.police.private)
    assert "SP-0001" in police_msg.text and REPORT_TEXT in police_msg.text
    assert REPORT_TEXT in last(server, cast.municipality.private).text
    assert all(REPORT_TEXT not in m.text for m in server.messages(cast.fire.private))

    # Claim: the police officer leads, the municipality is told.
    await press(bot, server, cast.police, "Oppakken", message=police_msg)
    assert "trekker van SP-0001" in last(server, cast.police.private).text
    assert "claimed by Piet" in last(server, cast.municipality.private).text

    # A question reaches the reporter; the answer goes back to the officer.
    await press(bot, server, cast.police, "Vraag", message=police_msg)
    await say(bot, cast.police, cast.police.private, "Welk kenteken hadden de busjes?")
    question = last(server, cast.erik.private)
    assert "Welk kenteken" in question.text
    await press(bot, server, cast.erik, "Antwoorden", message=question)
    await say(bot, cast.erik, cast.erik.private, "Iets met 12-ABC")
    answer = last(server, cast.police.private)
    assert "Iets met 12-ABC" in answer.text and "anoniem" in answer.text

    # Ready-made feedback is one tap away; the reporter rates it.
    await press(bot, server, cast.police, "Terugkoppelen", message=police_msg)
    await press(bot, server, cast.police, "onderzocht")
    feedback = last(server, cast.erik.private)
    assert "Terugkoppeling op je melding SP-0001" in feedback.text and "wordt onderzocht" in feedback.text
    await press(bot, server, cast.erik, "Nog niet genoeg", message=feedback)
    assert "nog niet genoeg" in last(server, cast.police.private).text
    assert bot.reports()[0].rating == "not_enough"

    # Closing always sends a closing message to the reporter.
    await press(bot, server, cast.police, "Sluiten", message=police_msg)
    await press(bot, server, cast.police, "Zelf schrijven")
    await say(bot, cast.police, cast.police.private, "Er is een controle geweest, dank!")
    closing = last(server, cast.erik.private)
    assert "afgesloten" in closing.text and "controle geweest" in closing.text
    assert "closed by Piet" in last(server, cast.municipality.private).text
    report = bot.reports()[0]
    assert report.status == "closed" and report.first_feedback_at is not None

    mine = await say(bot, cast.erik, cast.erik.private, "/mijnmeldingen")
    assert "SP-0001" in mine.text and "gesloten" in mine.text
    with Session(bot.db.engine) as session:
        kinds = [e.kind for e in session.exec(select(ReportEvent).order_by(ReportEvent.id))]
    assert kinds == ["sent", "claim", "question", "answer", "feedback", "rating", "close"]


async def test_category_routing_reaches_only_its_roles(bot, server, cast):
    await file_report(bot, server, cast.fleur, cast.group, category="Real estate", what="Cash purchase of unit 4")
    assert "Cash purchase" in last(server, cast.municipality.private).text
    assert not any("Cash purchase" in m.text for m in server.messages(cast.police.private))
    assert not any("Cash purchase" in m.text for m in server.messages(cast.fire.private))
    assert "SP-0001" in last(server, cast.fleur.private).text


async def test_anonymous_report_never_identifies_the_reporter(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what=REPORT_TEXT, anonymous=True, photos=2)
    official_chats = [cast.police.private, cast.municipality.private]
    bound = [m for chat in official_chats for m in server.messages(chat)]
    assert sum(1 for m in bound if m.get("photo")) == 4  # two photos to each official
    identifiers = {"Erik", "erik_ondernemer", str(cast.erik.id), f"tg://user?id={cast.erik.id}"}
    for message in bound:
        shown = f"{message.text or ''} {message.caption or ''} {message.html or ''} {message.buttons}"
        assert not any(identifier in shown for identifier in identifiers), shown

    await file_report(bot, server, cast.fleur, cast.group, what="Named report", anonymous=False)
    named = last(server, cast.police.private)
    assert "Named report" in named.text and "Fleur (@fleur_bv)" in named.text


async def test_no_report_content_ever_reaches_the_group(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what=REPORT_TEXT, where="Geheime loods 9")
    await press(bot, server, cast.police, "Terugkoppelen", message=server.messages(cast.police.private)[-1])
    await press(bot, server, cast.police, "Ontvangen, dank")
    for message in server.messages(cast.group):
        assert REPORT_TEXT not in message.text and "Geheime loods" not in message.text
        assert "SP-0001" not in message.text


async def test_outsider_cannot_report(bot, server, cast):
    await say(bot, cast.outsider, cast.outsider.private, "/melden")
    assert "alleen als je lid bent" in last(server, cast.outsider.private).text
    cast.outsider.open_link("https://t.me/weerbaar_test_bot?start=m_spaanse-polder")
    await bot.settle()
    assert "alleen als je lid bent" in last(server, cast.outsider.private).text
    server.remove_member(cast.group, cast.fleur)
    await say(bot, cast.fleur, cast.fleur.private, "/report")
    assert "only report as a member" in last(server, cast.fleur.private).text


async def test_report_from_private_chat_directly(bot, server, cast):
    await say(bot, cast.erik, cast.group, "/help")  # the bot has seen Erik in the park's group
    first = await say(bot, cast.erik, cast.erik.private, "/melden")
    assert "112" in server.messages(cast.erik.private)[-2].text
    assert button(first, "Drugs")


async def test_withdrawal_stops_reminders_and_tells_officials(bot, server, cast):
    from datetime import timedelta

    await file_report(bot, server, cast.erik, cast.group, what=REPORT_TEXT)
    mine = await say(bot, cast.erik, cast.erik.private, "/mijnmeldingen")
    await press(bot, server, cast.erik, "intrekken", message=mine)
    await press(bot, server, cast.erik, "Ja, intrekken")
    assert "ingetrokken" in last(server, cast.erik.private).text
    assert "withdrawn by the reporter" in last(server, cast.municipality.private).text
    before = len(server.messages(cast.police.private))
    await bot.advance(timedelta(days=3))
    assert len(server.messages(cast.police.private)) == before
    assert bot.reports()[0].status == "withdrawn"


async def test_official_acts_by_command_and_lists_open_reports(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what=REPORT_TEXT)
    listing = await say(bot, cast.police, cast.police.private, "/open")
    assert "SP-0001" in listing.text and "niemand" in listing.text and "herinneringen: 0" in listing.text
    await say(bot, cast.police, cast.police.private, "/oppakken SP-0001")
    await say(bot, cast.police, cast.police.private, "/feedback SP-0001 We zijn er vannacht langs geweest.")
    assert "vannacht langs geweest" in last(server, cast.erik.private).text
    listing = await say(bot, cast.police, cast.police.private, "/open")
    assert "Piet" in listing.text and "terugkoppeling ontvangen" in listing.text
    # The fire brigade is not routed for drugs: the number does not work for them.
    await say(bot, cast.fire, cast.fire.private, "/feedback SP-0001 hallo")
    assert "niet aan jou gericht" in last(server, cast.fire.private).text
