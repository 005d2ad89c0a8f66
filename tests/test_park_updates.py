"""Park updates from officials (issue 12), end to end through the real Telegram path."""

from datetime import timedelta

from sqlmodel import Session, select

from storage.models import AdminChange, ParkUpdate, UpdateUseful
from tests.telegram_people import last, press, say


async def become_members(bot, cast, *people) -> None:
    """Each person opens the private chat and uses a command in the park's group (which proves membership)."""
    for person in people:
        person.start()
        await bot.settle()
        await say(bot, person, cast.group, "/melden")


async def compose(bot, server, author, text: str, *, private: bool, named: bool = False):
    """``/bericht`` through text, no photo, the audience and the signature, up to the preview."""
    await say(bot, author, author.private, "/bericht")
    assert "Schrijf het bericht" in last(server, author.private).text
    await say(bot, author, author.private, text)
    await press(bot, server, author, "Zonder foto")
    if private:
        await press(bot, server, author, "privé aan leden")
    await press(bot, server, author, "Verder")
    sign = last(server, author.private)
    labels = [b["text"] for row in sign.buttons for b in row]
    return await press(bot, server, author, labels[1] if named else labels[0])


async def test_an_update_reaches_the_group_and_the_members_signed_with_the_role(bot, server, cast):
    await become_members(bot, cast, cast.erik, cast.fleur)
    preview = await compose(bot, server, cast.police, "Na jullie meldingen is er gisteren gecontroleerd <Industrieweg>.",
                            private=True)
    assert "Voorbeeld" in preview.text and "privé aan leden (2)" in preview.text and "in de groep (1)" in preview.text
    assert "— Politie (wijkagent)" in preview.text and "Piet" not in preview.text
    done = await press(bot, server, cast.police, "Versturen")
    assert "Verstuurd: in 1 groep(en) en privé aan 2 leden" in done.text

    in_group = last(server, cast.group)
    assert in_group.text.startswith("📢 Bericht voor De Spaanse Polder")
    assert "gecontroleerd <Industrieweg>." in in_group.text and in_group.text.endswith("— Politie (wijkagent)")
    assert "Piet" not in in_group.text
    assert "👍 Nuttig" in in_group.buttons[0][0]["text"]
    to_erik = last(server, cast.erik.private)
    assert "gecontroleerd <Industrieweg>" in to_erik.text and "— Politie (wijkagent)" in to_erik.text
    to_fleur = last(server, cast.fleur.private)
    assert to_fleur.text.startswith("📢 Update for De Spaanse Polder")
    assert to_fleur.text.endswith("— Police (neighbourhood officer)")

    # One tap each, in the group or privately; a second tap does not count twice.
    await press(bot, server, cast.erik, "Nuttig", chat=cast.group)
    assert "Doorgegeven" in server.answered_callbacks[-1].text
    await press(bot, server, cast.erik, "Nuttig", message=to_erik)
    assert "al nuttig" in server.answered_callbacks[-1].text
    await press(bot, server, cast.fleur, "Useful", message=to_fleur)
    listing = await say(bot, cast.police, cast.police.private, "/mijnberichten")
    assert "👍 2 nuttig" in listing.text and "1 groep(en), 2 leden" in listing.text
    with Session(bot.db.engine) as session:
        assert len(session.exec(select(UpdateUseful)).all()) == 2
        change = session.exec(select(AdminChange).where(AdminChange.action == "update.sent")).one()
        assert change.after == {"groups": 1, "members": 2}


async def test_the_author_may_sign_with_their_name_and_the_members_may_opt_out(bot, server, cast):
    await become_members(bot, cast, cast.erik, cast.fleur)
    await compose(bot, server, cast.police, "Eerste bericht", private=True, named=True)
    await press(bot, server, cast.police, "Versturen")
    assert last(server, cast.group).text.endswith("— Piet, Politie (wijkagent)")
    await press(bot, server, cast.fleur, "No more park updates")
    assert "no longer receive private park updates from De Spaanse Polder" in last(server, cast.fleur.private).text
    before = len(server.messages(cast.fleur.private))
    preview = await compose(bot, server, cast.police, "Tweede bericht", private=True)
    assert "privé aan leden (1)" in preview.text
    await press(bot, server, cast.police, "Versturen")
    assert len(server.messages(cast.fleur.private)) == before
    assert "Tweede bericht" in last(server, cast.erik.private).text
    await say(bot, cast.fleur, cast.fleur.private, "/parkupdates on")
    assert "again" in last(server, cast.fleur.private).text
    state = await say(bot, cast.fleur, cast.fleur.private, "/parkupdates")
    assert "De Spaanse Polder: on" in state.text


