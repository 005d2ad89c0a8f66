"""The whole reciprocity loop on Matrix: a real Synapse, real E2EE nio clients, the real bot."""

from datetime import timedelta

from sqlmodel import Session, select

from storage.models import GroupChat, Person, ReportEvent
from tests.matrix_people import MatrixWorld
from tests.photos import has_metadata, jpeg_with_metadata, matrix_image_bytes, size_of


async def linked_park(world: MatrixWorld):
    """Anna (admin) links an encrypted room with Erik in it; Piet is police, Gwen municipality."""
    anna, erik, piet, gwen = [await world.person(name) for name in ("anna", "erik", "piet", "gwen")]
    await world.verify(anna, "admin")
    await world.open_dm(piet)
    await world.tell(piet, piet.dm, world.bot.invite("police"))  # the plain code works too
    await piet.expect(piet.dm, "geverifieerd")
    await world.verify(gwen, "municipality")
    room = await world.open_room(anna, [erik])
    await world.invite_bot(anna, room)
    await world.bot_joins(anna, room)
    await world.tell(anna, room, "!koppel")
    await anna.expect(room, "De Spaanse Polder")
    return anna, erik, piet, gwen, room


async def test_only_admins_get_the_bot_into_a_room(world):
    anna, sjaak = await world.person("anna"), await world.person("sjaak")
    await world.verify(anna, "admin")
    stray = await world.open_room(sjaak, [])
    await world.invite_bot(sjaak, stray)
    reason = await sjaak.expect(stray, "geverifieerde beheerder")           # one line why, then it leaves
    assert "privégesprek" in reason.body and "!start" in reason.body
    await sjaak.sync_until(lambda: world.bot_user_id not in sjaak.client.rooms[stray].users, "the bot leaving")
    assert await world.bot_membership(sjaak, stray) == "leave"

    room = await world.open_room(anna, [sjaak])
    await world.invite_bot(anna, room)
    await world.bot_joins(anna, room)
    await world.tell(sjaak, room, "!koppel")
    await sjaak.expect(room, "Alleen een geverifieerde beheerder")
    await world.tell(sjaak, room, "gewoon gepraat, geen commando")
    await world.tell(anna, room, "!koppel")
    await anna.expect(room, "De Spaanse Polder")
    assert [n.body for n in sjaak.unread(room) if "gepraat" in n.body] == []
    with Session(world.db.engine) as session:
        [group] = session.exec(select(GroupChat)).all()
    assert (group.platform, group.chat_id) == ("matrix", room)


async def test_full_loop_through_encrypted_direct_chats_with_a_restart(world):
    anna, erik, piet, gwen, room = await linked_park(world)

    # !melden in the room: the room only learns that a private message was sent (with a pill).
    await world.tell(erik, room, "!melden")
    told = await erik.expect(room, "privébericht")
    assert f'href="https://matrix.to/#/{erik.user_id}"' in told.html
    assert told.content["m.mentions"] == {"user_ids": [erik.user_id]}
    await erik.sync_until(lambda: erik.dm in erik.client.rooms, "the bot's direct chat")
    dm = erik.client.rooms[erik.dm]
    assert dm.encrypted and set(dm.users) == {erik.user_id, world.bot_user_id}

    question = await erik.expect(erik.dm, "Kies een soort")
    assert "1. Drugs" in question.body and "<ol>" in question.html
    await world.tell(erik, None, "1")                                   # category by number
    await erik.expect(None, "Waar")
    await world.settle(await erik.send_location(erik.dm, 51.9, 4.41))   # where: a shared location
    await erik.expect(None, "Wanneer")
    await world.tell(erik, None, "NU")                                  # when by word, any case
    await erik.expect(None, "Wat")
    await world.tell(erik, None, "Elke nacht busjes met zware pakketten")
    await erik.expect(None, "foto")
    photo_with_gps = jpeg_with_metadata()
    await world.settle(await erik.send_image(erik.dm, photo_with_gps, encrypted=True))
    await erik.expect(None, "1")
    await world.tell(erik, None, "klaar")
    await erik.expect(None, "Mogen instanties")
    await world.tell(erik, None, "anoniem")
    await erik.expect(None, "dringend")
    await world.tell(erik, None, "Nee")
    summary = await erik.expect(None, "Versturen")
    assert "Elke nacht busjes" in summary.body
    await world.tell(erik, None, "versturen")
    await erik.expect(None, "SP-0001")

    # Delivered privately, in a direct chat the bot opened for Piet earlier (he wrote first).
    delivery = await piet.expect(piet.dm, "SP-0001")
    assert "Elke nacht busjes" in delivery.body and erik.user_id not in delivery.body
    await piet.sync_until(lambda: piet.images.get(piet.dm) and piet.locations.get(piet.dm), "photo and location")
    [image] = piet.images[piet.dm]
    assert image["file"]["url"].startswith("mxc://")        # uploaded again, still encrypted
    forwarded = await matrix_image_bytes(piet, image)        # rebuilt from its pixels: no EXIF, GPS or device
    assert size_of(forwarded) == size_of(photo_with_gps) and not has_metadata(forwarded)
    assert piet.locations[piet.dm][0]["geo_uri"].startswith("geo:51.9")
    await gwen.expect(gwen.dm, "SP-0001")

    # The bot restarts; encrypted traffic keeps working both ways, and the choices survive.
    await world.bot.restart()
    await world.tell(piet, piet.dm, "oppakken")
    await piet.expect(piet.dm, "trekker van SP-0001")
    await gwen.expect(gwen.dm, "SP-0001")

    await world.tell(piet, piet.dm, "!vraag SP-0001 Welk kenteken hadden de busjes?")
    ask = await erik.expect(None, "Welk kenteken")
    await world.tell(erik, None, "1")                                   # "Antwoorden"
    await erik.expect(None, "")
    await world.tell(erik, None, "Iets met 12-ABC")
    await piet.expect(piet.dm, "12-ABC")

    await world.tell(piet, piet.dm, "open")                              # a bare command in a DM
    listing = await piet.expect(piet.dm, "SP-0001")
    assert "2. SP-0001: 💬 Terugkoppelen" in listing.body
    await world.tell(piet, piet.dm, "2")
    await piet.expect(piet.dm, "standaardantwoord")
    await world.tell(piet, piet.dm, "onderzocht")
    feedback = await erik.expect(None, "Terugkoppeling op je melding SP-0001")
    await world.tell(erik, None, "Nog niet genoeg")
    await piet.expect(piet.dm, "nog niet genoeg")

    await world.tell(piet, piet.dm, "!sluit SP-0001 Er is een controle geweest, dank!")
    closing = await erik.expect(None, "afgesloten")
    assert "controle geweest" in closing.body
    report = world.bot.reports()[0]
    assert report.status == "closed" and report.rating == "not_enough" and ask and feedback
    with Session(world.db.engine) as session:
        kinds = [e.kind for e in session.exec(select(ReportEvent).order_by(ReportEvent.id))]
        person = session.exec(select(Person).where(Person.external_id == erik.user_id)).one()
    assert kinds == ["sent", "claim", "question", "answer", "feedback", "rating", "close"]
    assert person.private_chat_id == erik.dm
    for notice in anna.all_notices(room) + erik.all_notices(room):
        assert "busjes" not in notice.body and "SP-0001" not in notice.body


