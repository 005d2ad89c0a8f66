"""/statistiek for the board: the figures as text, a chart image and the CSV as a document, in both languages."""

import csv
import io
from datetime import timedelta

from tests.telegram_people import file_report, press, say


def file_content(server, message) -> bytes:
    if "photo" in message:
        return server.world.files[message["photo"][-1]["file_id"]].content
    return server.world.files[message["document"]["file_id"]].content


async def test_statistics_come_with_a_chart_and_a_csv_document(bot, server, cast):
    await file_report(bot, server, cast.erik, cast.group)
    await file_report(bot, server, cast.fleur, cast.group, category="Real estate", what="Cash deal")
    bot.clock.advance(timedelta(hours=2))
    police_report = next(m for m in server.messages(cast.police.private) if "SP-0001" in m.text and m.buttons)
    await press(bot, server, cast.police, "Terugkoppelen", message=police_report)
    await press(bot, server, cast.police, "Ontvangen, dank")

    await say(bot, cast.admin, cast.admin.private, "/statistiek 7d")
    text, chart, document = server.messages(cast.admin.private)[-3:]
    assert "De Spaanse Polder" in text.text
    assert chart.caption.startswith("📊 Grafiek: laatste 7 dagen")
    assert file_content(server, chart).startswith(b"\x89PNG\r\n\x1a\n")
    assert document["document"]["file_name"] == "weerbaar-spaanse-polder-2026-11-30.csv"
    assert document.caption.startswith("📄 De cijfers als CSV")
    rows = list(csv.DictReader(io.StringIO(file_content(server, document).decode())))
    park = next(row for row in rows if row["scope"] == "park")
    assert (park["reports"], park["with_feedback"], park["feedback_share"]) == ("2", "1", "0.5000")
    assert {row["scope"] for row in rows} >= {"category:drugs", "category:vastgoed", "role:police"}

    # An official sees only their own roles, in English, in the chart and the CSV too.
    await say(bot, cast.municipality, cast.municipality.private, "/stats")
    text, chart, document = server.messages(cast.municipality.private)[-3:]
    assert chart.caption.startswith("📊 Chart:") and document.caption.startswith("📄 The figures as CSV")
    scopes = {row["scope"] for row in csv.DictReader(io.StringIO(file_content(server, document).decode()))}
    assert "role:police" not in scopes and "role:municipality" in scopes


async def test_a_chart_without_reports_still_reads(bot, server, cast):
    await say(bot, cast.admin, cast.admin.private, "/statistiek alles")
    chart = server.messages(cast.admin.private)[-2]
    assert file_content(server, chart).startswith(b"\x89PNG")
