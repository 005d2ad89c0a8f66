"""The park scan (issue 12): privately to the members, anonymous answers, k-anonymous results."""

import csv
import io
from datetime import timedelta

from sqlmodel import Session, select

from handlers.park_scan_results import results_csv
from storage.models import AdminChange, ParkScan, Person, ScanAnswer, ScanProgress
from tests.telegram_people import last, press, say
from tests.test_board_statistics import file_content
from tests.test_park_updates import become_members


async def five_members(bot, server, cast) -> list:
    people = [cast.erik, cast.fleur]
    for index in range(3):
        user = server.add_user(f"Lid{index}", language_code="nl")
        server.add_member(cast.group, user)
        people.append(user)
    await become_members(bot, cast, *people)
    return people


async def answer_all(bot, server, user, likert: str = "4", signals=("Drugs",)) -> None:
    english = user.language_code == "en"
    await press(bot, server, user, likert)
    for signal in signals:
        await press(bot, server, user, signal)
    await press(bot, server, user, "Done" if english else "Klaar")
    for _ in range(4):
        await press(bot, server, user, likert)
    done = await press(bot, server, user, "Yes" if english else "Ja")
    assert ("Thank you" if english else "Dank je wel") in done.text


async def test_a_scan_goes_to_the_members_reminds_once_and_shows_anonymous_results(bot, server, cast):
    people = await five_members(bot, server, cast)
    reply = await say(bot, cast.admin, cast.admin.private, "/scan start 2d")
    assert "verstuurd aan 5 leden" in reply.text
    first = last(server, cast.erik.private)
    assert "Vraag 1 van 7" in first.text and "Hoe veilig voelt het bedrijventerrein" in first.text
    assert [b["text"] for b in first.buttons[0]] == ["1", "2", "3", "4", "5"]
    assert "Short scan" in server.messages(cast.fleur.private)[-2].text
    for person in people[:4]:
        await answer_all(bot, server, person)
    late = people[4]
    question_one = last(server, late.private)
    await press(bot, server, late, "3")
    await press(bot, server, late, "3", message=question_one)  # a second tap on an answered question: nothing
    assert "werkt niet meer" in server.answered_callbacks[-1].text

    await bot.advance(timedelta(days=1))  # halfway: one reminder, only to who has not finished
    assert last(server, late.private).text.startswith("⏰ Herinnering")
    assert "Vraag 2 van 7" in last(server, late.private).text
    assert not any(m.text.startswith("⏰") for p in people[:4] for m in server.messages(p.private))
    await press(bot, server, late, "Geen van deze")
    await press(bot, server, late, "Klaar")
    for _ in range(4):
        await press(bot, server, late, "3")
    await press(bot, server, late, "niets gemeld")
    with Session(bot.db.engine) as session:
        person_ids = {str(p.id) for p in session.exec(select(Person))}
        hashes = {row.person_hash for row in session.exec(select(ScanProgress))}
        assert len(hashes) == 5 and not hashes & person_ids

    await bot.advance(timedelta(days=1))
    assert "gesloten: 5 deelnemers" in last(server, cast.admin.private).text
    with Session(bot.db.engine) as session:
        assert session.exec(select(ScanProgress)).all() == []
        scan = session.exec(select(ParkScan)).one()
        assert scan.status == "closed" and scan.salt is None
        assert len({a.respondent for a in session.exec(select(ScanAnswer))}) == 5
        assert [c.action for c in session.exec(select(AdminChange).order_by(AdminChange.id))] == ["scan.opened"]
    await say(bot, cast.admin, cast.admin.private, "/scan resultaten")
    results, chart, document = server.messages(cast.admin.private)[-3:]
    assert chart.caption == "📈 Scan De Spaanse Polder in een grafiek"
    assert file_content(server, chart).startswith(b"\x89PNG\r\n\x1a\n")
    assert document["document"]["file_name"] == "weerbaar-scan-spaanse-polder-2026-12-02.csv"
    assert document.caption.startswith("📄 De scanuitslagen als CSV")
    rows = list(csv.DictReader(io.StringIO(file_content(server, document).decode())))
    assert [(row["question"], row["value"], row["count"]) for row in rows if row["question"] == "safe"] == [
        ("safe", "1", "0"), ("safe", "2", "0"), ("safe", "3", "1"), ("safe", "4", "4"), ("safe", "5", "0")]
    assert all(row["respondents"] == "5" for row in rows)
    assert "5 deelnemers van 5 uitgenodigd" in results.text
    assert "Gemiddeld 3,8 (van 5) bij 5 antwoorden — 1: 0 · 2: 0 · 3: 1 · 4: 4 · 5: 0" in results.text
    assert "• Drugs: 4 van 5" in results.text and "• Geen van deze: 1 van 5" in results.text
    assert "• Ik heb niets gemeld: 1 van 5" in results.text and "vorige scan" not in results.text
    await say(bot, cast.municipality, cast.municipality.private, "/scan results")
    english, chart, document = server.messages(cast.municipality.private)[-3:]
    assert "Average 3.8" in english.text and chart.caption == "📈 Scan De Spaanse Polder as a chart"
    assert document.caption.startswith("📄 The scan results as CSV")
    assert "instanties zien de resultaten" in (await say(bot, cast.erik, cast.erik.private, "/scan resultaten")).text
    cast.erik.press_raw(first, first.buttons[0][0]["callback_data"])
    await bot.settle()
    assert "gesloten" in server.answered_callbacks[-1].text