async def test_an_official_of_two_parks_picks_the_parks_and_other_parks_see_nothing(bot, server, cast):
    await bot.verify(cast.police, "police", park="noorderveld")
    before_group = len(server.messages(cast.group))
    reply = await say(bot, cast.police, cast.police.private, "/bericht Alleen voor Noorderveld")
    assert "Voor welke parken" in reply.text
    await press(bot, server, cast.police, "Verder")
    assert "minstens één park" in server.messages(cast.police.private)[-2].text
    await press(bot, server, cast.police, "Noorderveld")
    assert "☑ Noorderveld" in str(last(server, cast.police.private).buttons)
    await press(bot, server, cast.police, "Verder")
    await press(bot, server, cast.police, "Zonder foto")
    audience = last(server, cast.police.private)
    assert "☑ privé aan leden (0)" in str(audience.buttons) and "☐ in de groep (0)" in str(audience.buttons)
    await press(bot, server, cast.police, "Verder")
    await press(bot, server, cast.police, "Politie")
    await press(bot, server, cast.police, "Versturen")
    assert len(server.messages(cast.group)) == before_group
    with Session(bot.db.engine) as session:
        updates = session.exec(select(ParkUpdate)).all()
    assert [(u.park_id, u.text) for u in updates] == [(2, "Alleen voor Noorderveld")]


async def test_bad_input_is_answered_and_sends_nothing(bot, server, cast):
    await become_members(bot, cast, cast.erik)
    reply = await say(bot, cast.erik, cast.erik.private, "/bericht Hallo allemaal")
    assert "voor geverifieerde instanties en beheerders" in reply.text
    reply = await say(bot, cast.police, cast.police.private, "/bericht " + "x" * 2001)
    assert "te lang (2001 tekens; max. 2000)" in reply.text
    await say(bot, cast.police, cast.police.private, "/bericht")
    cast.police.send_sticker(cast.police.private)
    await bot.settle()
    assert "Ik verwacht hier tekst" in server.messages(cast.police.private)[-1].text
    await say(bot, cast.police, cast.police.private, "Tekst")
    stale = server.messages(cast.police.private)[-3]
    cast.police.press_raw(stale, "k:999:text:x")
    await bot.settle()
    assert "werkt niet meer" in server.answered_callbacks[-1].text
    reply = await say(bot, cast.police, cast.police.private, "/stop")
    assert "niets verstuurd" in reply.text
    cast.erik.press_raw(last(server, cast.erik.private), "u:999:ok")
    await bot.settle()
    assert "werkt niet meer" in server.answered_callbacks[-1].text
    cast.erik.press_raw(last(server, cast.erik.private), "u:99999999999999999999:ok")
    await bot.settle()
    assert "werkt niet meer" in server.answered_callbacks[-1].text
    assert "bestaat niet" in (await say(bot, cast.erik, cast.erik.private, "/nuttig 99999999999999")).text
    with Session(bot.db.engine) as session:
        assert session.exec(select(ParkUpdate)).all() == []
    assert "Bericht" not in last(server, cast.group).text


async def test_an_update_with_a_photo_sends_the_photo_first(bot, server, cast):
    await become_members(bot, cast, cast.erik)
    await say(bot, cast.admin, cast.admin.private, "/update Zie de foto")
    cast.admin.send_photo(cast.admin.private)
    await bot.settle()
    await press(bot, server, cast.admin, "Verder")
    await press(bot, server, cast.admin, "Beheerder")
    preview = last(server, cast.admin.private)
    assert "foto: ja" in preview.text
    await press(bot, server, cast.admin, "Versturen")
    photo, text = server.messages(cast.group)[-2:]
    assert "photo" in photo and "Foto bij het bericht" in photo.caption
    assert "Zie de foto" in text.text and text.text.endswith("— Beheerder")


async def test_somebody_who_left_the_group_stops_receiving_private_updates(bot, server, cast):
    await become_members(bot, cast, cast.erik, cast.fleur)
    server.remove_member(cast.group, cast.fleur)
    await bot.advance(timedelta(days=1))  # the first check that misses her may be a platform hiccup
    preview = await compose(bot, server, cast.police, "Nog steeds twee", private=True)
    assert "privé aan leden (2)" in preview.text
    await say(bot, cast.police, cast.police.private, "/stop")
    await bot.advance(timedelta(days=1))
    preview = await compose(bot, server, cast.police, "Nu nog één", private=True)
    assert "privé aan leden (1)" in preview.text
    await press(bot, server, cast.police, "Versturen")
    assert "Nu nog één" in last(server, cast.erik.private).text
    assert not any("Nu nog één" in m.text for m in server.messages(cast.fleur.private))


async def test_a_name_with_markup_characters_signs_as_written(bot, server, cast):
    official = server.add_user("Ann & <Co>", language_code="nl")
    await bot.verify(official, "police")
    await say(bot, official, official.private, "/bericht Controle")
    await press(bot, server, official, "Zonder foto")
    sign = await press(bot, server, official, "Verder")
    assert [b["text"] for row in sign.buttons for b in row] == ["Politie (wijkagent)", "Ann & <Co>, Politie (wijkagent)"]
    await press(bot, server, official, "Ann & <Co>")
    await press(bot, server, official, "Versturen")
    assert last(server, cast.group).text.endswith("— Ann & <Co>, Politie (wijkagent)")
