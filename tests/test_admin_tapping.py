"""Administration by tapping, per-park numbers, invites, the readable audit log, dates and plurals,
through the real bot and the fake Bot API, in Dutch and English."""

from datetime import timedelta

from sqlmodel import Session, select

from storage.models import Category, Park, Role
from tests.telegram_people import button, file_report, last, press, say


async def test_away_with_a_picker_of_same_role_backups_then_back_and_revoke(bot, server, cast):
    paula = server.add_user("Paula", language_code="nl")
    await bot.verify(paula, "police")
    listing = await say(bot, cast.admin, cast.admin.private, "/instanties")
    assert "#2 Piet — politie (wijkagent)" in listing.text and "#5 Paula — politie (wijkagent)" in listing.text
    menu = await press(bot, server, cast.admin, "2. Piet", message=listing)
    assert menu.text == "#2 Piet — politie (wijkagent). Wat wil je doen?"
    picker = await press(bot, server, cast.admin, "afwezig", message=menu)
    assert [b["text"] for row in picker.buttons for b in row] == ["5. Paula"]  # not Gwen (gemeente) or Bram
    reply = await press(bot, server, cast.admin, "Paula", message=picker)
    assert "Piet is afwezig; Paula ontvangt" in reply.text
    assert "Je vervangt Piet" in last(server, paula.private).text
    listing = await say(bot, cast.admin, cast.admin.private, "/instanties")
    assert "afwezig; vervanger: Paula" in listing.text
    menu = await press(bot, server, cast.admin, "2. Piet", message=listing)
    reply = await press(bot, server, cast.admin, "2. Piet: terug", message=menu)
    assert "Piet is terug" in reply.text

    await file_report(bot, server, cast.erik, cast.group)  # to Piet and Paula
    listing = await say(bot, cast.admin, cast.admin.private, "/instanties")
    menu = await press(bot, server, cast.admin, "5. Paula", message=listing)
    confirm = await press(bot, server, cast.admin, "5. Paula: intrekken", message=menu)
    assert "De rol politie (wijkagent) van Paula bij De Spaanse Polder intrekken?" in confirm.text
    reply = await press(bot, server, cast.admin, "Ja, intrekken", message=confirm)
    assert reply.text == ("De rol van Paula bij De Spaanse Polder is ingetrokken; "
                          "1 open melding is opnieuw verdeeld.")
    assert "Je ontvangt geen meldingen meer" in last(server, paula.private).text
    # The confirmation cannot be used twice.
    cast.admin.press(confirm, button(confirm, "Ja")["callback_data"])
    await bot.settle()
    assert "eerder bericht" in server.answered_callbacks[-1].text
    listing = await say(bot, cast.admin, cast.admin.private, "/instanties")
    assert "Paula" not in listing.text and "#4 Bram" in listing.text  # numbers stay as they were


async def test_one_person_with_two_roles_is_one_entry_and_roles_can_be_typed_in_dutch(bot, server, cast):
    await say(bot, cast.admin, cast.admin.private, "/uitnodigen politie 2d")
    code = server.messages(cast.admin.private)[-2].text.split("\n")[1]
    cast.fire.start(code)
    await bot.settle()
    listing = await say(bot, cast.admin, cast.admin.private, "/instanties")
    assert listing.text.count("Bram") == 1 and "#4 Bram — brandweer, politie (wijkagent)" in listing.text
    menu = await press(bot, server, cast.admin, "4. Bram", message=listing)
    assert [b["text"] for row in menu.buttons for b in row] == [
        "✖ 4. Bram (brandweer): intrekken", "🌴 4. Bram (brandweer): afwezig",
        "✖ 4. Bram (politie (wijkagent)): intrekken", "🌴 4. Bram (politie (wijkagent)): afwezig"]
    which = await say(bot, cast.admin, cast.admin.private, "/intrekken 4")
    assert "Bram heeft meer rollen" in which.text
    reply = await say(bot, cast.admin, cast.admin.private, "/intrekken 4 politie")
    assert "De rol van Bram bij De Spaanse Polder is ingetrokken; 0 open meldingen zijn opnieuw verdeeld." == reply.text
    with Session(bot.db.engine) as session:
        assert sorted(r.role for r in session.exec(select(Role).where(Role.revoked_at == None))  # noqa: E711
                      if r.person_id == session.exec(select(Role).where(Role.role == "fire_brigade")).one().person_id
                      ) == ["fire_brigade"]
    assert "Ik vind geen" in (await say(bot, cast.admin, cast.admin.private, "/intrekken 99999999999999999999")).text