async def test_too_few_respondents_show_nothing_and_the_trend_compares_with_the_previous_scan(bot, server, cast):
    people = await five_members(bot, server, cast)
    await say(bot, cast.admin, cast.admin.private, "/scan start 7d")
    for person in people:
        await answer_all(bot, server, person, likert="3")
    await say(bot, cast.admin, cast.admin.private, "/scan stop")
    await say(bot, cast.admin, cast.admin.private, "/scan start 7d")
    for person in people:
        await answer_all(bot, server, person, likert="4", signals=())
    await say(bot, cast.admin, cast.admin.private, "/scan stop")
    await say(bot, cast.admin, cast.admin.private, "/scan resultaten")
    results, chart, document = server.messages(cast.admin.private)[-3:]
    assert "Gemiddeld 4 (van 5)" in results.text and "▲ 1 t.o.v. de vorige scan (3)" in results.text
    rows = list(csv.DictReader(io.StringIO(file_content(server, document).decode())))
    assert {row["scan"] for row in rows} == {"1", "2"}  # the CSV holds every scan: the trend in figures

    await say(bot, cast.admin, cast.admin.private, "/scan start 7d")
    await press(bot, server, people[0], "Niet meedoen")
    assert "niet mee aan deze scan" in last(server, people[0].private).text
    for person in people[1:]:
        await answer_all(bot, server, person)
    closed = await say(bot, cast.admin, cast.admin.private, "/scan stop")
    assert "4 deelnemers" in closed.text
    results = await say(bot, cast.admin, cast.admin.private, "/scan resultaten")
    assert "Minder dan 5 deelnemers" in results.text and "Gemiddeld" not in results.text
    assert not any("photo" in m or "document" in m for m in server.messages(cast.admin.private)[-2:])
    with Session(bot.db.engine) as session:
        park_id = session.exec(select(ParkScan)).first().park_id
        csv_text = results_csv(session, park_id)
    assert "scan,closed_at,respondents,question,value,count" in csv_text
    assert ",5,safe,3,5" in csv_text and ",5,safe,4,5" in csv_text and ",4,safe," not in csv_text


async def test_bad_scan_input_is_answered_and_changes_nothing(bot, server, cast):
    assert "alleen voor geverifieerde beheerders" in (await say(bot, cast.police, cast.police.private, "/scan start")).text
    assert "geen geldige duur" in (await say(bot, cast.admin, cast.admin.private, "/scan start nooit")).text
    assert "geen geldige duur" in (await say(bot, cast.admin, cast.admin.private, "/scan start 90d")).text
    assert "Er loopt geen scan." in (await say(bot, cast.admin, cast.admin.private, "/scan stop")).text
    assert "Gebruik: /scan" in (await say(bot, cast.admin, cast.admin.private, "/scan misschien")).text
    assert "nog geen afgeronde scan" in (await say(bot, cast.admin, cast.admin.private, "/scan resultaten")).text
    await say(bot, cast.admin, cast.admin.private, "/scan start")
    assert "loopt al een scan" in (await say(bot, cast.admin, cast.admin.private, "/scan start")).text
    with Session(bot.db.engine) as session:
        assert len(session.exec(select(ParkScan)).all()) == 1


