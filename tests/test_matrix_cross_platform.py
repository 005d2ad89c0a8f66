"""One park on Telegram and Matrix at once: reports, photos and feedback cross between them."""

import pytest

from tests.matrix_people import MatrixWorld
from tests.telegram_people import file_report, last, press, say
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


async def test_a_telegram_helpers_footage_reaches_a_matrix_official_within_the_fetch_limit(world, server):
    """Across platforms a file is fetched and uploaded: above Telegram's 20 MB fetch limit it is refused
    at once, with the limit said, and the rest of the answer goes on."""
    bot = world.bot
    anna = server.add_user("Anna", username="anna_admin", language_code="nl")
    erik = server.add_user("Erik", username="erik_ondernemer", language_code="nl")
    group = server.add_group("Ondernemers Spaanse Polder", members=[anna, erik], privacy_mode=True)
    await bot.verify(anna, "admin")
    anna.send(group, "/koppel")
    await bot.settle()
    piet = await world.person("piet")
    await world.verify(piet, "police")
    erik.start()
    await bot.settle()
    erik.send(group, "/melden")  # a command in the group: Erik is a member of the park
    await bot.settle()

    await world.tell(piet, piet.dm, "!oproep Wie heeft camerabeelden van de Industrieweg?")
    await piet.expect(piet.dm, "Voorbeeld")
    await world.tell(piet, piet.dm, "1")
    await bot.settle()
    request = next(m for m in reversed(server.messages(group)) if "Oproep SP-O1" in (m.text or ""))
    erik.open_link(next(b for row in request.buttons for b in row if "helpen" in b["text"])["url"])
    await bot.settle()
    erik.send(erik.private, "Beelden van de poort")
    await bot.settle()
    erik.send_video(erik.private, b"v" * (20 * 1024 * 1024 + 1), file_name="hele-nacht.mp4")
    await bot.settle()
    refused = last(server, erik.private)
    assert "te groot" in refused.text and "max. 20 MB" in refused.text
    assert "de rest van je antwoord blijft" in refused.text
    footage = b"\x00\x00\x00\x18ftypmp42" + b"v" * 5000
    erik.send_video(erik.private, footage, file_name="0210-0240.mp4")
    await bot.settle()
    assert "Bestand ontvangen (1)" in last(server, erik.private).text
    for label in ("Klaar", "Anoniem", "Versturen"):
        await press(bot, server, erik, label)
    await world.settle()

    answer = await piet.expect(piet.dm, "Antwoord op oproep SP-O1")
    assert "Bestanden en video's: 1" in answer.body and "Erik" not in answer.body
    await piet.sync_until(lambda: piet.files.get(piet.dm), "the footage")
    [video] = piet.files[piet.dm]
    assert video["msgtype"] == "m.video" and "file" in video  # fetched from Telegram, uploaded encrypted
    assert await matrix_image_bytes(piet, video) == footage


async def test_a_matrix_helpers_files_reach_a_telegram_official_images_cleaned_documents_as_they_are(world, server):
    bot = world.bot
    piet = server.add_user("Piet", username="piet_politie", language_code="nl")
    await bot.verify(piet, "police")
    anna, erik = await world.person("anna"), await world.person("erik")
    await world.verify(anna, "admin")
    room = await world.open_room(anna, [erik])
    await world.invite_bot(anna, room)
    await world.bot_joins(anna, room)
    await world.tell(anna, room, "!koppel")
    await world.open_dm(erik)
    await world.tell(erik, room, "!hulp")  # a command in the linked room: Erik is a member now

    await say(bot, piet, piet.private, "/oproep Wie heeft camerabeelden van de Industrieweg?")
    await press(bot, server, piet, "Plaatsen")
    await erik.expect(room, "Oproep SP-O1")
    await world.tell(erik, erik.dm, "!helpen SP-O1")
    await erik.expect(erik.dm, "Wat kun je vertellen")
    await world.tell(erik, erik.dm, "Twee dingen van mijn camera")
    await erik.expect(erik.dm, "bestanden of video's erbij")
    pdf = b"%PDF-1.4 /Author (Erik de Vries)"
    event, _ = await erik.send_file(erik.dm, pdf, "tijden.pdf", "application/pdf")
    await world.settle(event)
    await erik.expect(erik.dm, "Bestand ontvangen (1)")
    still = jpeg_with_metadata()
    event, _ = await erik.send_file(erik.dm, still, "still.jpg", "image/jpeg")
    await world.settle(event)
    await erik.expect(erik.dm, "Bestand ontvangen (2)")
    for answer, next_text in (("1", "naam zien"), ("1", "Je antwoord op oproep SP-O1"), ("1", "Dank je! Je antwoord")):
        await world.tell(erik, erik.dm, answer)
        await erik.expect(erik.dm, next_text)
    await bot.settle()

    sent = server.messages(piet.private)
    [answer] = [m for m in sent if "Antwoord op oproep SP-O1" in (m.text or "")]
    assert "Bestanden en video's: 2" in answer.text and erik.user_id not in answer.text
    document, image = [m for m in sent if m.get("document")]
    assert document["document"]["file_name"] == "tijden.pdf" and document.caption == "Oproep SP-O1 — bestand 1 van 2"
    assert server.world.files[document["document"]["file_id"]].content == pdf  # a document passes as it is
    cleaned = server.world.files[image["document"]["file_id"]].content
    assert size_of(cleaned) == size_of(still) and not has_metadata(cleaned)  # an image loses its EXIF/GPS