async def test_reminders_escalate_to_the_admin(world):
    anna, erik, piet, gwen, room = await linked_park(world)
    await world.tell(erik, room, "!melden")
    await erik.sync_until(lambda: erik.dm in erik.client.rooms, "the bot's direct chat")
    for answer in ("Drugs", "Loods 7", "1", "Busjes 's nachts", "klaar", "1", "nee", "1"):
        await erik.expect(None, "")
        await world.tell(erik, None, answer)
    await erik.expect(None, "SP-0001")
    await piet.expect(piet.dm, "SP-0001")

    await world.bot.advance(timedelta(hours=4, minutes=1))
    await piet.expect(piet.dm, "herinnering")
    await world.bot.advance(timedelta(hours=2, minutes=1))
    await piet.expect(piet.dm, "herinnering")
    escalation = await anna.expect(anna.dm, "SP-0001")
    assert world.bot.reports()[0].escalated_at is not None and escalation


async def test_old_events_are_not_answered_again_after_a_restart(world):
    erik = await world.person("erik")
    await world.open_dm(erik)
    await world.tell(erik, erik.dm, "!help")
    await erik.expect(erik.dm, "")
    await world.bot.stop()
    written_while_away = await erik.say(erik.dm, "!mijnmeldingen")
    await world.bot.start()
    await world.settle(written_while_away)
    await erik.expect(erik.dm, "")
    await erik.sync()
    await erik.sync()
    assert len(erik.all_notices(erik.dm)) == 2  # one answer each, nothing replayed


async def test_history_from_before_the_first_start_is_not_answered(synapse, sqlite_database, clock, tmp_path):
    world = MatrixWorld(synapse, tmp_path, sqlite_database, clock)
    try:
        await world.register_bot()
        erik = await world.person("erik")
        created = await erik.client.room_create(is_direct=True, invite=[world.bot_user_id])
        erik.dm = created.room_id
        await erik.sync_until(lambda: erik.dm in erik.client.rooms, "the new room")
        await erik.say(erik.dm, "!help")                        # nobody is listening yet
        await world.start_bot()
        await world.bot_joins(erik, erik.dm)
        await world.tell(erik, erik.dm, "!mijnmeldingen")
        await erik.expect(erik.dm, "")
        await erik.sync()
        assert len(erik.all_notices(erik.dm)) == 1
    finally:
        await world.close()


async def test_a_direct_chat_someone_else_joined_is_no_longer_private(world):
    piet, mallory = await world.person("piet"), await world.person("mallory")
    await world.verify(piet, "police")
    shared = piet.dm
    invited = await piet.client.room_invite(shared, mallory.user_id)
    assert type(invited).__name__ == "RoomInviteResponse", invited
    await mallory.sync_until(lambda: shared in mallory.client.invited_rooms, "the invite")
    await mallory.client.join(shared)
    await piet.sync_until(lambda: mallory.user_id in piet.client.rooms[shared].users, "mallory joining")

    await world.tell(piet, shared, "!open")
    await piet.sync_until(lambda: piet.dm != shared, "a new direct chat from the bot")
    answer = await piet.expect(piet.dm, "open meldingen")
    assert answer.room_id != shared
    await mallory.sync()
    assert not [n for n in mallory.all_notices(shared) if "open meldingen" in n.body.lower()]
