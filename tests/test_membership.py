"""/melden asks the platform only about the parks a person is known in, briefly cached; one membership
policy (handlers.membership) for reports and the park-level audiences."""

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
    with Session(bot.db.engine) as session:  # one "no" may be a platform hiccup: one miss, still known
        erik = session.exec(select(Person.id).where(Person.external_id == str(cast.erik.id))).one()
        [member] = session.exec(select(ParkMember).where(ParkMember.person_id == erik)).all()
        assert member.missed_checks == 1

    await say(bot, cast.erik, cast.erik.private, "/stop")
    again = await say(bot, cast.erik, cast.erik.private, "/melden")  # the cached "no": asked of nobody, not counted
    assert "alleen als je lid bent" in again.text and membership_checks(server, cast.erik) == 2
    await bot.advance(timedelta(minutes=3))
    await say(bot, cast.erik, cast.erik.private, "/stop")
    await say(bot, cast.erik, cast.erik.private, "/melden")
    assert membership_checks(server, cast.erik) == 3
    with Session(bot.db.engine) as session:  # the second "no" in a row: forgotten, the next /melden asks nobody
        assert session.exec(select(ParkMember).where(ParkMember.person_id == erik)).all() == []
    await bot.advance(timedelta(minutes=3))
    await say(bot, cast.erik, cast.erik.private, "/melden")
    assert membership_checks(server, cast.erik) == 3


async def test_a_deep_link_checks_the_park_it_names_and_remembers_it(bot, server, cast):
    cast.erik.open_link("https://t.me/weerbaar_test_bot?start=m_spaanse-polder")
    await bot.settle()
    assert membership_checks(server, cast.erik) == 1
    await say(bot, cast.erik, cast.erik.private, "/stop")
    await bot.advance(timedelta(minutes=3))
    started = await say(bot, cast.erik, cast.erik.private, "/melden")
    assert "Drugs" in str(started.buttons)
    assert membership_checks(server, cast.erik) == 2



def member_row(bot, user) -> ParkMember | None:
    with Session(bot.db.engine) as session:
        person = session.exec(select(Person.id).where(Person.external_id == str(user.id))).one()
        return session.exec(select(ParkMember).where(ParkMember.person_id == person)).first()


async def test_one_policy_for_reports_and_park_audiences_misses_count_wherever_they_come_from(bot, server, cast):
    """A "no" on /melden and a "no" at the daily recheck are misses of the same count; a sign of
    life clears them; the second miss in a row ends the membership and with it the opt-out."""
    cast.erik.start()
    await bot.settle()
    await say(bot, cast.erik, cast.group, "/help")
    await say(bot, cast.erik, cast.erik.private, "/parkberichten uit")
    assert member_row(bot, cast.erik).opted_out_at is not None

    server.remove_member(cast.group, cast.erik)  # a /melden check misses him once
    await bot.advance(timedelta(minutes=3))
    assert "alleen als je lid bent" in (await say(bot, cast.erik, cast.erik.private, "/melden")).text
    assert member_row(bot, cast.erik).missed_checks == 1
    server.add_member(cast.group, cast.erik)  # back (or it was a hiccup): he speaks in the group
    await say(bot, cast.erik, cast.group, "/help")
    row = member_row(bot, cast.erik)
    assert row.missed_checks == 0 and row.opted_out_at is not None  # his choice stands

    server.remove_member(cast.group, cast.erik)
    await bot.advance(timedelta(days=1, minutes=1))  # the daily recheck misses him: one miss
    assert member_row(bot, cast.erik).missed_checks == 1
    await say(bot, cast.erik, cast.erik.private, "/melden")  # and this check a second time: he left
    assert member_row(bot, cast.erik) is None
    assert "nog niet bekend als lid" in (await say(bot, cast.erik, cast.erik.private, "/parkberichten")).text
