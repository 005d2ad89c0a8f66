"""Reminders as a digest: one message per official (and per admin) per sweep, whatever is due."""

from datetime import timedelta

from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.park_setup import apply_parks
from handlers.clock import ManualClock
from handlers.i18n import Translator
from handlers.policy import next_reminder
from handlers.services import Services
from handlers.sweeps import send_due_reminders
from storage.models import Category, OutboxMessage, Park, Person, Report, ReportEvent, ReportRecipient, Role
from tests.harness import PARK, START, park_table
from tests.telegram_people import button, file_report, press, say


def reminders(server, user) -> list:
    return [m for m in server.messages(user.private) if m.text.startswith("⏰")]


async def test_one_reminder_per_official_lists_every_overdue_report(bot, server, cast):
    for what in ("Busjes 's nachts", "Vaten achter hal 3", "Camera gesloopt"):
        await file_report(bot, server, cast.erik, cast.group, what=what)  # Drugs: police and municipality
    await press(bot, server, cast.police, "Oppakken", message=server.messages(cast.police.private)[-1])  # SP-0003

    await bot.advance(timedelta(hours=4))  # 13:00: every report's first reminder is due at once
    [digest] = reminders(server, cast.police)
    assert "3 meldingen" in digest.text
    assert all(number in digest.text for number in ("SP-0001", "SP-0002", "SP-0003"))
    assert "jij bent trekker" in digest.text and "nog niet opgepakt" in digest.text
    labels = [b["text"] for row in digest.buttons for b in row]
    assert "SP-0001: 🙋 Oppakken" in labels and "SP-0001: 💬 Terugkoppelen" in labels
    assert "SP-0003: 💬 Terugkoppelen" in labels and "SP-0003: 🙋 Oppakken" not in labels  # already the lead
    # Gwen reads English; the report Piet leads no longer reminds her.
    [english] = reminders(server, cast.municipality)
    assert "2 reports are still waiting" in english.text and "SP-0003" not in english.text
    assert "SP-0001: 🙋 Claim" in [b["text"] for row in english.buttons for b in row]
    assert reminders(server, cast.fire) == []

    # The digest's buttons act on their own report.
    claimed = await press(bot, server, cast.municipality, "SP-0002: 🙋 Claim", message=english)
    assert "SP-0002" in claimed.text
    assert bot.reports()[1].lead_person_id is not None

    await bot.advance(timedelta(hours=2))  # 15:00: second reminders, escalation after 2
    assert len(reminders(server, cast.police)) == 2 and len(reminders(server, cast.municipality)) == 2
    assert "SP-0002" not in reminders(server, cast.police)[-1].text  # Gwen leads it now
    escalations = [m for m in server.messages(cast.admin.private) if "herinneringen" in m.text]
    assert len(escalations) == 1
    assert all(number in escalations[0].text for number in ("SP-0001", "SP-0002", "SP-0003"))
    assert "trekker: Piet" in escalations[0].text and "trekker: Gwen" in escalations[0].text
    assert [report.reminder_count for report in bot.reports()] == [2, 2, 2]


async def test_claim_from_a_digest_needs_the_button_of_that_report(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)
    await bot.advance(timedelta(hours=4))
    digest = reminders(server, cast.police)[-1]
    assert button(digest, "SP-0001: 🙋 Oppakken")["callback_data"].startswith("r")
    await press(bot, server, cast.police, "SP-0001: 💬 Terugkoppelen", message=digest)
    await press(bot, server, cast.police, "Ontvangen, dank")
    await bot.advance(timedelta(days=3))
    assert len(reminders(server, cast.police)) == 1
    assert bot.reports()[0].first_feedback_at is not None and bot.reports()[0].next_reminder_at is None


# ---- the sweep on its own, over many reports and several chunks ------------------------------------

NOW = START + timedelta(days=1)


def services_for(db) -> Services:
    raw = {"parks": [park_table(PARK, "De Spaanse Polder", "SP")]}
    with db.transaction() as session:
        apply_parks(session, parse_config(raw, environ={}))
    return Services(db=db, clock=ManualClock(NOW), texts=Translator.load())


def person(session: Session, name: str, language: str = "nl") -> Person:
    someone = Person(platform="telegram", external_id=name, display_name=name, private_chat_id=name,
                     language=language, created_at=START)
    session.add(someone)
    session.flush()
    return someone


def seed(db, reports: int, urgent: set[int] = frozenset(), escalate_after: int = 1) -> dict[str, int]:
    """A park with a police officer, an away one with a backup, an admin, and due reports to both."""
    with db.transaction() as session:
        park = session.exec(select(Park).where(Park.slug == PARK)).one()
        park.escalate_after = escalate_after
        drugs = session.exec(select(Category).where(Category.park_id == park.id, Category.key == "drugs")).one()
        police, away, backup, admin, reporter = (person(session, name) for name in
                                                 ("piet", "karel", "paula", "anna", "erik"))
        for someone, role in ((police, "police"), (away, "police"), (backup, "police"), (admin, "admin")):
            session.add(Role(person_id=someone.id, park_id=park.id, role=role, verified_at=START,
                             away_since=START if someone is away else None,
                             backup_person_id=backup.id if someone is away else None))
        for number in range(1, reports + 1):
            report = Report(park_id=park.id, number=number, category_id=drugs.id, roles=["police"], when_kind="now",
                            what="x", reporter_person_id=reporter.id, urgent=number in urgent,
                            created_at=START + timedelta(minutes=number), next_reminder_at=NOW - timedelta(hours=1))
            session.add(report)
            session.flush()
            session.add(ReportRecipient(report_id=report.id, person_id=police.id))
            session.add(ReportRecipient(report_id=report.id, person_id=away.id))
        return {"police": police.id, "away": away.id, "backup": backup.id, "admin": admin.id, "park": park.id}


