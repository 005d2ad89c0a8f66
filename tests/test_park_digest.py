"""The monthly park digest (issue 12): posted in the group, anonymous, on the park's schedule."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from handlers.park_digest import due_moment
from storage.models import AdminChange, DigestSchedule, Park
from tests.telegram_people import file_report, last, press, say
from tests.test_board_statistics import file_content
from tests.test_park_requests import help_with, post_request
from tests.test_park_updates import become_members, compose


def digests(server, group):
    return [m for m in server.messages(group) if m.text.startswith("📊")]


def charts(server, group):
    return [m for m in server.messages(group) if "photo" in m]


async def test_the_digest_of_november_is_posted_on_the_first_working_day_of_december(bot, server, cast):
    await bot.advance(timedelta(0))  # the bot first sees the parks in November: their first digest is December's
    await become_members(bot, cast, cast.erik)
    for what in ("Busjes 's nachts", "Zware pakketten", "Hennepgeur"):
        await file_report(bot, server, cast.erik, cast.group, what=what)
    await file_report(bot, server, cast.erik, cast.group, category="Vastgoed", what="Contante huur")
    bot.clock.advance(timedelta(hours=2))
    await say(bot, cast.police, cast.police.private, "/feedback SP-0001 We kijken ernaar")
    await say(bot, cast.police, cast.police.private, "/feedback SP-0002 Bedankt, doorgegeven")
    await post_request(bot, server, cast.police)
    await help_with(bot, server, cast.erik, cast.group, "Ik heb beelden")
    await compose(bot, server, cast.police, "Controle gehouden", private=False)
    await press(bot, server, cast.police, "Versturen")
    assert digests(server, cast.group) == []

    await bot.advance(timedelta(hours=21, minutes=59))  # Tuesday 1 December, 08:59
    assert digests(server, cast.group) == []
    await bot.advance(timedelta(minutes=1))
    [digest] = digests(server, cast.group)
    assert digest.text.startswith("📊 Maandoverzicht De Spaanse Polder — november 2026")
    chart = server.messages(cast.group)[-1]  # the small chart follows the text, as an image
    assert chart.caption == "📈 De Spaanse Polder — november 2026 in een grafiek"
    assert file_content(server, chart).startswith(b"\x89PNG\r\n\x1a\n")
    for line in ("Signalen ontvangen: 4", "Met terugkoppeling aan de melder: 50%",
                 "Mediane tijd tot eerste terugkoppeling: 2 uur", "Oproepen van instanties beantwoord: 1 van 1",
                 "Berichten van instanties: 1", "• Drugs: 3 signalen, 67% met terugkoppeling",
                 "Soorten met minder dan 3 signalen staan er niet apart in"):
        assert line in digest.text, line
    assert "Vastgoed" not in digest.text and "Erik" not in digest.text and "Busjes" not in digest.text
    await bot.advance(timedelta(days=2))
    assert len(digests(server, cast.group)) == 1 and len(charts(server, cast.group)) == 1
    # The admins can see last month's digest, chart and all, before the group does (here: after).
    await say(bot, cast.admin, cast.admin.private, "/overzicht voorbeeld")
    text, chart = server.messages(cast.admin.private)[-2:]
    assert "Signalen ontvangen: 4" in text.text and "Vastgoed" not in text.text
    assert chart.caption.startswith("📈 De Spaanse Polder") and file_content(server, chart).startswith(b"\x89PNG")


async def test_admins_change_the_schedule_or_switch_it_off(bot, server, cast):
    await bot.advance(timedelta(0))
    reply = await say(bot, cast.admin, cast.admin.private, "/overzicht")
    assert "op de eerste werkdag van de maand om 09:00" in reply.text and "dinsdag 1 december 2026" in reply.text
    for bad, answer in (("/overzicht dag 31", "een dag van 1 tot en met 28"), ("/overzicht tijd 25:00", "geen geldige tijd"),
                        ("/overzicht morgen", "Gebruik: /overzicht")):
        assert answer in (await say(bot, cast.admin, cast.admin.private, bad)).text
    assert "alleen voor geverifieerde beheerders" in (await say(bot, cast.police, cast.police.private, "/overzicht uit")).text
    await say(bot, cast.admin, cast.admin.private, "/overzicht dag 3")
    reply = await say(bot, cast.admin, cast.admin.private, "/overzicht tijd 10:30")
    assert "op dag 3 van de maand om 10:30" in reply.text and "donderdag 3 december 2026" in reply.text
    nothing = await say(bot, cast.admin, cast.admin.private, "/overzicht voorbeeld")
    assert "gebeurde er niets" in nothing.text
    assert "photo" not in server.messages(cast.admin.private)[-1]

    await become_members(bot, cast, cast.erik)
    await file_report(bot, server, cast.erik, cast.group)
    await bot.advance(timedelta(days=1))  # Tuesday 1 December 09:00: not this park's day any more
    assert digests(server, cast.group) == []
    await bot.advance(timedelta(days=2, hours=1, minutes=30))  # Thursday 3 December 10:30
    [digest] = digests(server, cast.group)
    assert "Signalen ontvangen: 1" in digest.text and "Terugkoppelcijfers tonen we vanaf 3 signalen" in digest.text
    assert "Drugs" not in digest.text

    await say(bot, cast.admin, cast.admin.private, "/overzicht uit")
    assert "staat uit" in last(server, cast.admin.private).text
    await file_report(bot, server, cast.erik, cast.group)
    await bot.advance(timedelta(days=31))
    assert len(digests(server, cast.group)) == 1
    with Session(bot.db.engine) as session:
        changes = session.exec(select(AdminChange).where(AdminChange.action == "digest.schedule")
                               .order_by(AdminChange.id)).all()
        park = session.exec(select(Park).where(Park.slug == "spaanse-polder")).one()
        schedule = session.exec(select(DigestSchedule).where(DigestSchedule.park_id == park.id)).one()
    assert [change.after for change in changes] == [
        {"enabled": True, "day": 3, "at": "09:00"}, {"enabled": True, "day": 3, "at": "10:30"},
        {"enabled": False, "day": 3, "at": "10:30"}]
    assert not schedule.enabled
    log = await say(bot, cast.admin, cast.admin.private, "/logboek")
    assert ("Beheerder Anna wijzigde het maandoverzicht van de eerste werkdag van de maand om 09:00 naar dag 3 van "
            "de maand om 09:00") in log.text
    assert "wijzigde het maandoverzicht van dag 3 van de maand om 10:30 naar uit" in log.text


def test_the_first_working_day_skips_weekends_and_public_holidays():
    park = Park(slug="x", name="X", prefix="X", timezone="Europe/Amsterdam")
    schedule = DigestSchedule(park_id=1)
    assert due_moment(park, schedule, 2027, 1) == datetime(2027, 1, 4, 8, 0)  # 1 Jan is a holiday, then a weekend
    assert due_moment(park, schedule, 2026, 8) == datetime(2026, 8, 3, 7, 0)  # Saturday 1 August → Monday, CEST
    assert due_moment(park, DigestSchedule(park_id=1, day=15, at="10:00"), 2026, 12) == datetime(2026, 12, 15, 9, 0)
