"""Issue 7's loop defects where Matrix differs: image captions, and names that look like markup."""

from sqlmodel import select

from storage.models import Category, Park
from tests.matrix_people import MatrixWorld
from tests.photos import jpeg_with_metadata
from tests.test_matrix_loop import linked_park


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
    await world.settle(await erik.send_image(erik.dm, jpeg_with_metadata(), caption="Kenteken 12-ABC-3 op de bestelbus"))
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


async def test_a_long_list_is_split_into_notices_that_matrix_takes(world: MatrixWorld):
    anna = await world.person("anna")
    await world.verify(anna, "admin")
    with world.db.transaction() as session:
        park = session.exec(select(Park).where(Park.slug == "spaanse-polder")).one()
        for index in range(90):
            session.add(Category(park_id=park.id, key=f"soort-{index}", name_nl=f"Soort {index:02d} " + "ë" * 50,
                                 name_en=f"Kind {index:02d}", roles=["police"], position=10 + index))
    await world.tell(anna, anna.dm, "!categorieen")
    await anna.expect(anna.dm, "Soort 89")
    parts = [notice.body for notice in anna.all_notices(anna.dm) if "Soort" in notice.body]
    assert len(parts) >= 2 and all(len(part) <= 6000 for part in parts)
    assert all(f"Soort {index:02d}" in "\n".join(parts) for index in range(90))


async def test_matrix_people_read_their_parks_language(world: MatrixWorld):
    """Matrix clients send no language: the park's language is theirs until they choose one."""
    with world.db.transaction() as session:
        session.exec(select(Park).where(Park.slug == "noorderveld")).one().language = "en"
    olaf = await world.person("olaf")
    await world.open_dm(olaf)
    await world.tell(olaf, olaf.dm, f"!start {world.bot.invite('police', 'noorderveld')}")
    await olaf.expect(olaf.dm, "You are verified as")
    await world.tell(olaf, olaf.dm, "!open")
    await olaf.expect(olaf.dm, "no open reports")
    await world.tell(olaf, olaf.dm, "!taal nl")
    await world.tell(olaf, olaf.dm, "!open")
    await olaf.expect(olaf.dm, "geen open meldingen")
