"""Regression tests for the administration defects of issue 7, through the real bot."""

from sqlmodel import Session, select

from storage.models import AdminChange, Category, OutboxMessage, Park, Person, Report, ReportRecipient, Role
from tests.telegram_people import file_report, last, open_report_from_group, press, say

TELEGRAM_LIMIT = 4096


def role_id(bot, user) -> int:
    """The number admins type for this person: their role id (for the cast also their place in the park)."""
    with Session(bot.db.engine) as session:
        person = session.exec(select(Person).where(Person.external_id == str(user.id))).one()
        return session.exec(select(Role).where(Role.person_id == person.id, Role.revoked_at == None)).first().id  # noqa: E711


def category_id(bot, key: str) -> int:
    with Session(bot.db.engine) as session:
        return session.exec(select(Category).where(Category.key == key)).first().id


def texts_since(server, chat, before: int) -> list[str]:
    return [message.text for message in server.messages(chat)[before:]]


def assert_nothing_failed(bot) -> None:
    with Session(bot.db.engine) as session:
        assert [row.error for row in session.exec(select(OutboxMessage).where(OutboxMessage.status != "sent"))] == []


async def test_a_backup_must_hold_the_absent_officials_role(bot, server, cast):
    police, municipality = role_id(bot, cast.police), role_id(bot, cast.municipality)
    reply = await say(bot, cast.admin, cast.admin.private, f"/afwezig #{police} #{municipality}")
    assert "Gwen kan niet invallen voor Piet" in reply.text and "rol politie (wijkagent)" in reply.text
    with Session(bot.db.engine) as session:
        assert session.get(Role, police).away_since is None
        assert session.exec(select(AdminChange)).all() == []
    # So a police-only report never lands with someone who cannot act on it.
    await file_report(bot, server, cast.erik, cast.group)
    delivered = next(m for m in reversed(server.messages(cast.police.private)) if m.buttons)
    await press(bot, server, cast.police, "Oppakken", message=delivered)
    assert "trekker van SP-0001" in last(server, cast.police.private).text


async def test_long_signal_cards_are_split_over_several_messages(bot, server, cast):
    cards = {key: f"{key.upper()}-begin " + "let op & meld het; " * 75 + f"{key.upper()}-eind"
             for key in ("drugs", "vastgoed", "brand")}
    for key, card in cards.items():
        assert len(card) <= 1500
        await say(bot, cast.admin, cast.admin.private, f"/categorie signalen #{category_id(bot, key)} {card}")
    await say(bot, cast.erik, cast.group, "/help")  # seen in the park's group, so his park is known
    before = len(server.messages(cast.erik.private))
    await say(bot, cast.erik, cast.erik.private, "/signalen")
    shown = texts_since(server, cast.erik.private, before)
    assert len(shown) >= 2 and all(len(text) <= TELEGRAM_LIMIT for text in shown)
    for key, card in cards.items():
        assert card in "\n".join(shown)

    # The same cards from the button in the report, followed by the category question again.
    await open_report_from_group(bot, server, cast.erik, cast.group)
    before = len(server.messages(cast.erik.private))
    await press(bot, server, cast.erik, "Waar let je op")
    shown = texts_since(server, cast.erik.private, before)
    assert all(card in "\n".join(shown) for card in cards.values())
    assert "Drugs" in str(server.messages(cast.erik.private)[-1].buttons)
    assert_nothing_failed(bot)


async def test_long_admin_lists_are_split_never_dropped(bot, server, cast):
    with bot.db.transaction() as session:
        park = session.exec(select(Park).where(Park.slug == "spaanse-polder")).one()
        for index in range(70):
            session.add(Category(park_id=park.id, key=f"soort-{index}", name_nl=f"Soort {index:02d} " + "n" * 50,
                                 name_en=f"Kind {index:02d}", roles=["police"], position=10 + index))
        for index in range(60):
            person = Person(platform="telegram", external_id=str(9_000_000 + index),
                            display_name=f"Official {index:02d} " + "o" * 48, created_at=bot.clock.now())
            session.add(person)
            session.flush()
            session.add(Role(person_id=person.id, park_id=park.id, role="police", verified_at=bot.clock.now()))
    for command, expected in (("/categorieen", [f"Soort {i:02d}" for i in range(70)]),
                              ("/instanties", [f"Official {i:02d}" for i in range(60)])):
        before = len(server.messages(cast.admin.private))
        await say(bot, cast.admin, cast.admin.private, command)
        shown = texts_since(server, cast.admin.private, before)
        assert len(shown) >= 2 and all(len(text) <= TELEGRAM_LIMIT for text in shown), command
        assert all(name in "\n".join(shown) for name in expected), command

    drugs = category_id(bot, "drugs")
    for index in range(25):
        await say(bot, cast.admin, cast.admin.private, f"/categorie hernoemen #{drugs} Drugs {index:02d} " + "d" * 45)
    before = len(server.messages(cast.admin.private))
    await say(bot, cast.admin, cast.admin.private, "/logboek")
    shown = texts_since(server, cast.admin.private, before)
    assert shown and all(len(text) <= TELEGRAM_LIMIT for text in shown)
    assert "Drugs 24 " in "\n".join(shown)
    assert_nothing_failed(bot)


