"""Reminders until the reporter has feedback, escalation, and restarts in the middle of things."""

from datetime import timedelta

from tests.telegram_people import file_report, last, press, say


def reminders(server, user) -> list:
    return [m for m in server.messages(user.private) if m.text.startswith("⏰")]


async def test_reminders_in_working_time_escalate_and_stop_on_feedback(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)  # Monday 09:00
    police_report = last(server, cast.police.private)

    await bot.advance(timedelta(hours=3, minutes=59))
    assert reminders(server, cast.police) == []
    await bot.advance(timedelta(minutes=1))  # 13:00: four working hours
    assert len(reminders(server, cast.police)) == 1 and len(reminders(server, cast.municipality)) == 1
    assert "SP-0001" in reminders(server, cast.police)[0].text

    # Claiming silences reminders for the others.
    await press(bot, server, cast.police, "Oppakken", message=police_report)
    await bot.advance(timedelta(hours=2))  # 15:00: second reminder, to the lead only, and escalation
    assert len(reminders(server, cast.police)) == 2 and len(reminders(server, cast.municipality)) == 1
    escalation = last(server, cast.admin.private)
    assert "SP-0001" in escalation.text and "2 herinneringen" in escalation.text and "Piet" in escalation.text

    await bot.advance(timedelta(hours=1, minutes=59))  # 16:59
    assert len(reminders(server, cast.police)) == 2
    await bot.advance(timedelta(minutes=1))  # 17:00
    assert len(reminders(server, cast.police)) == 3
    # One working hour is left today; evening and night don't count: next is Tuesday 09:00.
    await bot.advance(timedelta(hours=15, minutes=59))  # Tuesday 08:59
    assert len(reminders(server, cast.police)) == 3
    await bot.advance(timedelta(minutes=1))  # Tuesday 09:00
    assert len(reminders(server, cast.police)) == 4
    assert bot.reports()[0].reminder_count == 4
    assert len([m for m in server.messages(cast.admin.private) if "herinneringen" in m.text]) == 1

    await press(bot, server, cast.police, "Terugkoppelen", message=police_report)
    await press(bot, server, cast.police, "Ontvangen, dank")
    await bot.advance(timedelta(days=5))
    assert len(reminders(server, cast.police)) == 4
    assert bot.reports()[0].next_reminder_at is None


async def test_urgent_reports_follow_the_faster_schedule(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, urgent=True)
    assert "SPOED" in last(server, cast.police.private).text
    await bot.advance(timedelta(minutes=30))
    assert len(reminders(server, cast.police)) == 1
    await bot.advance(timedelta(minutes=30))
    assert len(reminders(server, cast.police)) == 2
    assert "2 herinneringen" in last(server, cast.admin.private).text


async def test_restart_in_the_middle_of_a_report_continues_where_it_was(bot, server, cast):
    from tests.telegram_people import open_report_from_group

    await open_report_from_group(bot, server, cast.erik, cast.group)
    await press(bot, server, cast.erik, "Drugs")
    await say(bot, cast.erik, cast.erik.private, "Achter hal 3")
    await bot.restart()
    await press(bot, server, cast.erik, "Eerder vandaag")
    await say(bot, cast.erik, cast.erik.private, "rond 6 uur vanochtend")
    await say(bot, cast.erik, cast.erik.private, "Vaten met chemicaliën gedumpt")
    await press(bot, server, cast.erik, "Klaar")
    await press(bot, server, cast.erik, "Anoniem")
    summary = await press(bot, server, cast.erik, "Nee")
    assert "Achter hal 3" in summary.text and "rond 6 uur vanochtend" in summary.text
    await press(bot, server, cast.erik, "Versturen")
    assert "Vaten met chemicaliën" in last(server, cast.police.private).text


async def test_restart_keeps_the_reminder_schedule(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)
    await bot.advance(timedelta(hours=4))
    assert len(reminders(server, cast.police)) == 1
    await bot.restart()
    await bot.advance(timedelta(hours=1, minutes=59))
    assert len(reminders(server, cast.police)) == 1
    await bot.advance(timedelta(minutes=1))
    assert len(reminders(server, cast.police)) == 2


async def test_idle_draft_expires_with_one_message(bot, server, cast):
    from tests.telegram_people import open_report_from_group

    await open_report_from_group(bot, server, cast.erik, cast.group)
    await press(bot, server, cast.erik, "Drugs")
    await bot.advance(timedelta(hours=2))
    assert "verlopen" in last(server, cast.erik.private).text
    count = len(server.messages(cast.erik.private))
    await bot.advance(timedelta(hours=2))
    assert len(server.messages(cast.erik.private)) == count
    answer = await say(bot, cast.erik, cast.erik.private, "Achter hal 3")
    assert "begrijp ik niet" in answer.text


async def test_delivered_messages_are_pruned_after_the_retention_but_reports_stay(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group, what="Inhoud die niet eeuwig in de outbox blijft")
    await press(bot, server, cast.police, "Terugkoppelen", message=last(server, cast.police.private))
    await press(bot, server, cast.police, "Ontvangen, dank")
    assert any("eeuwig" in (row.text or "") for row in bot.outbox())
    await bot.advance(timedelta(days=29))
    assert any("eeuwig" in (row.text or "") for row in bot.outbox())
    await bot.advance(timedelta(days=2))
    assert not any("eeuwig" in (row.text or "") for row in bot.outbox())
    assert all(row.status == "pending" for row in bot.outbox())
    assert "eeuwig" in bot.reports()[0].what
