"""Park updates, requests, the scan and the digest on Matrix (issue 12): commands in the room, numbered
choices in direct chats."""

from datetime import timedelta

from sqlmodel import Session, select

from storage.models import ParkRequest, ParkScan, RequestReply, ScanAnswer, UpdateUseful
from tests.photos import matrix_image_bytes
from tests.test_matrix_loop import linked_park


async def test_an_update_and_a_request_on_matrix(world):
    anna, erik, piet, gwen, room = await linked_park(world)
    await world.open_dm(erik)
    await world.tell(erik, room, "!hulp")  # a command in the linked room: Erik is a member now

    await world.tell(piet, piet.dm, "!hulp")  # the park-level commands are in the help, with Matrix's "!"
    help_text = await piet.expect(piet.dm, "!bericht [tekst]")
    assert "!oproep [tekst]" in help_text.body and "/bericht" not in help_text.body
    await world.tell(piet, piet.dm, "!bericht Controle gehouden op de Industrieweg")
    await piet.expect(piet.dm, "Zonder foto")
    await world.tell(piet, piet.dm, "1")
    await piet.expect(piet.dm, "Wie krijgt het bericht")
    await world.tell(piet, piet.dm, "2")  # privately to the members too
    audience = await piet.expect(piet.dm, "☑ privé aan leden (1)")
    assert "3. Verder" in audience.body
    await world.tell(piet, piet.dm, "3")
    await piet.expect(piet.dm, "Hoe onderteken je")
    await world.tell(piet, piet.dm, "1")
    await piet.expect(piet.dm, "Voorbeeld")
    await world.tell(piet, piet.dm, "Versturen")
    await piet.expect(piet.dm, "Verstuurd: in 1 groep(en) en privé aan 1 leden")

    in_room = await erik.expect(room, "Bericht voor De Spaanse Polder")
    assert "— Politie (wijkagent)" in in_room.body and "!nuttig 1" in in_room.body and "<ol>" not in in_room.html
    private = await erik.expect(erik.dm, "Controle gehouden")
    assert "1. 👍 Nuttig" in private.body
    await world.tell(erik, erik.dm, "1")
    await erik.expect(erik.dm, "Doorgegeven")
    await world.tell(erik, room, "!nuttig 1")
    await erik.expect(room, "Je vond dit bericht al nuttig")

    await world.tell(piet, piet.dm, "!oproep Wie zag dinsdagnacht een wit busje?")
    await piet.expect(piet.dm, "Voorbeeld")
    await world.tell(piet, piet.dm, "1")
    request = await erik.expect(room, "Oproep SP-O1")
    assert "!helpen SP-O1" in request.body and "<ol>" not in request.html

    await world.tell(erik, erik.dm, "!helpen SP-O1")
    await erik.expect(erik.dm, "Wat kun je vertellen")
    await world.tell(erik, erik.dm, "Het busje stond bij hal 4")
    await erik.expect(erik.dm, "bestanden of video's erbij")
    footage = b"\x00\x00\x00\x18ftypmp42" + b"v" * 3000
    event, video = await erik.send_file(erik.dm, footage, "hal4.mp4", "video/mp4", msgtype="m.video")
    await world.settle(event)
    await erik.expect(erik.dm, "Bestand ontvangen (1)")
    event, _ = await erik.send_file(erik.dm, b"%PDF-1.4 tijden", "tijden.pdf", "application/pdf")
    await world.settle(event)
    await erik.expect(erik.dm, "Bestand ontvangen (2)")
    await world.tell(erik, erik.dm, "1")
    await erik.expect(erik.dm, "naam zien")
    await world.tell(erik, erik.dm, "1")
    await erik.expect(erik.dm, "Je antwoord op oproep SP-O1")
    await world.tell(erik, erik.dm, "1")
    await erik.expect(erik.dm, "Dank je! Je antwoord")

    answer = await piet.expect(piet.dm, "Antwoord op oproep SP-O1")
    assert "hal 4" in answer.body and "Erik" not in answer.body and "2. Oproep sluiten" in answer.body
    assert "Bestanden en video's: 2" in answer.body
    await piet.expect(piet.dm, "bestand 2 van 2")
    await piet.sync_until(lambda: len(piet.files.get(piet.dm, [])) == 2, "the footage and the PDF")
    passed_video, passed_pdf = piet.files[piet.dm]
    # The same platform: the file event is sent again by reference (the same encrypted upload, no copy).
    assert passed_video["msgtype"] == "m.video" and passed_video["file"]["url"] == video["file"]["url"]
    assert await matrix_image_bytes(piet, passed_video) == footage
    assert passed_pdf["msgtype"] == "m.file" and passed_pdf["body"] == "tijden.pdf"
    assert await matrix_image_bytes(piet, passed_pdf) == b"%PDF-1.4 tijden"
    await world.tell(piet, piet.dm, "2")
    await piet.expect(piet.dm, "Iedereen die hielp")
    await world.tell(piet, piet.dm, "1")
    await piet.expect(piet.dm, "1 helper(s)")
    await erik.expect(erik.dm, "Oproep SP-O1 is gesloten")
    assert not any("hal 4" in notice.body or "Erik" in notice.body for notice in erik.all_notices(room))
    with Session(world.db.engine) as session:
        assert session.exec(select(ParkRequest)).one().status == "closed"
        assert len(session.exec(select(RequestReply)).all()) == 1
        assert len(session.exec(select(UpdateUseful)).all()) == 1