async def test_admins_edit_their_park_s_question_set(bot, server, cast):
    listing = await say(bot, cast.admin, cast.admin.private, "/scan vragen")
    assert "1. ✅ Hoe veilig voelt het bedrijventerrein voor jou?" in listing.text
    assert "7. ✅ Kreeg je terugkoppeling toen je iets meldde?" in listing.text
    await say(bot, cast.admin, cast.admin.private, "/scan vraag 2 uit")
    reply = await say(bot, cast.admin, cast.admin.private,
                      "/scan vraag 1 tekst Hoe veilig voelt het <park> 's avonds? | How safe does the park feel at night?")
    assert "1. ✅ Hoe veilig voelt het <park> 's avonds?" in reply.text and "2. ⛔ Welke signalen" in reply.text
    for bad in ("/scan vraag 9 uit", "/scan vraag 1 tekst alleen Nederlands", "/scan vraag 1 misschien"):
        assert "Wijzigen: /scan vraag N uit" in (await say(bot, cast.admin, cast.admin.private, bad)).text

    await become_members(bot, cast, cast.erik, cast.fleur)
    await say(bot, cast.admin, cast.admin.private, "/scan start 1d")
    first = last(server, cast.erik.private)
    assert "Vraag 1 van 6" in first.text and "Hoe veilig voelt het <park> 's avonds?" in first.text
    assert "How safe does the park feel at night?" in last(server, cast.fleur.private).text
    second = await press(bot, server, cast.erik, "4")
    assert "Vraag 2 van 6" in second.text and "vertrouwen heb je in de politie" in second.text
    with Session(bot.db.engine) as session:
        actions = [c.action for c in session.exec(select(AdminChange).order_by(AdminChange.id))]
    assert actions == ["scan.question", "scan.question", "scan.opened"]


async def test_admins_plan_a_scan_for_later_and_can_cancel_it(bot, server, cast):
    await become_members(bot, cast, cast.erik, cast.fleur)
    for bad in ("/scan start 7d vanaf gisteren", "/scan start 7d vanaf 31-02", "/scan start vanaf 30-11 08:00",
                "/scan start 7d vanaf 1-12 25:00", "/scan start vanaf 2027-06-01"):  # past, no date, too far ahead
        assert "geen geldig moment" in (await say(bot, cast.admin, cast.admin.private, bad)).text, bad
    planned = await say(bot, cast.admin, cast.admin.private, "/scan start 2d vanaf 2-12 10:00")
    assert "staat gepland: hij gaat op 2 dec 2026 10:00 naar de leden" in planned.text, planned.text
    assert "Vraag 1" not in last(server, cast.erik.private).text  # nothing goes out before its moment
    assert "gepland: van 2 dec 2026 10:00 tot 4 dec 2026 10:00" in (
        await say(bot, cast.admin, cast.admin.private, "/scan")).text
    assert "al een scan gepland" in (await say(bot, cast.admin, cast.admin.private, "/scan start")).text
    await say(bot, cast.admin, cast.admin.private, "/scan vraag 7 uit")  # a change before it opens still counts

    await bot.advance(timedelta(days=2, hours=1))  # Wednesday 2 December 10:00 (the test starts 30 November 09:00)
    assert "Vraag 1 van 6" in last(server, cast.erik.private).text
    assert "Question 1 of 6" in last(server, cast.fleur.private).text
    assert "geplande scan van De Spaanse Polder is verstuurd aan 2 leden" in last(server, cast.admin.private).text

    await say(bot, cast.admin, cast.admin.private, "/scan stop")
    await say(bot, cast.admin, cast.admin.private, "/scan start 1d vanaf 2027-01-04")
    cancelled = await say(bot, cast.admin, cast.admin.private, "/scan stop")
    assert "gaat niet door" in cancelled.text
    await bot.advance(timedelta(days=40))
    assert sum("Vraag 1 van" in m.text for m in server.messages(cast.erik.private)) == 1  # the cancelled one never went
    with Session(bot.db.engine) as session:
        assert [scan.status for scan in session.exec(select(ParkScan).order_by(ParkScan.id))] == ["closed", "cancelled"]
    log = await say(bot, cast.admin, cast.admin.private, "/logboek")
    for line in ("Beheerder Anna plande scan #1", "Beheerder Anna sloot scan #1",
                 "Beheerder Anna annuleerde de geplande scan #2", "wijzigde scanvraag feedback: uit"):
        assert line in log.text, line
