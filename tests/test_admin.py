"""Park administration from the chat, through the real Telegram path."""

import re
from datetime import timedelta

from sqlmodel import Session, select

from handlers import park_numbers
from handlers.buttons import CategoryAction, CategoryRole, RoleAction
from storage.models import AdminChange, Category, Park, Person, Role
from tests.telegram_people import button, file_report, last, open_report_from_group, press, say


def number_of(bot, user, park: str = "spaanse-polder") -> int:
    """The person's number in the park, as /instanties shows it."""
    with Session(bot.db.engine) as session:
        person = session.exec(select(Person).where(Person.external_id == str(user.id))).one()
        park_id = session.exec(select(Park).where(Park.slug == park)).one().id
        return park_numbers.people(session, park_id)[person.id]


def code_from(message) -> str:
    """The invite code in the bot's answer (the code message or the link message)."""
    return re.search(r"(?:\n|start=)(\w{20})(?:\n|$)", message.text).group(1)


def report_message(server, user):
    return next(m for m in reversed(server.messages(user.private)) if m.buttons and "melding" in m.text.lower())


async def test_admin_invites_an_official_who_then_shows_in_the_list(bot, server, cast):
    await say(bot, cast.admin, cast.admin.private, "/uitnodigen park_manager 3d")
    reply = server.messages(cast.admin.private)[-2]
    assert "parkmanager" in reply.text and "geldig tot 3 dec 2026 09:00" in reply.text
    code = code_from(reply)
    link = last(server, cast.admin.private).text
    assert link == f"Link: https://t.me/weerbaar_test_bot?start={code}"
    manager = server.add_user("Maud", language_code="nl")
    manager.open_link(link.removeprefix("Link: "))
    await bot.settle()
    assert "geverifieerd als <b>parkmanager</b>" in last(server, manager.private).html or \
        "geverifieerd als parkmanager" in last(server, manager.private).text
    listing = await say(bot, cast.admin, cast.admin.private, "/instanties")
    assert "#5 Maud — parkmanager (telegram), sinds 30 nov 2026 09:00, laatst actief: nooit" in listing.text
    assert "Piet — politie (wijkagent)" in listing.text

    await file_report(bot, server, cast.erik, cast.group)
    await press(bot, server, cast.police, "Oppakken", message=server.messages(cast.police.private)[-1])
    listing = await say(bot, cast.admin, cast.admin.private, "/instanties")
    assert re.search(r"Piet — politie \(wijkagent\) \(telegram\), sinds [^,]+, laatst actief: 30 nov 2026 09:00", listing.text)


async def test_non_admins_get_a_polite_refusal_and_nothing_changes(bot, server, cast):
    for user in (cast.police, cast.erik, cast.outsider):
        for command in ("/uitnodigen police", "/instanties", "/intrekken #1", "/categorieen", "/beleid eerste 1h",
                        "/logboek", "/categorie uit #1"):
            reply = await say(bot, user, user.private, command)
            assert "alleen voor geverifieerde beheerders" in reply.text, (user, command, reply.text)
    with Session(bot.db.engine) as session:
        assert session.exec(select(AdminChange)).all() == []
        assert session.exec(select(Park).where(Park.slug == "spaanse-polder")).one().first_reminder_after_s == 4 * 3600


async def test_bad_admin_input_is_answered_and_changes_nothing(bot, server, cast):
    assert "geen geldige duur" in (await say(bot, cast.admin, cast.admin.private, "/uitnodigen police morgen")).text
    assert "ROL een van" in (await say(bot, cast.admin, cast.admin.private, "/uitnodigen sheriff")).text
    assert "geen geldige duur" in (await say(bot, cast.admin, cast.admin.private, "/beleid eerste nooit")).text
    assert "geldige werktijden" in (await say(bot, cast.admin, cast.admin.private, "/beleid werktijd 18:00-08:00")).text
    assert "geldige werkdagen" in (await say(bot, cast.admin, cast.admin.private, "/beleid werkdagen 0-9")).text
    assert "bekende tijdzone" in (await say(bot, cast.admin, cast.admin.private, "/beleid tijdzone Mars/Base")).text
    assert "rollen" in (await say(bot, cast.admin, cast.admin.private, "/categorie rollen #1 sheriff")).text
    assert "geen soort met nummer" in (await say(bot, cast.admin, cast.admin.private, "/categorie uit #999")).text
    with Session(bot.db.engine) as session:
        assert session.exec(select(AdminChange)).all() == []