async def test_a_scan_in_a_direct_chat_and_the_digest_in_the_room_on_matrix(world):
    anna, erik, piet, gwen, room = await linked_park(world)
    await world.bot.advance(timedelta(0))  # the bot first sees the park in November
    await world.open_dm(erik)
    await world.tell(erik, room, "!hulp")
    await world.tell(piet, piet.dm, "!oproep Wie zag dinsdagnacht een wit busje?")
    await piet.expect(piet.dm, "Voorbeeld")
    await world.tell(piet, piet.dm, "1")
    await erik.expect(room, "Oproep SP-O1")

    await world.tell(anna, anna.dm, "!scan start 1d")
    await anna.expect(anna.dm, "verstuurd aan 1 leden")
    question = await erik.expect(erik.dm, "Vraag 1 van 7")
    assert "1. 1" in question.body and "6. Niet meedoen" in question.body
    await world.tell(erik, erik.dm, "4")
    await erik.expect(erik.dm, "Vraag 2 van 7")
    await world.tell(erik, erik.dm, "niet meedoen")
    await erik.expect(erik.dm, "niet mee aan deze scan")

    await world.bot.advance(timedelta(days=1))  # Tuesday 1 December 09:00: the scan closes, the digest is due
    await anna.expect(anna.dm, "gesloten: 0 deelnemers")
    digest = await erik.expect(room, "Maandoverzicht De Spaanse Polder — november 2026")
    assert "Oproepen van instanties beantwoord: 0 van 1" in digest.body and "Signalen ontvangen: 0" in digest.body
    await erik.expect(room, "november 2026 in een grafiek")  # the chart follows, as an image in the room
    await erik.sync_until(lambda: erik.images.get(room), "the digest's chart")
    [chart] = erik.images[room]
    assert chart["info"]["mimetype"] == "image/png"
    with Session(world.db.engine) as session:
        assert session.exec(select(ScanAnswer)).all() == []
        scan = session.exec(select(ParkScan)).one()
        # Five people answered (answers carry no identity: a random respondent id each).
        for respondent, safe in zip("abcde", "44435"):
            session.add(ScanAnswer(scan_id=scan.id, respondent=respondent, question="safe", value=safe))
            session.add(ScanAnswer(scan_id=scan.id, respondent=respondent, question="feedback", value="yes"))
        session.commit()

    # The results on Matrix: text, then the chart as an image and the CSV as a file, in the admin's direct chat.
    await world.tell(anna, anna.dm, "!scan resultaten")
    results = await anna.expect(anna.dm, "Scan De Spaanse Polder")
    assert "5 deelnemers" in results.body and "Gemiddeld 4 (van 5)" in results.body
    await anna.sync_until(lambda: anna.images.get(anna.dm) and anna.files.get(anna.dm), "the chart and the CSV")
    [image], [document] = anna.images[anna.dm], anna.files[anna.dm]
    assert image["info"]["mimetype"] == "image/png" and "file" in image  # encrypted, like the direct chat
    assert document["body"].startswith("weerbaar-scan-spaanse-polder-") and document["info"]["mimetype"] == "text/csv"
