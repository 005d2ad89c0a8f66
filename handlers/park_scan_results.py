"""The scan's results: only over at least ``MIN_RESPONDENTS`` respondents (per question too),
with the trend against the previous scan.

``/scan resultaten`` answers admins and officials in the chat with the text, a chart image
(:mod:`handlers.park_scan_chart`, drawn off the event loop after the answer) and the CSV as a
document; ``weerbaar scan-results`` prints the same CSV on the command line. The CSV holds
counts only, for scans and questions over the same minimum: no row can single anyone out.
"""

import csv
import io
from dataclasses import dataclass
from functools import partial

from babel.numbers import format_decimal
from sqlmodel import Session, col, func, select

from handlers.context import Context
from handlers.i18n import Markup, Translator, escape
from handlers.outbox import Attachment
from handlers.park_scan_chart import scan_chart, render_scan_chart
from handlers.park_scan_questions import LIKERT, option_label, options, question_text
from handlers.rendering import local_moment, local_time
from storage.models import Park, ParkScan, ScanAnswer

MIN_RESPONDENTS = 5


@dataclass(frozen=True)
class QuestionResult:
    """One question of a scan as far as it may be shown: nothing below ``MIN_RESPONDENTS`` answers."""

    text: str
    kind: str
    answered: int
    shown: bool
    mean: float | None = None  # Likert questions
    previous_mean: float | None = None  # the same question in the previous scan, when that one may be shown
    spread: tuple[tuple[str, int], ...] = ()  # (value, count) for Likert; (option label, count) otherwise


def respondents(session: Session, scan_id: int) -> int:
    return session.exec(select(func.count(func.distinct(ScanAnswer.respondent))).where(
        ScanAnswer.scan_id == scan_id)).one()


def question_results(session: Session, texts: Translator, language: str, scan: ParkScan,
                     previous: ParkScan | None) -> list[QuestionResult]:
    results = []
    for question in scan.questions:
        values = _values(session, scan.id, question["key"])
        answered = len({respondent for respondent, _ in values})
        text = question_text(texts, language, question)
        if answered < MIN_RESPONDENTS:
            results.append(QuestionResult(text, question["kind"], answered, shown=False))
        elif question["kind"] == "likert":
            numbers = [int(value) for _, value in values]
            results.append(QuestionResult(
                text, "likert", answered, shown=True, mean=sum(numbers) / len(numbers),
                previous_mean=_previous_mean(session, previous, question["key"]),
                spread=tuple((value, numbers.count(int(value))) for value in LIKERT)))
        else:
            spread = tuple((option_label(texts, language, question, option),
                            sum(1 for _, value in values if value == option["value"])) for option in options(question))
            results.append(QuestionResult(text, question["kind"], answered, shown=True, spread=spread))
    return results


def results(ctx: Context, park: Park) -> None:
    """The last closed scan's results (k-anonymous) with the trend: text, then a chart and the CSV."""
    closed = list(ctx.session.exec(select(ParkScan).where(ParkScan.park_id == park.id, ParkScan.status == "closed")
                                   .order_by(col(ParkScan.closed_at).desc(), col(ParkScan.id).desc()).limit(2)))
    if not closed:
        return ctx.reply(ctx.t("scan.no_results", park=park.name))
    scan, previous = closed[0], (closed[1] if len(closed) > 1 else None)
    count = respondents(ctx.session, scan.id)
    when = local_time(park, scan.closed_at, ctx.language)
    header = ctx.t("scan.results_title", park=park.name, when=when, respondents=count, invited=scan.invited)
    if count < MIN_RESPONDENTS:
        return ctx.reply(Markup(header + "\n" + ctx.t("scan.too_few", min=MIN_RESPONDENTS)))
    if previous is not None and respondents(ctx.session, previous.id) < MIN_RESPONDENTS:
        previous = None  # a scan too small to show is no baseline either
    texts, language = ctx.services.texts.on(ctx.chat.platform), ctx.language
    found = question_results(ctx.session, texts, language, scan, previous)
    lines = [header]
    for result in found:
        lines.append("")
        lines.append(Markup(f"<b>{escape(result.text)}</b>"))
        if not result.shown:
            lines.append(texts(language, "scan.question_too_few", min=MIN_RESPONDENTS))
        elif result.kind == "likert":
            spread = " · ".join(f"{value}: {n}" for value, n in result.spread)
            lines.append(texts(language, "scan.likert_line", mean=_decimal(result.mean, language),
                               answered=result.answered, spread=spread))
            if result.previous_mean is not None:
                change = round(result.mean - result.previous_mean, 1)
                arrow = "▲" if change > 0 else ("▼" if change < 0 else "=")
                lines.append(texts(language, "scan.trend", arrow=arrow,
                                   change=format_decimal(abs(change), locale=language),
                                   before=_decimal(result.previous_mean, language)))
        else:
            for label, n in result.spread:
                lines.append(texts(language, "scan.option_line", option=label, count=n, answered=result.answered))
    ctx.reply(Markup("\n".join(lines)))
    chart = scan_chart(texts, language, park_name=park.name, when=when, results=found)
    ctx.send_file_later(ctx.t("scan.chart_caption", park=park.name), partial(render_scan_chart, chart))
    day = local_moment(park, ctx.now).strftime("%Y-%m-%d")
    document = Attachment(name=f"weerbaar-scan-{park.slug}-{day}.csv", kind="document", mime="text/csv",
                          data=results_csv(ctx.session, park.id).encode())
    ctx.send_file_later(ctx.t("scan.csv_caption"), lambda: document)
    return None


def _decimal(value: float, language: str) -> str:
    return format_decimal(round(value, 1), locale=language)


def _values(session: Session, scan_id: int, question: str) -> list[tuple[str, str]]:
    return [(a.respondent, a.value) for a in session.exec(select(ScanAnswer).where(
        ScanAnswer.scan_id == scan_id, ScanAnswer.question == question))]


def _previous_mean(session: Session, previous: ParkScan | None, question: str) -> float | None:
    if previous is None:
        return None
    earlier = _values(session, previous.id, question)
    if len({respondent for respondent, _ in earlier}) < MIN_RESPONDENTS:
        return None
    return sum(int(value) for _, value in earlier) / len(earlier)


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
