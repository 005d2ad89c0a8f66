"""Retention per park: content goes a set time after a report ended; anonymous figures stay."""

from datetime import timedelta

from sqlmodel import Session, select

from handlers.retention import parse_retention
from storage.models import (
    AdminChange, OutboxMessage, PendingCommand, Report, ReportAccess, ReportEvent, ReportRecipient,
)
from tests.telegram_people import file_report, last, press, say

WHAT = "Busjes met pakketten bij loods 7"
QUESTION = "Welke kleur hadden de busjes?"
ANSWER = "Wit, zonder logo"
CLOSING = "Controle gehouden, dank voor de melding"


def test_retention_values_are_read_kindly():
    assert parse_retention("1j") == timedelta(days=365)
    assert parse_retention("18 maanden") == timedelta(days=540)
    assert parse_retention("2y") == timedelta(days=730)
    assert parse_retention("90d") == timedelta(days=90)
    assert parse_retention("26w") == timedelta(weeks=26)
    for wrong in ("", "0d", "11j", "soon", "-1d", "1h"):
        assert parse_retention(wrong) is None, wrong


async def test_admin_reads_and_changes_the_retention_in_the_chat(bot, server, cast):
    shown = await say(bot, cast.admin, cast.admin.private, "/beleid")
    assert "Bewaartermijn" in shown.text and "1 jaar na het afsluiten" in shown.text
    refused = await say(bot, cast.admin, cast.admin.private, "/beleid bewaren 11j")
    assert "minimaal 1 dag, maximaal 10 jaar" in refused.text
    changed = await say(bot, cast.admin, cast.admin.private, "/beleid bewaren 2w")
    assert "Bewaartermijn gewijzigd: 2 weken" in changed.text and "2 weken na het afsluiten" in changed.text
    refused = await say(bot, cast.police, cast.police.private, "/beleid bewaren 1d")
    assert "alleen voor geverifieerde beheerders" in refused.text
    with Session(bot.db.engine) as session:
        change = session.exec(select(AdminChange).where(AdminChange.action == "policy.retention")).one()
        assert (change.before, change.after) == ({"retention": 365 * 86400}, {"retention": 14 * 86400})


async def test_closed_report_content_is_purged_after_the_retention_and_figures_stay(bot, server, cast):
    await say(bot, cast.admin, cast.admin.private, "/beleid bewaren 2w")
    await file_report(bot, server, cast.erik, cast.group, what=WHAT, photos=1)
    await file_report(bot, server, cast.fleur, cast.group, what="Still open, must stay")
    await say(bot, cast.police, cast.police.private, f"/vraag SP-0001 {QUESTION}")
    await press(bot, server, cast.erik, "Antwoorden")
    await say(bot, cast.erik, cast.erik.private, ANSWER)
    await say(bot, cast.police, cast.police.private, f"/sluit SP-0001 {CLOSING}")

    await bot.advance(timedelta(days=13))
    closed, still_open = bot.reports()
    assert closed.what == WHAT and closed.photos and closed.purged_at is None

    await bot.advance(timedelta(days=2))
    closed, still_open = bot.reports()
    assert closed.purged_at is not None
    assert (closed.what, closed.where_text, closed.when_text, closed.photos) == ("", None, None, [])
    assert closed.reporter_person_id is None and closed.lead_person_id is None
    # The anonymous figures the statistics need stay.
    assert (closed.status, closed.number, closed.category_id) == ("closed", 1, still_open.category_id)
    assert closed.first_feedback_at is not None and closed.closed_at is not None
    with Session(bot.db.engine) as session:
        events = session.exec(select(ReportEvent).where(ReportEvent.report_id == closed.id)).all()
        assert {event.kind for event in events} >= {"sent", "question", "answer", "close"}
        assert all(event.text is None and event.person_id is None for event in events if event.kind != "rating")
        for table in (OutboxMessage, ReportRecipient, ReportAccess):
            assert session.exec(select(table).where(table.report_id == closed.id)).all() == [], table
        texts = " ".join(row.text or "" for row in session.exec(select(OutboxMessage)))
        assert all(secret not in texts for secret in (QUESTION, ANSWER, CLOSING))
    # The open report is untouched, however long it stays open.
    assert still_open.what == "Still open, must stay" and still_open.purged_at is None
    await bot.advance(timedelta(days=400))
    assert bot.reports()[1].what == "Still open, must stay"
    # The reporter's list still shows the number is gone from them; statistics still count it.
    mine = await say(bot, cast.erik, cast.erik.private, "/mijnmeldingen")
    assert "SP-0001" not in mine.text
    await say(bot, cast.admin, cast.admin.private, "/statistiek alles")
    assert any("Meldingen: 2" in (m.text or "") for m in server.messages(cast.admin.private)[-4:])


async def test_unanswered_prompts_are_swept_after_a_week(bot, server, cast):
    await bot.verify(cast.admin, "admin", park="noorderveld")
    await say(bot, cast.admin, cast.admin.private, "/beleid")  # asks which park: a pending command
    with Session(bot.db.engine) as session:
        assert len(session.exec(select(PendingCommand)).all()) == 1
    await bot.advance(timedelta(days=8))
    with Session(bot.db.engine) as session:
        assert session.exec(select(PendingCommand)).all() == []
    assert last(server, cast.admin.private)


async def test_photo_captions_go_with_the_content(bot, server, cast):
    """Found while checking point 1 again: a purge left the reporter's photo captions behind."""
    from tests.telegram_people import open_report_from_group

    await say(bot, cast.admin, cast.admin.private, "/beleid bewaren 1d")
    await open_report_from_group(bot, server, cast.erik, cast.group)
    await press(bot, server, cast.erik, "Drugs")
    await say(bot, cast.erik, cast.erik.private, "Loods 7")
    await press(bot, server, cast.erik, "Nu")
    await say(bot, cast.erik, cast.erik.private, "Busjes")
    cast.erik.send_photo(cast.erik.private, caption="Kenteken 12-ABC-3 van de buurman")
    await bot.settle()
    for label in ("Klaar", "Anoniem", "Nee", "Versturen"):
        await press(bot, server, cast.erik, label)
    assert bot.reports()[0].photo_captions == ["Kenteken 12-ABC-3 van de buurman"]
    await say(bot, cast.police, cast.police.private, "/sluit SP-0001 Afgehandeld")
    await bot.advance(timedelta(days=2))
    report = bot.reports()[0]
    assert report.purged_at is not None and report.photos == [] and not report.photo_captions
