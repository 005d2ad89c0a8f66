"""A representative part of the authorization matrix on Matrix: real Synapse, real E2EE clients.

The full matrix runs on the platform-neutral handlers (``test_authorization_matrix.py``); this
proves the same answers arrive through the Matrix adapter, with its ``!`` commands and words.
"""

import json

from sqlmodel import Session, select

from storage.models import AdminChange, Report
from tests.photos import matrix_image_bytes

NOT_YOURS = "bestaat niet of is niet aan jou gericht"
NOT_ADMIN = "alleen voor geverifieerde beheerders"


async def test_who_may_do_what_on_matrix(world):
    anna, piet, bram, ruud, erik, otto = [await world.person(name)
                                          for name in ("anna", "piet", "bram", "ruud", "erik", "otto")]
    await world.verify(anna, "admin")
    await world.verify(piet, "police")
    await world.verify(bram, "fire_brigade")
    await world.verify(ruud, "police", park="noorderveld")
    room = await world.open_room(anna, [erik])
    await world.invite_bot(anna, room)
    await world.bot_joins(anna, room)
    await world.tell(anna, room, "!koppel")
    await world.tell(erik, room, "!melden")
    await erik.sync_until(lambda: erik.dm in erik.client.rooms, "the bot's direct chat")
    await erik.expect(None, "Kies een soort")
    for answer in ("drugs", "Loods 7", "nu", "Busjes bij loods 7", "klaar", "anoniem", "nee", "versturen"):
        await world.tell(erik, None, answer)
    await erik.expect(None, "SP-0001")
    await world.open_dm(otto)

    refused = [(otto, "!oppakken SP-0001", NOT_YOURS), (bram, "!oppakken SP-0001", NOT_YOURS),
               (ruud, "!feedback SP-0001 Gezien", NOT_YOURS), (erik, "!sluit SP-0001 Klaar", NOT_YOURS),
               (piet, "!logboek melding SP-0001", NOT_ADMIN), (erik, "!vergeet SP-0001", NOT_ADMIN),
               (bram, "!beleid bewaren 1d", NOT_ADMIN), (otto, "!open", "voor geverifieerde instanties"),
               (otto, "!melden", "alleen als je lid bent")]
    for person, command, answer in refused:
        await world.tell(person, person.dm, command)
        await person.expect(person.dm, answer)
    [report] = world.bot.reports()
    assert (report.status, report.lead_person_id, report.first_feedback_at) == ("open", None, None)

    await world.tell(piet, piet.dm, "!oppakken SP-0001")
    await piet.expect(piet.dm, "trekker van SP-0001")
    await world.tell(anna, anna.dm, "!logboek melding SP-0001")
    log = await anna.expect(anna.dm, "Logboek SP-0001")
    assert "Piet: opgepakt" in log.body and "de melder: verstuurd" in log.body and "Erik" not in log.body
    await world.tell(erik, erik.dm, "!mijngegevens")
    await erik.expect(erik.dm, "Busjes bij loods 7")
    await erik.sync_until(lambda: erik.files.get(erik.dm), "the data as a file")
    [file] = erik.files[erik.dm]
    assert file["body"] == "weerbaar-mijngegevens-2026-11-30.json" and file["info"]["mimetype"] == "application/json"
    data = json.loads(await matrix_image_bytes(erik, file))  # encrypted like the chat; decrypted here
    assert data["reports"][0]["what"] == "Busjes bij loods 7" and data["account"]["platform"] == "matrix"
    await world.tell(anna, anna.dm, "!beleid bewaren 2j")
    await anna.expect(anna.dm, "Bewaartermijn gewijzigd: 2 jaar")
    with Session(world.db.engine) as session:
        assert [change.action for change in session.exec(select(AdminChange))] == ["policy.retention"]
        assert session.exec(select(Report)).one().lead_person_id is not None

    # The admin erases the reporter on request (audited); the reporter and the police are told.
    await world.tell(anna, anna.dm, "!vergeet SP-0001")
    asked = await anna.expect(anna.dm, "de melder van SP-0001")
    assert erik.user_id not in asked.body
    await world.tell(anna, anna.dm, "1")
    await anna.expect(anna.dm, "Vastgelegd in het logboek")
    await erik.expect(erik.dm, "Op jouw verzoek heeft een beheerder")
    await piet.expect(piet.dm, "niet meer bereikbaar")
    with Session(world.db.engine) as session:
        assert [change.action for change in session.exec(select(AdminChange))] == ["policy.retention",
                                                                                   "privacy.forget"]
        assert session.exec(select(Report)).one().anonymous