async def test_revoking_an_official_releases_the_lead_and_reroutes(bot, server, cast):
    second = server.add_user("Paula", language_code="nl")
    await bot.verify(second, "police")
    await file_report(bot, server, cast.erik, cast.group)
    piet_message = last(server, cast.police.private)
    await press(bot, server, cast.police, "Oppakken", message=piet_message)

    reply = await say(bot, cast.admin, cast.admin.private, f"/intrekken #{number_of(bot, cast.police)}")
    assert "Piet" in reply.text and "ingetrokken" in reply.text
    assert "ingetrokken" in last(server, cast.police.private).text
    assert "no longer leads SP-0001" in last(server, cast.municipality.private).text
    assert bot.reports()[0].lead_person_id is None
    # Paula already had it; the revoked officer can no longer act on it, by button or command.
    await press(bot, server, cast.police, "Terugkoppelen", message=piet_message)
    assert "bestaat niet of is niet aan jou gericht" in server.answered_callbacks[-1].text
    reply = await say(bot, cast.police, cast.police.private, "/feedback SP-0001 toch nog")
    assert "niet aan jou gericht" in reply.text
    await press(bot, server, second, "Oppakken", message=report_message(server, second))
    assert "trekker van SP-0001" in last(server, second.private).text


async def test_revoke_reroutes_to_a_newly_routed_official(bot, server, cast):
    await file_report(bot, server, cast.fleur, cast.group, category="Real estate", what="Cash deal")
    newcomer = server.add_user("Nina", language_code="en")
    await bot.verify(newcomer, "municipality")
    assert not any("Cash deal" in m.text for m in server.messages(newcomer.private))
    await say(bot, cast.admin, cast.admin.private, f"/intrekken #{number_of(bot, cast.municipality)}")
    assert "Cash deal" in last(server, newcomer.private).text


async def test_the_last_admin_cannot_leave(bot, server, cast):
    own = number_of(bot, cast.admin)
    reply = await say(bot, cast.admin, cast.admin.private, f"/intrekken #{own}")
    assert "laatste beheerder" in reply.text
    second = server.add_user("Bert", language_code="nl")
    code = code_from(await say(bot, cast.admin, cast.admin.private, "/uitnodigen admin"))
    second.start(code)
    await bot.settle()
    reply = await say(bot, cast.admin, cast.admin.private, f"/intrekken #{own}")
    assert "ingetrokken" in reply.text
    # A revoked admin is refused from then on.
    assert "alleen voor geverifieerde beheerders" in (await say(bot, cast.admin, cast.admin.private, "/instanties")).text
    reply = await say(bot, second, second.private, f"/intrekken #{number_of(bot, second)}")
    assert "laatste beheerder" in reply.text


async def test_away_official_is_replaced_by_the_backup_until_back(bot, server, cast):
    backup = server.add_user("Paula", language_code="nl")
    await bot.verify(backup, "police")
    reply = await say(bot, cast.admin, cast.admin.private,
                      f"/afwezig #{number_of(bot, cast.police)} #{number_of(bot, backup)}")
    assert "Piet is afwezig; Paula" in reply.text
    assert "Je vervangt Piet" in last(server, backup.private).text
    before = len(server.messages(cast.police.private))
    await file_report(bot, server, cast.erik, cast.group, what="Tijdens vakantie")
    assert len(server.messages(cast.police.private)) == before
    assert "Tijdens vakantie" in last(server, backup.private).text
    await bot.advance(timedelta(hours=4))
    assert last(server, backup.private).text.startswith("⏰")
    assert len(server.messages(cast.police.private)) == before

    await say(bot, cast.admin, cast.admin.private, f"/terug #{number_of(bot, cast.police)}")
    await file_report(bot, server, cast.erik, cast.group, what="Na vakantie")
    assert "Na vakantie" in last(server, cast.police.private).text


