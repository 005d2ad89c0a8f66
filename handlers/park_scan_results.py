"""The scan's results: only over at least ``MIN_RESPONDENTS`` respondents (per question too),
with the trend against the previous scan; as chat text and as CSV."""

import csv
import io

from babel.numbers import format_decimal
from sqlmodel import Session, col, func, select

from handlers.context import Context
from handlers.i18n import Markup, Translator, escape
from handlers.park_scan_questions import LIKERT, option_label, options, question_text
from handlers.rendering import local_time
from storage.models import Park, ParkScan, ScanAnswer

MIN_RESPONDENTS = 5


def respondents(session: Session, scan_id: int) -> int:
    return session.exec(select(func.count(func.distinct(ScanAnswer.respondent))).where(
        ScanAnswer.scan_id == scan_id)).one()


def results(ctx: Context, park: Park) -> None:
    """The last closed scan's results (k-anonymous), with the trend against the one before."""
    closed = list(ctx.session.exec(select(ParkScan).where(ParkScan.park_id == park.id, ParkScan.status == "closed")
                                   .order_by(col(ParkScan.closed_at).desc(), col(ParkScan.id).desc()).limit(2)))
    if not closed:
        return ctx.reply(ctx.t("scan.no_results", park=park.name))
    scan, previous = closed[0], (closed[1] if len(closed) > 1 else None)
    count = respondents(ctx.session, scan.id)
    header = ctx.t("scan.results_title", park=park.name, when=local_time(park, scan.closed_at, ctx.language),
                   respondents=count, invited=scan.invited)
    if count < MIN_RESPONDENTS:
        return ctx.reply(Markup(header + "\n" + ctx.t("scan.too_few", min=MIN_RESPONDENTS)))
    texts, language = ctx.services.texts, ctx.language
    lines = [header]
    for question in scan.questions:
        values = _values(ctx.session, scan.id, question["key"])
        lines.append("")
        lines.append(Markup(f"<b>{escape(question_text(texts, language, question))}</b>"))
        answered = len({respondent for respondent, _ in values})
        if answered < MIN_RESPONDENTS:
            lines.append(texts(language, "scan.question_too_few", min=MIN_RESPONDENTS))
            continue
        if question["kind"] == "likert":
            numbers = [int(value) for _, value in values]
            mean = sum(numbers) / len(numbers)
            spread = " · ".join(f"{v}: {numbers.count(int(v))}" for v in LIKERT)
            lines.append(texts(language, "scan.likert_line", mean=format_decimal(round(mean, 1), locale=language),
                               answered=answered, spread=spread))
            trend = _trend(ctx.session, previous, question["key"], mean, language, texts)
            if trend:
                lines.append(trend)
        else:
            for option in options(question):
                n = sum(1 for _, value in values if value == option["value"])
                lines.append(texts(language, "scan.option_line", option=option_label(texts, language, question, option),
                                   count=n, answered=answered))
    return ctx.reply(Markup("\n".join(lines)))


def _values(session: Session, scan_id: int, question: str) -> list[tuple[str, str]]:
    return [(a.respondent, a.value) for a in session.exec(select(ScanAnswer).where(
        ScanAnswer.scan_id == scan_id, ScanAnswer.question == question))]


def _trend(session: Session, previous: ParkScan | None, question: str, mean: float, language: str,
           texts: Translator) -> Markup | None:
    if previous is None:
        return None
    earlier = _values(session, previous.id, question)
    if len({respondent for respondent, _ in earlier}) < MIN_RESPONDENTS:
        return None
    before = sum(int(value) for _, value in earlier) / len(earlier)
    change = round(mean - before, 1)
    arrow = "▲" if change > 0 else ("▼" if change < 0 else "=")
    return texts(language, "scan.trend", arrow=arrow, change=format_decimal(abs(change), locale=language),
                 before=format_decimal(round(before, 1), locale=language))


def results_csv(session: Session, park_id: int) -> str:
    """Every closed scan of the park, one row per question and value with its count (k-anonymous)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["scan", "closed_at", "respondents", "question", "value", "count"])
    for scan in session.exec(select(ParkScan).where(ParkScan.park_id == park_id, ParkScan.status == "closed")
                             .order_by(col(ParkScan.id))):
        count = respondents(session, scan.id)
        if count < MIN_RESPONDENTS:
            continue
        for question in scan.questions:
            values = _values(session, scan.id, question["key"])
            if len({respondent for respondent, _ in values}) < MIN_RESPONDENTS:
                continue
            answers = LIKERT if question["kind"] == "likert" else [option["value"] for option in options(question)]
            for option in answers:
                writer.writerow([scan.id, scan.closed_at.isoformat(), count, question["key"], option,
                                 sum(1 for _, value in values if value == option)])
    return out.getvalue()