async def test_revoking_an_admin_reads_as_an_admin_and_not_as_an_official(bot, server, cast):
    bert = server.add_user("Bert", language_code="en")
    await bot.verify(bert, "admin")
    reply = await say(bot, cast.admin, cast.admin.private, "/intrekken 5")
    assert reply.text == "De beheerdersrol van Bert bij De Spaanse Polder is ingetrokken."
    told = last(server, bert.private).text
    assert told.startswith("Your role as admin of De Spaanse Polder was revoked") and "reports" not in told


async def test_categories_by_tapping_in_english(bot, server, cast):
    await say(bot, cast.admin, cast.admin.private, "/language en")
    listing = await say(bot, cast.admin, cast.admin.private, "/categories")
    assert "#2 Real estate → municipality" in listing.text
    assert [b["text"] for row in listing.buttons for b in row] == ["#1 Drugs", "#2 Real estate", "#3 Fire hazard"]
    menu = await press(bot, server, cast.admin, "#1 Drugs", message=listing)
    reply = await press(bot, server, cast.admin, "#1 Drugs: off", message=menu)
    assert reply.text == "Category #1 (Drugs) was updated."
    menu = await press(bot, server, cast.admin, "#2 Real estate", message=listing)
    await press(bot, server, cast.admin, "#2 ↑", message=menu)
    toggles = await press(bot, server, cast.admin, "#2 routing", message=menu)
    assert [b["text"] for row in toggles.buttons for b in row][:2] == ["▫️ police (neighbourhood officer)",
                                                                       "✅ municipality"]
    toggles = await press(bot, server, cast.admin, "police", message=toggles)
    assert "✅ police (neighbourhood officer)" in [b["text"] for row in toggles.buttons for b in row]
    toggles = await press(bot, server, cast.admin, "municipality", message=toggles)
    refused = await press(bot, server, cast.admin, "police", message=toggles)  # the last role stays
    assert "at least one role" in refused.text
    listing = await say(bot, cast.admin, cast.admin.private, "/categories")
    lines = listing.text.split("\n")
    assert lines[1] == "• #2 Real estate → police (neighbourhood officer)" and "#1 Drugs → " in lines[2]
    reply = await say(bot, cast.admin, cast.admin.private, "/category roles 3 brandweer, gemeente")
    assert "Category #3" in reply.text
    with Session(bot.db.engine) as session:
        park = session.exec(select(Park).where(Park.slug == "spaanse-polder")).one().id
        categories = {c.key: c for c in session.exec(select(Category).where(Category.park_id == park))}
    assert not categories["drugs"].enabled and categories["brand"].roles == ["fire_brigade", "municipality"]
    audit = await say(bot, cast.admin, cast.admin.private, "/audit")
    assert "Admin Anna switched the category Drugs off — today 09:00" in audit.text
    assert ("Admin Anna now routes the category Real estate to police (neighbourhood officer), municipality "
            "(was: municipality)") in audit.text


async def test_invites_are_listed_cancelled_and_their_redemption_is_audited(bot, server, cast):
    await say(bot, cast.admin, cast.admin.private, "/uitnodigen gemeente 3d")
    first = server.messages(cast.admin.private)[-2].text.split("\n")[1]
    await say(bot, cast.admin, cast.admin.private, "/uitnodigen parkmanager 1d")
    second = server.messages(cast.admin.private)[-2].text.split("\n")[1]
    listing = await say(bot, cast.admin, cast.admin.private, "/uitnodigingen")
    assert "• #5 gemeente, geldig tot 3 dec 2026 09:00, uitgegeven door Anna" in listing.text
    assert "• #6 parkmanager, geldig tot 1 dec 2026 09:00" in listing.text and "#1 " not in listing.text
    reply = await press(bot, server, cast.admin, "#6 parkmanager: intrekken", message=listing)
    assert reply.text == "Uitnodiging #6 (parkmanager) is ingetrokken en werkt niet meer."
    late = server.add_user("Laura", language_code="nl")
    late.start(second)
    await bot.settle()
    assert "ingetrokken" in last(server, late.private).text
    newcomer = server.add_user("Nina", language_code="en")
    newcomer.start(first)
    await bot.settle()
    assert "verified as <b>municipality</b>" in last(server, newcomer.private).html
    assert "no outstanding invites" in (await say(bot, cast.municipality, cast.municipality.private, "/taal nl")
                                        and await say(bot, cast.admin, cast.admin.private, "/taal en")
                                        and await say(bot, cast.admin, cast.admin.private, "/invites")).text
    bot.clock.advance(timedelta(days=1))
    audit = await say(bot, cast.admin, cast.admin.private, "/audit")
    assert "Nina was verified as municipality with the invite from Anna (30 Nov 2026, 09:00) — yesterday 09:00" \
        in audit.text
    assert "Admin Anna cancelled an invite for park manager — yesterday 09:00" in audit.text
    assert "Admin Anna invited a municipality (valid until 3 Dec 2026, 09:00)" in audit.text


