"""Park administration on Matrix: the same admin commands with the ! prefix, and their refusals."""

import re

from sqlmodel import Session, select

from storage.models import AdminChange, Category, Park


async def test_admin_actions_and_refusals_on_matrix(world):
    anna, piet, erik = [await world.person(name) for name in ("anna", "piet", "erik")]
    await world.verify(anna, "admin")

    await world.tell(anna, anna.dm, "!uitnodigen police 2d")
    issued = await anna.expect(anna.dm, "eenmalig te gebruiken")
    code = re.search(r"\b(\w{20})\b", issued.body).group(1)
    await world.open_dm(piet)
    await world.tell(piet, piet.dm, f"!start {code}")
    await piet.expect(piet.dm, "geverifieerd")

    await world.tell(anna, anna.dm, "!instanties")
    listing = await anna.expect(anna.dm, "Geverifieerd bij")
    assert "(matrix)" in listing.body and "politie" in listing.body
    police_number = re.search(r"#(\d+) \S+ — politie", listing.body).group(1)
    admin_number = re.search(r"#(\d+) \S+ — beheerder", listing.body).group(1)

    await world.tell(anna, anna.dm, "!beleid eerste 1h")
    assert "na 1 werkuur" in (await anna.expect(anna.dm, "Beleid gewijzigd")).body
    await world.tell(anna, anna.dm, "!categorieen")
    categories = await anna.expect(anna.dm, "Soorten bij")
    assert "Drugs" in categories.body and "1. #1 Drugs" in categories.body
    # The buttons are numbered choices on Matrix: answering with a number taps one.
    await world.tell(anna, anna.dm, "1")
    menu = await anna.expect(anna.dm, "Wat wil je doen?")
    assert "1. #1 Drugs: uit" in menu.body
    await world.tell(anna, anna.dm, "1")
    await anna.expect(anna.dm, "Soort #1 (Drugs) is bijgewerkt")
    await world.tell(anna, anna.dm, "!uitnodigen politie 1d")
    await anna.expect(anna.dm, "eenmalig te gebruiken")
    await world.tell(anna, anna.dm, "!uitnodigingen")
    invites = await anna.expect(anna.dm, "Openstaande uitnodigingen")
    assert "#3 politie (wijkagent)" in invites.body and "#2" not in invites.body  # the redeemed one is gone
    await world.tell(anna, anna.dm, "1")
    await anna.expect(anna.dm, "Uitnodiging #3 (politie (wijkagent)) is ingetrokken")

    # Refusals: an official is no admin; the last admin cannot leave.
    await world.tell(piet, piet.dm, f"!intrekken #{police_number}")
    await piet.expect(piet.dm, "alleen voor geverifieerde beheerders")
    await world.tell(anna, anna.dm, f"!intrekken #{admin_number}")
    await anna.expect(anna.dm, "laatste beheerder")
    await world.tell(anna, anna.dm, "!logboek")
    audit = await anna.expect(anna.dm, "Logboek")
    assert "Beheerder Anna nodigde een politie (wijkagent) uit" in audit.body
    assert "zette de eerste herinnering van 4 werkuren naar 1 werkuur" in audit.body
    assert "werd geverifieerd als politie (wijkagent) met de uitnodiging van Anna" in audit.body
    with Session(world.db.engine) as session:
        changes = session.exec(select(AdminChange)).all()
        park = session.exec(select(Park).where(Park.slug == "spaanse-polder")).one()
        drugs = session.exec(select(Category).where(Category.park_id == park.id, Category.key == "drugs")).one()
    assert park.first_reminder_after_s == 3600 and not drugs.enabled
    assert [c.action for c in changes] == ["invite", "policy.first", "category.disable", "invite", "invite.cancel"]


async def test_the_board_gets_a_chart_and_a_csv_file_on_matrix(world):
    anna = await world.person("anna")
    await world.verify(anna, "admin")
    await world.tell(anna, anna.dm, "!statistiek")
    await anna.expect(anna.dm, "Grafiek")
    await anna.sync_until(lambda: anna.images.get(anna.dm) and anna.files.get(anna.dm), "the chart and the CSV")
    [chart], [csv] = anna.images[anna.dm], anna.files[anna.dm]
    assert chart["info"]["mimetype"] == "image/png" and "file" in chart  # encrypted, like the room
    assert csv["body"] == "weerbaar-spaanse-polder-2026-11-30.csv" and csv["info"]["mimetype"] == "text/csv"
    assert "file" in csv