async def test_a_message_the_platform_refuses_is_reported_not_dropped(bot, server, cast):
    server.fail_next("sendMessage", status=400, chat_id=cast.admin.private,
                     description="Bad Request: message is too long")
    await say(bot, cast.admin, cast.admin.private, "/instanties")
    assert "kon hier niet worden getoond" in last(server, cast.admin.private).text


async def test_policy_read_back_says_what_is_stored_for_seconds(bot, server, cast):
    reply = await say(bot, cast.admin, cast.admin.private, "/beleid spoed-herhaal 90s")
    assert "daarna elke 1 minuut 30 seconden" in reply.text
    reply = await say(bot, cast.admin, cast.admin.private, "/beleid spoed-herhaal 30s")
    assert "daarna elke 30 seconden" in reply.text and "elke direct" not in reply.text
    with Session(bot.db.engine) as session:
        assert session.exec(select(Park).where(Park.slug == "spaanse-polder")).one().urgent_repeat_every_s == 30


async def test_the_no_official_alert_shows_role_labels_and_says_it_follows_a_revocation(bot, server, cast):
    await file_report(bot, server, cast.fleur, cast.group, category="Real estate", what="Cash deal")
    await say(bot, cast.admin, cast.admin.private, f"/intrekken #{role_id(bot, cast.municipality)}")
    alert = next(m.text for m in reversed(server.messages(cast.admin.private)) if "SP-0001" in m.text)
    assert "intrekken van Gwen" in alert and "gemeente" in alert
    assert "municipality" not in alert and "binnengekomen" not in alert

    await file_report(bot, server, cast.fleur, cast.group, category="Real estate", what="Another cash deal")
    alert = last(server, cast.admin.private).text
    assert "SP-0002 is binnengekomen" in alert and "gemeente" in alert and "municipality" not in alert


async def test_an_english_admin_sees_the_english_category_name(bot, server, cast):
    await say(bot, cast.admin, cast.admin.private, "/taal en")
    reply = await say(bot, cast.admin, cast.admin.private, "/category add Afvaldumping | Waste dumping")
    assert "(Waste dumping)" in reply.text and "Afvaldumping" not in reply.text


async def test_the_park_language_is_the_default_for_its_people_without_one(bot, server, cast):
    with bot.db.transaction() as session:
        session.exec(select(Park).where(Park.slug == "spaanse-polder")).one().language = "en"
    member = server.add_user("Mila", language_code=None)
    server.add_member(cast.group, member)
    first = await open_report_from_group(bot, server, member, cast.group)
    assert "What is it about? Choose a category." in first.text
    official = server.add_user("Olaf", language_code=None)
    await bot.verify(official, "fire_brigade")
    assert "You are verified as" in last(server, official.private).text
    # The app's language still wins; /taal wins over both.
    dutch = server.add_user("Daan", language_code="nl")
    server.add_member(cast.group, dutch)
    assert "Kies een soort" in (await open_report_from_group(bot, server, dutch, cast.group)).text


async def test_a_long_open_list_is_split_never_dropped(bot, server, cast):
    lead = server.add_user("Wijkagent " + "Lang" * 14, last_name="Achternaam" * 6, language_code="nl")
    await bot.verify(lead, "police")
    with bot.db.transaction() as session:
        park = session.exec(select(Park).where(Park.slug == "spaanse-polder")).one()
        officer = session.exec(select(Person).where(Person.external_id == str(lead.id))).one()
        reporter = session.exec(select(Person).where(Person.external_id == str(cast.admin.id))).one()
        category = Category(park_id=park.id, key="lang", name_nl="Een soort met een lange naam " + "x" * 31,
                            name_en="Long", roles=["police"], position=9)
        session.add(category)
        session.flush()
        for number in range(1, 21):
            report = Report(park_id=park.id, number=number, category_id=category.id, roles=["police"],
                            when_kind="now", what="x", reporter_person_id=reporter.id, created_at=bot.clock.now(),
                            lead_person_id=officer.id)
            session.add(report)
            session.flush()
            session.add(ReportRecipient(report_id=report.id, person_id=officer.id))
    before = len(server.messages(lead.private))
    await say(bot, lead, lead.private, "/open")
    shown = texts_since(server, lead.private, before)
    assert len(shown) >= 2 and all(len(text) <= TELEGRAM_LIMIT for text in shown)
    assert all(f"SP-{number:04d}" in "\n".join(shown) for number in range(1, 21))
    assert server.messages(lead.private)[-1].buttons  # the buttons come under the last part
    assert_nothing_failed(bot)