async def test_audit_reads_as_sentences_in_the_park_time_zone(bot, server, cast):
    bot.clock.advance(timedelta(hours=1, minutes=14))
    await say(bot, cast.admin, cast.admin.private, "/beleid eerste 3d")
    await say(bot, cast.admin, cast.admin.private, "/beleid escalatie 3")
    audit = await say(bot, cast.admin, cast.admin.private, "/logboek")
    assert "• Beheerder Anna zette de eerste herinnering van 4 werkuren naar 3 werkdagen — vandaag 10:14" in audit.text
    assert "Beheerder Anna zette de escalatie van na 2 naar na 3 herinneringen — vandaag 10:14" in audit.text
    await say(bot, cast.admin, cast.admin.private, "/beleid tijdzone Europe/London")
    audit = await say(bot, cast.admin, cast.admin.private, "/logboek")
    assert "zette de tijdzone van Europe/Amsterdam naar Europe/London — vandaag 09:14" in audit.text
    bot.clock.advance(timedelta(days=3))
    audit = await say(bot, cast.admin, cast.admin.private, "/logboek")
    assert "— 30 nov 2026 09:14" in audit.text


async def test_plurals_follow_the_number(bot, server, cast):
    reply = await say(bot, cast.admin, cast.admin.private, "/beleid herhaal 3h")
    assert "0 open meldingen zijn opnieuw ingepland" in reply.text and "na 2 herinneringen worden" in reply.text
    reply = await say(bot, cast.admin, cast.admin.private, "/beleid escalatie 1")
    assert "na 1 herinnering worden de beheerders ingelicht" in reply.text
    await file_report(bot, server, cast.erik, cast.group)
    assert "1 open melding is opnieuw ingepland" in (await say(bot, cast.admin, cast.admin.private,
                                                                "/beleid eerste 5h")).text
    await file_report(bot, server, cast.erik, cast.group, what="Nog een keer")
    await say(bot, cast.admin, cast.admin.private, "/taal en")
    assert "2 open reports were rescheduled" in (await say(bot, cast.admin, cast.admin.private,
                                                           "/policy first 6h")).text
    await bot.advance(timedelta(hours=6))
    assert "— after 1 reminder, lead: nobody" in last(server, cast.admin.private).text  # the escalation, in the singular


async def test_forged_admin_buttons_with_huge_numbers_are_answered_like_unknown_ones(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)
    listing = await say(bot, cast.admin, cast.admin.private, "/instanties")
    for forged in ("o99999999999999999999999:revoke", "ob2:99999999999999999999", "c99999999999999999:off",
                   "cr99999999999999999:police", "i99999999999999999999:cancel", "c1:explode"):
        cast.admin.press_raw(listing, forged)
        await bot.settle()
        assert "eerder bericht" in server.answered_callbacks[-1].text, forged
    with Session(bot.db.engine) as session:
        assert all(role.revoked_at is None and role.away_since is None for role in session.exec(select(Role)))



async def test_a_long_listing_keeps_within_the_buttons_one_message_may_carry(bot, server, cast):
    with bot.db.transaction() as session:
        park = session.exec(select(Park).where(Park.slug == "spaanse-polder")).one()
        for index in range(95):
            session.add(Category(park_id=park.id, key=f"c{index}", name_nl=f"C{index}", name_en=f"C{index}",
                                 roles=["police"], position=10 + index))
    listing = await say(bot, cast.admin, cast.admin.private, "/categorieen")
    assert "#98 C94" in listing.text and "Alleen de eerste 90 staan hieronder als keuze" in listing.text
    assert sum(len(row) for row in listing.buttons) == 90
    assert "Soort #98 (C94) is bijgewerkt" in (await say(bot, cast.admin, cast.admin.private, "/categorie uit 98")).text
