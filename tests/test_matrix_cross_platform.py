"""One park on Telegram and Matrix at once: reports, photos and feedback cross between them."""

import pytest

from tests.matrix_people import MatrixWorld
from tests.telegram_people import file_report, last, press
from tests.photos import has_metadata, jpeg_with_metadata, matrix_image_bytes, size_of

REPORT_TEXT = "Elke nacht busjes met zware pakketten"


@pytest.fixture
async def world(synapse, server, sqlite_database, clock, tmp_path):
    world = MatrixWorld(synapse, tmp_path, sqlite_database, clock, telegram_server=server)
    await world.start_bot()
    yield world
    await world.close()


async def test_telegram_report_reaches_a_matrix_official_once_per_platform(world, server):
    bot = world.bot
    anna = server.add_user("Anna", username="anna_admin", language_code="nl")
    erik = server.add_user("Erik", username="erik_ondernemer", language_code="nl")
    piet_tg = server.add_user("Piet", username="piet_politie", language_code="nl")
    group = server.add_group("Ondernemers Spaanse Polder", members=[anna, erik], privacy_mode=True)
    await bot.verify(anna, "admin")
    await bot.verify(piet_tg, "police")
    anna.send(group, "/koppel")
    await bot.settle()
    piet = await world.person("piet")          # the same officer, also on Matrix
    await world.verify(piet, "police")

    await file_report(bot, server, erik, group, what=REPORT_TEXT, photos=1)
    await world.settle()
    assert "SP-0001" in last(server, erik.private).text

    # Each platform gets the report exactly once.
    on_telegram = [m for m in server.messages(piet_tg.private) if REPORT_TEXT in (m.text or "")]
    assert len(on_telegram) == 1
    delivery = await piet.expect(piet.dm, "SP-0001")
    assert REPORT_TEXT in delivery.body
    await piet.sync_until(lambda: piet.images.get(piet.dm), "the photo")
    [image] = piet.images[piet.dm]
    assert "file" in image                      # re-uploaded, encrypted for the encrypted DM
    assert b"user photo from" in await matrix_image_bytes(piet, image)
    await piet.sync()
    assert sum(REPORT_TEXT in n.body for n in piet.all_notices(piet.dm)) == 1

    # The Matrix officer claims and gives feedback; the Telegram reporter hears back.
    await world.tell(piet, piet.dm, "oppakken")
    await piet.expect(piet.dm, "trekker van SP-0001")
    await world.tell(piet, piet.dm, "!feedback SP-0001 We zijn er vannacht langs geweest.")
    await bot.settle()
    feedback = last(server, erik.private)
    assert "vannacht langs geweest" in feedback.text and "SP-0001" in feedback.text
    assert "Piet" in last(server, piet_tg.private).text      # the Telegram side is told of the claim


async def test_matrix_report_with_encrypted_photo_reaches_a_telegram_official(world, server):
    bot = world.bot
    piet = server.add_user("Piet", username="piet_politie", language_code="nl")
    await bot.verify(piet, "police")
    anna, erik = await world.person("anna"), await world.person("erik")
    await world.verify(anna, "admin")
    room = await world.open_room(anna, [erik])
    await world.invite_bot(anna, room)
    await world.bot_joins(anna, room)
    await world.tell(anna, room, "!koppel")
    await world.tell(erik, room, "!melden")
    await erik.sync_until(lambda: erik.dm in erik.client.rooms, "the bot's direct chat")
    await erik.expect(None, "Kies een soort")
    for answer in ("drugs", "Loods 7", "nu", REPORT_TEXT):
        await world.tell(erik, None, answer)
        await erik.expect(None, "")
    photo_with_gps = jpeg_with_metadata()
    await world.settle(await erik.send_image(erik.dm, photo_with_gps, encrypted=True))
    for answer in ("klaar", "anoniem", "nee", "versturen"):
        await erik.expect(None, "")
        await world.tell(erik, None, answer)
    await erik.expect(None, "SP-0001")
    await bot.settle()

    messages = server.messages(piet.private)
    [delivery] = [m for m in messages if REPORT_TEXT in (m.text or "")]
    [photo] = [m for m in messages if m.get("photo")]
    stored = server.world.files[photo["photo"][-1]["file_id"]]
    # Decrypted from Matrix, cleaned of its EXIF/GPS/device, uploaded to Telegram.
    assert size_of(stored.content) == size_of(photo_with_gps) and not has_metadata(stored.content)
    assert erik.user_id not in delivery.text

    await press(bot, server, piet, "Terugkoppelen", message=delivery)
    await press(bot, server, piet, "onderzocht")
    await world.settle()
    feedback = await erik.expect(None, "Terugkoppeling op je melding SP-0001")
    assert "onderzocht" in feedback.body