async def test_categories_are_managed_and_old_reports_keep_theirs(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)  # a drugs report
    listing = await say(bot, cast.admin, cast.admin.private, "/categorieen")
    drugs = int(re.search(r"#(\d+) Drugs", listing.text).group(1))
    await say(bot, cast.admin, cast.admin.private, "/categorie toevoegen Afvaldumping | Waste dumping")
    new = int(re.search(r"#(\d+)", last(server, cast.admin.private).text).group(1))
    await say(bot, cast.admin, cast.admin.private, f"/categorie rollen #{new} fire_brigade, municipality")
    await say(bot, cast.admin, cast.admin.private, f"/categorie verplaats #{new} 1")
    await say(bot, cast.admin, cast.admin.private, f"/categorie hernoemen #{drugs} Verdovende middelen | Narcotics")
    await say(bot, cast.admin, cast.admin.private, f"/categorie uit #{drugs}")
    await say(bot, cast.admin, cast.admin.private, f"/categorie signalen #{new} Let op vaten | Watch for drums")

    question = await open_report_from_group(bot, server, cast.fleur, cast.group)
    labels = [b["text"] for row in question.buttons for b in row]
    assert labels[0] == "Waste dumping" and "Narcotics" not in labels and "Drugs" not in labels
    await press(bot, server, cast.fleur, "What to look for")
    cards = server.messages(cast.fleur.private)[-2]
    assert "<b>Waste dumping</b>\nWatch for drums" in cards.html or "Watch for drums" in cards.text
    assert "Waste dumping" in last(server, cast.fleur.private).buttons[0][0]["text"]  # asked again

    mine = await say(bot, cast.erik, cast.erik.private, "/mijnmeldingen")
    assert "SP-0001</b> Verdovende middelen" in mine.html or "SP-0001 Verdovende middelen" in mine.text
    audit = await say(bot, cast.admin, cast.admin.private, "/logboek")
    for sentence in ("Beheerder Anna voegde de soort Afvaldumping toe — vandaag 09:00",
                     "Beheerder Anna stuurt de soort Afvaldumping voortaan naar brandweer, gemeente (was: politie (wijkagent))",
                     "Beheerder Anna verplaatste de soort Afvaldumping naar plaats 1",
                     "Beheerder Anna hernoemde de soort Drugs naar Verdovende middelen",
                     "Beheerder Anna zette de soort Verdovende middelen uit",
                     "Beheerder Anna schreef nieuwe signalen voor de soort Afvaldumping",
                     "Bram werd geverifieerd als brandweer"):
        assert sentence in audit.text, audit.text
    assert "enabled=" not in audit.text and "category." not in audit.text
    with Session(bot.db.engine) as session:
        added = session.exec(select(Category).where(Category.name_nl == "Afvaldumping")).one()
        assert added.roles == ["fire_brigade", "municipality"] and new == 4  # the park's fourth category


async def test_signal_cards_for_entrepreneurs(bot, server, cast):
    for member in (cast.erik, cast.fleur):  # seen in the park's group, so their park is known
        await say(bot, member, cast.group, "/help")
    cards = await say(bot, cast.erik, cast.erik.private, "/signalen")
    assert "Drugs" in cards.text and "•" in cards.text
    english = await say(bot, cast.fleur, cast.fleur.private, "/signals")
    assert "You are the first to notice" in english.text
    assert "Ik weet nog niet" in (await say(bot, cast.outsider, cast.outsider.private, "/signalen")).text


async def test_policy_reads_as_a_sentence_and_changes_apply_at_once(bot, server, cast):
    policy = await say(bot, cast.admin, cast.admin.private, "/beleid")
    assert ("Eerste herinnering na 4 werkuren, daarna elke 2 werkuren; na 2 herinneringen worden de "
            "beheerders ingelicht.") in policy.text
    assert "Spoed: eerste herinnering na 30 minuten" in policy.text and "ma, di, wo, do, vr, 08:00–18:00" in policy.text
    await file_report(bot, server, cast.erik, cast.group)  # Monday 09:00; first reminder due 13:00
    reply = await say(bot, cast.admin, cast.admin.private, "/beleid eerste 1h")
    assert "1 open melding is opnieuw ingepland" in reply.text and "na 1 werkuur" in reply.text
    await bot.advance(timedelta(hours=1))
    assert last(server, cast.police.private).text.startswith("⏰")

    await say(bot, cast.admin, cast.admin.private, "/beleid eerste 2d")
    english = await say(bot, cast.municipality, cast.municipality.private, "/taal en")
    assert "English" in english.text
    await say(bot, cast.admin, cast.admin.private, "/taal en")
    policy = await say(bot, cast.admin, cast.admin.private, "/policy")
    assert "First reminder after 2 working days, then every 2 working hours; after 2 reminders the admins are told." \
        in policy.text
    with Session(bot.db.engine) as session:
        actions = [c.action for c in session.exec(select(AdminChange).order_by(AdminChange.id))]
    assert actions == ["policy.first", "policy.first"]


async def test_working_hours_days_and_timezone_change_the_schedule(bot, server, cast):
    await say(bot, cast.admin, cast.admin.private, "/beleid werktijd 10:00-16:00")
    await say(bot, cast.admin, cast.admin.private, "/beleid werkdagen 1-4")
    reply = await say(bot, cast.admin, cast.admin.private, "/beleid tijdzone Europe/London")
    assert "ma, di, wo, do, 10:00–16:00 (Europe/London)" in reply.text


async def test_admin_of_two_parks_is_asked_which_park(bot, server, cast):
    await bot.verify(cast.admin, "admin", park="noorderveld")
    question = await say(bot, cast.admin, cast.admin.private, "/categorieen")
    assert "Voor welk bedrijventerrein" in question.text
    listing = await press(bot, server, cast.admin, "Noorderveld", message=question)
    assert "Soorten bij Noorderveld" in listing.text
    # The park button is used up: pressing it again changes nothing.
    cast.admin.press(question, button(question, "Noorderveld")["callback_data"])
    await bot.settle()
    assert "eerder bericht" in server.answered_callbacks[-1].text
    # A park button naming a park the admin does not run answers politely and shows nothing.
    await say(bot, cast.admin, cast.admin.private, "/categorieen")
    data = button(last(server, cast.admin.private), "Noorderveld")["callback_data"]
    pending_id = data.split(":")[0]
    with Session(bot.db.engine) as session:
        foreign = session.exec(select(Park).where(Park.slug == "noorderveld")).one().id + 1000
    cast.admin.press_raw(last(server, cast.admin.private), f"{pending_id}:{foreign}")
    await bot.settle()
    assert "eerder bericht" in last(server, cast.admin.private).text


