"""A person on Element's own crypto, in strict mode, reports, gets feedback and rates: no warning, no failure.

The person's client is matrix-js-sdk 43 with its Rust crypto, cross-signing bootstrapped as a
new Element login does, and "exclude insecure devices" on (``OnlySignedDevicesIsolationMode``):
it sends room keys only to devices their owner cross-signed and refuses messages from
others. So this passes only if the bot cross-signs its own device.
"""

import secrets

import pytest
from nio import EnableEncryptionBuilder, RoomPreset

from tests.element_person import ElementPerson, require_element_sdk

SHIELD_NONE = 0


@pytest.fixture
async def element_person(world, tmp_path):
    node = require_element_sdk()
    person = await ElementPerson.start(node, tmp_path / "element-person.log")
    try:
        localpart = f"eva_{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(16)
        user_id, _ = await world.synapse.register(localpart, password)
        ready = await person.setup(world.synapse.base_url, user_id, password, world.bot_user_id)
        assert ready["crossSigned"], "the person's own cross-signing is not set up"
        yield person
    finally:
        await person.close()


async def test_a_strict_element_user_reports_gets_feedback_and_rates(world, element_person):
    eva = element_person
    anna, piet = await world.person("anna"), await world.person("piet")
    await world.verify(anna, "admin")
    await world.verify(piet, "police")
    created = await anna.client.room_create(name="Ondernemers SP", preset=RoomPreset.private_chat,
                                            invite=[eva.user_id], initial_state=[EnableEncryptionBuilder().as_dict()])
    room = created.room_id
    await eva.join(room)
    await world.invite_bot(anna, room)
    await world.bot_joins(anna, room)
    await world.tell(anna, room, "!koppel")
    await anna.expect(room, "De Spaanse Polder")
    await world.settle(await eva.say("!hulp", room_id=room))  # the bot sees Eva in the park's group first

    await eva.open_dm()
    await world.settle(await eva.say("melden"))
    categories = await eva.expect("Kies een soort")
    await world.settle(await eva.say("1", reply_to=categories["eventId"]))  # answered as an Element reply
    await eva.expect("Waar")
    for answer, next_question in (("Bij hal 3, achter de loods", "Wanneer"), ("nu", "Wat"),
                                  ("Elke nacht busjes met zware pakketten", "foto"), ("klaar", "Mogen instanties"),
                                  ("anoniem", "dringend"), ("Nee", "Versturen")):
        await world.settle(await eva.say(answer))
        await eva.expect(next_question)
    await world.settle(await eva.say("versturen"))
    await eva.expect("SP-0001")

    delivery = await piet.expect(piet.dm, "SP-0001")
    assert "Elke nacht busjes" in delivery.body and eva.user_id not in delivery.body
    await world.tell(piet, piet.dm, "open")
    await piet.expect(piet.dm, "SP-0001")
    await world.tell(piet, piet.dm, "2")
    await piet.expect(piet.dm, "standaardantwoord")
    await world.tell(piet, piet.dm, "onderzocht")

    await eva.expect("Terugkoppeling op je melding SP-0001")
    await world.settle(await eva.say("Nog niet genoeg"))
    await piet.expect(piet.dm, "nog niet genoeg")
    assert world.bot.reports()[0].rating == "not_enough"

    assert await eva.bot_devices() == [{"deviceId": world.adapter.client.device_id, "signedByOwner": True}]
    messages = await eva.bot_messages()
    in_the_group = await eva.bot_messages(room)
    assert len(messages) >= 10 and any("Spaanse Polder" in (message["body"] or "") for message in in_the_group)
    for message in messages + in_the_group:
        assert message["encrypted"] and not message["failed"], message
        assert message["shieldColour"] == SHIELD_NONE, f"Element shows a shield on the bot's message: {message}"
