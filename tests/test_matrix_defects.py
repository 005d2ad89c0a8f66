"""Issue 7's loop defects where Matrix differs: image captions, and names that look like markup."""

from tests.matrix_people import MatrixWorld
from tests.test_matrix_loop import PHOTO, linked_park


async def test_a_matrix_caption_is_kept_and_a_hostile_name_stays_text(world: MatrixWorld):
    anna, erik, piet, gwen, room = await linked_park(world)
    await erik.client.set_displayname('Bakker & Zn <a href="https://evil.example/">Politie</a>')
    await world.tell(erik, room, "!melden")
    await erik.expect(erik.dm if erik.dm else None, "Kies een soort")
    await world.tell(erik, None, "1")
    await erik.expect(None, "Waar")
    await world.tell(erik, None, "Loods 7")
    await erik.expect(None, "Wanneer")
    await world.tell(erik, None, "nu")
    await erik.expect(None, "Wat")
    await world.tell(erik, None, "Busje laadt 's nachts")
    await erik.expect(None, "foto")
    await world.settle(await erik.send_image(erik.dm, PHOTO, caption="Kenteken 12-ABC-3 op de bestelbus"))
    await erik.expect(None, "met onderschrift")
    await world.tell(erik, None, "klaar")
    await erik.expect(None, "Mogen instanties")
    await world.tell(erik, None, "naam")
    await erik.expect(None, "dringend")
    await world.tell(erik, None, "Nee")
    summary = await erik.expect(None, "Versturen")
    assert "foto 1: Kenteken 12-ABC-3 op de bestelbus" in summary.body
    await world.tell(erik, None, "versturen")
    await erik.expect(None, "SP-0001")

    delivery = await piet.expect(piet.dm, "SP-0001")
    assert "foto 1: Kenteken 12-ABC-3" in delivery.body
    assert 'Bakker & Zn <a href="https://evil.example/">Politie</a>' in delivery.body
    assert '<a href="https://evil' not in delivery.html
    await piet.expect(piet.dm, "SP-0001 · foto 1/1: Kenteken 12-ABC-3 op de bestelbus")