def outbox_of(db, person_id: int) -> list[OutboxMessage]:
    with Session(db.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.recipient_person_id == person_id)
                                 .order_by(col(OutboxMessage.id))))


def test_a_sweep_in_many_chunks_writes_one_digest_per_person(database):
    services = services_for(database)
    people = seed(database, reports=13, urgent={12})

    assert send_due_reminders(services, chunk_size=4) == 13

    [digest] = outbox_of(database, people["police"])
    assert digest.purpose == "reminder" and digest.status == "pending"
    assert "13 meldingen" in digest.text and "… en nog 3 — /open" in digest.text
    listed = [line.split("</b>")[0].split("<b>")[1] for line in digest.text.splitlines() if line.startswith("•")]
    assert listed == ["SP-0012"] + [f"SP-{n:04d}" for n in range(1, 10)]  # urgent first, then the oldest
    assert len(digest.choices) == 10 and digest.choices[0][0]["label"] == "SP-0012: 🙋 Oppakken"
    # The backup stands in for the away officer, and becomes one of the report's officials.
    assert outbox_of(database, people["away"]) == []
    [for_backup] = outbox_of(database, people["backup"])
    assert "13 meldingen" in for_backup.text
    [escalation] = outbox_of(database, people["admin"])
    assert escalation.purpose == "escalation" and "13 meldingen" in escalation.text
    assert "… en nog 3; zie /statistiek." in escalation.text and escalation.choices == []

    with Session(database.engine) as session:
        park = session.get(Park, people["park"])
        for report in session.exec(select(Report)):
            assert report.reminder_count == 1 and report.last_reminded_at == NOW and report.escalated_at == NOW
            assert report.next_reminder_at == next_reminder(park, report, NOW, first=False)
        assert len(session.exec(select(ReportEvent).where(ReportEvent.kind == "reminder")).all()) == 13
        assert len(session.exec(select(ReportRecipient).where(
            ReportRecipient.person_id == people["backup"])).all()) == 13

    # Written held with the first chunk, released by the sweep's end: due now.
    assert {row.next_attempt_at for row in outbox_of(database, people["police"]) + [for_backup, escalation]} == {NOW}
    assert send_due_reminders(services, chunk_size=4) == 0  # nothing due any more


def test_every_sweep_sends_its_own_digest(database):
    """A digest a sender already took is never rewritten: the next sweep writes a new message."""
    services = services_for(database)
    people = seed(database, reports=3)
    assert send_due_reminders(services, chunk_size=10) == 3
    with database.transaction() as session:  # a sender claims the digest: its lease moves forward
        for row in session.exec(select(OutboxMessage)):
            row.next_attempt_at = NOW + timedelta(minutes=2)
            session.add(row)
        for report in session.exec(select(Report)):
            report.next_reminder_at = NOW
            session.add(report)
    assert send_due_reminders(services, chunk_size=10) == 3
    texts = [row.text for row in outbox_of(database, people["police"])]
    assert len(texts) == 2 and all("3 meldingen" in text for text in texts)


def test_digests_follow_each_readers_language(database):
    services = services_for(database)
    people = seed(database, reports=1)
    with database.transaction() as session:
        session.get(Person, people["police"]).language = "en"
    send_due_reminders(services)
    [digest] = outbox_of(database, people["police"])
    assert digest.text.startswith("⏰ <b>Reminder</b>: this report is still waiting")
    assert "SP-0001" in digest.text and "reminder 1, not claimed yet" in digest.text
    [escalation] = outbox_of(database, people["admin"])
    assert escalation.text.startswith("⚠️ <b>Escalatie</b>: deze melding") and "trekker: niemand" in escalation.text


# ---- /open, paged ------------------------------------------------------------------------------------

async def test_open_is_paged_with_buttons_to_turn_the_page(bot, server, cast):
    await say(bot, cast.erik, cast.group, "/help")
    with bot.db.transaction() as session:
        park = session.exec(select(Park).where(Park.slug == PARK)).one()
        drugs = session.exec(select(Category).where(Category.park_id == park.id, Category.key == "drugs")).one()
        police = session.exec(select(Person).where(Person.external_id == str(cast.police.id))).one()
        erik = session.exec(select(Person).where(Person.external_id == str(cast.erik.id))).one()
        for number in range(1, 26):
            report = Report(park_id=park.id, number=number, category_id=drugs.id, roles=["police", "municipality"],
                            when_kind="now", what="x", reporter_person_id=erik.id,
                            created_at=START - timedelta(hours=26 - number))
            session.add(report)
            session.flush()
            session.add(ReportRecipient(report_id=report.id, person_id=police.id))
        closed = session.exec(select(Report).where(Report.number == 3)).one()
        closed.status = "closed"
        session.add(closed)

    first = await say(bot, cast.police, cast.police.private, "/open")
    assert "Open meldingen (24)" in first.text and "Pagina 1 van 2" in first.text
    assert "SP-0001" in first.text and "SP-0003" not in first.text and "SP-0022" not in first.text
    assert [b["text"] for b in first.buttons[-1]] == ["Volgende ▶"]
    second = await press(bot, server, cast.police, "Volgende", message=first)
    assert "Pagina 2 van 2" in second.text and "SP-0022" in second.text and "SP-0025" in second.text
    assert "SP-0001" not in second.text and [b["text"] for b in second.buttons[-1]] == ["◀ Vorige"]
    assert "Pagina 2 van 2" in (await say(bot, cast.police, cast.police.private, "/open 7")).text
    assert "Dit commando is voor geverifieerde instanties" in (
        await say(bot, cast.erik, cast.erik.private, "/open")).text
