"""/melden asks the platform only about the parks a person is known in, briefly cached."""

from datetime import timedelta

from sqlmodel import Session, select

from storage.models import GroupChat, ParkMember, Person
from tests.harness import OTHER_PARK
from tests.telegram_people import say


def membership_checks(server, user) -> int:
    return sum(1 for request in server.requests
               if request.method == "getChatMember" and str(request.params.get("user_id")) == str(user.id))


async def test_only_known_parks_are_checked_and_answers_are_cached(bot, server, cast):
    # Many other groups linked to another park: none of them is asked about Erik.
    await bot.verify(cast.admin, "admin", OTHER_PARK)
    for n in range(5):
        other = server.add_group(f"Noorderveld {n}", members=[cast.admin])
        await say(bot, cast.admin, other, "/koppel noorderveld")
    with Session(bot.db.engine) as session:
        assert len(session.exec(select(GroupChat)).all()) == 6

    unknown = await say(bot, cast.erik, cast.erik.private, "/melden")
    assert "alleen als je lid bent" in unknown.text and "één keer /melden in de groep" in unknown.text
    assert membership_checks(server, cast.erik) == 0

    await say(bot, cast.erik, cast.group, "/help")  # seen in the Spaanse Polder group
    started = await say(bot, cast.erik, cast.erik.private, "/melden")
    assert "Drugs" in str(started.buttons)
    assert membership_checks(server, cast.erik) == 1
    await say(bot, cast.erik, cast.erik.private, "/stop")
    await say(bot, cast.erik, cast.erik.private, "/melden")
    assert membership_checks(server, cast.erik) == 1  # the answer of a moment ago is still good

    server.remove_member(cast.group, cast.erik)
    await bot.advance(timedelta(minutes=3))
    await say(bot, cast.erik, cast.erik.private, "/stop")
    left = await say(bot, cast.erik, cast.erik.private, "/melden")
    assert "alleen als je lid bent" in left.text
    assert membership_checks(server, cast.erik) == 2
    with Session(bot.db.engine) as session:  # forgotten: the next /melden asks nobody
        erik = session.exec(select(Person.id).where(Person.external_id == str(cast.erik.id))).one()
        assert session.exec(select(ParkMember).where(ParkMember.person_id == erik)).all() == []


async def test_a_deep_link_checks_the_park_it_names_and_remembers_it(bot, server, cast):
    cast.erik.open_link("https://t.me/weerbaar_test_bot?start=m_spaanse-polder")
    await bot.settle()
    assert membership_checks(server, cast.erik) == 1
    await say(bot, cast.erik, cast.erik.private, "/stop")
    await bot.advance(timedelta(minutes=3))
    started = await say(bot, cast.erik, cast.erik.private, "/melden")
    assert "Drugs" in str(started.buttons)
    assert membership_checks(server, cast.erik) == 2