async def test_one_park_cannot_touch_another(bot, server, cast):
    other_admin = server.add_user("Nora", language_code="nl")
    other_police = server.add_user("Olaf", language_code="nl")
    await bot.verify(other_admin, "admin", park="noorderveld")
    await bot.verify(other_police, "police", park="noorderveld")
    await file_report(bot, server, cast.erik, cast.group)
    report_message = last(server, cast.police.private)
    await say(bot, other_police, other_police.private, "/start")
    for label in ("Oppakken", "Terugkoppelen", "Vraag", "Sluiten"):
        other_police.press_raw(last(server, other_police.private), button(report_message, label)["callback_data"])
        await bot.settle()
        assert "bestaat niet of is niet aan jou gericht" in server.answered_callbacks[-1].text
    for command in ("/oppakken SP-0001", "/feedback SP-0001 hoi", "/vraag SP-0001 hoi", "/sluit SP-0001 klaar"):
        assert "niet aan jou gericht" in (await say(bot, other_police, other_police.private, command)).text
    assert "SP-0001" not in (await say(bot, other_police, other_police.private, "/open")).text
    # Numbers are per park: the other admin's numbers name their own people and categories only,
    # and buttons naming this park's roles or categories are refused.
    for command in ("/intrekken #9", "/afwezig #9 #1", "/categorie uit #9"):
        reply = await say(bot, other_admin, other_admin.private, command)
        assert "Ik vind geen" in reply.text
    with Session(bot.db.engine) as session:
        police_role = session.exec(select(Role).join(Person, Person.id == Role.person_id)
                                   .where(Person.external_id == str(cast.police.id))).one().id
        drugs = session.exec(select(Category).join(Park, Park.id == Category.park_id)
                             .where(Park.slug == "spaanse-polder", Category.key == "drugs")).one().id
    listing = await say(bot, other_admin, other_admin.private, "/instanties")
    for forged in (RoleAction(police_role, "revoke_yes"), RoleAction(police_role, "away"),
                   CategoryAction(drugs, "off"), CategoryRole(drugs, "police")):
        other_admin.press_raw(listing, forged.pack())
        await bot.settle()
        assert "eerder bericht" in server.answered_callbacks[-1].text
    with Session(bot.db.engine) as session:
        assert session.get(Role, police_role).revoked_at is None and session.get(Category, drugs).enabled
    report = bot.reports()[0]
    assert report.status == "open" and report.lead_person_id is None and report.first_feedback_at is None


async def test_reciprocity_figures_in_the_chat(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)
    await file_report(bot, server, cast.fleur, cast.group, category="Real estate", what="Cash deal")
    bot.clock.advance(timedelta(hours=2))
    police_report = next(m for m in server.messages(cast.police.private) if "SP-0001" in m.text and m.buttons)
    await press(bot, server, cast.police, "Terugkoppelen", message=police_report)
    await press(bot, server, cast.police, "Ontvangen, dank")
    await press(bot, server, cast.erik, "Ja, dank je")
    await say(bot, cast.admin, cast.admin.private, "/statistiek 7d")
    figures = server.messages(cast.admin.private)[-3]  # then the chart and the CSV (tests/test_board_statistics.py)
    assert "De Spaanse Polder" in figures.text and "2" in figures.text and "50" in figures.text
    assert "Drugs" in figures.text and "Vastgoed" in figures.text
    await say(bot, cast.fire, cast.fire.private, "/statistiek")
    own = server.messages(cast.fire.private)[-3]
    assert "Drugs" not in own.text
    assert "niet" in (await say(bot, cast.admin, cast.admin.private, "/statistiek gisteren-ish")).text.lower()
    assert "instanties" in (await say(bot, cast.erik, cast.erik.private, "/statistiek")).text


async def test_a_chat_issued_invite_expires(bot, server, cast):
    await say(bot, cast.admin, cast.admin.private, "/uitnodigen fire_brigade 1h")
    code = code_from(server.messages(cast.admin.private)[-2])
    bot.clock.advance(timedelta(hours=1, minutes=1))
    late = server.add_user("Laura", language_code="nl")
    late.start(code)
    await bot.settle()
    assert "verlopen" in last(server, late.private).text
    assert "Laura" not in (await say(bot, cast.admin, cast.admin.private, "/instanties")).text
