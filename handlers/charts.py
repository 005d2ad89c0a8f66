"""The board's chart: time to first feedback and share answered per month, and the share by role.

``chart_data`` reads the figures (in the unit of work); ``render_chart`` draws them with
matplotlib's Agg canvas into PNG bytes. Rendering touches no database and no shared state
(an explicit ``Figure``, never ``pyplot``), so it runs in a worker thread, off the event loop.
"""

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date
from sqlmodel import Session

from handlers.i18n import Translator
from handlers.outbox import Attachment
from handlers.rendering import role_label
from handlers.statistics import ParkFigures, local_date, local_midnight_utc, park_figures, role_filter
from storage.figures_months import feedback_by_period

MIN_MONTHS, MAX_MONTHS = 6, 12
SIZE_INCHES, DPI = (8.0, 9.0), 100  # 800 × 900 pixels: well inside Telegram's photo limits


@dataclass(frozen=True)
class ChartData:
    title: str
    months: tuple[tuple[str, float | None, float | None], ...]  # (label, median hours, share with feedback)
    roles: tuple[tuple[str, float | None], ...]  # (label, share with feedback) in the period
    labels: dict[str, str]


def chart_data(session: Session, texts: Translator, language: str, *, park_id: int, park_name: str, timezone: str,
               since: datetime, until: datetime, now: datetime, roles: tuple[str, ...] | None,
               period: ParkFigures | None = None) -> ChartData:
    """The figures the chart shows: the months the period touches (at least 6, at most 12), read
    from the monthly summaries (``storage.figures_months.feedback_by_period``); ``period`` (the
    period's figures, when the caller has them already) saves computing those again."""
    last = local_date(until - timedelta(microseconds=1), timezone).replace(day=1)
    first = local_date(max(since, datetime(2000, 1, 1)), timezone).replace(day=1)
    months = [last]
    while len(months) < MAX_MONTHS and (months[-1] > first or len(months) < MIN_MONTHS):
        months.append(_previous_month(months[-1]))
    months.reverse()
    boundaries = [local_midnight_utc(month, timezone) for month in months]
    boundaries.append(local_midnight_utc(_next_month(months[-1]), timezone))
    rows = []
    for month, figures in zip(months, feedback_by_period(session, park_id, boundaries, role_filter(roles))):
        median = figures.median_to_feedback.total_seconds() / 3600 if figures.median_to_feedback else None
        share = figures.with_feedback / figures.considered if figures.considered else None
        rows.append((format_date(month, "MMM yy", locale=language), median, share))
    if period is None:
        period = park_figures(session, park_id, since, until, now, role=roles)
    by_role = tuple((role_label(texts, language, figures.role), figures.feedback_share) for figures in period.by_role)
    labels = {key: str(texts(language, f"stats.chart.{key}")) for key in
              ("median_hours", "share", "by_role", "no_data")}
    return ChartData(title=str(texts(language, "stats.chart.title", park=park_name)), months=tuple(rows),
                     roles=by_role, labels=labels)


def render_chart(data: ChartData, name: str = "weerbaar-grafiek.png") -> Attachment:
    """The chart as a PNG attachment."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)  # a fixed layout: a third faster than a computed one
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.24, right=0.97, top=0.91, bottom=0.05, hspace=0.45)
    figure.suptitle(data.title, fontsize="large", fontweight="bold")
    waits, shares, by_role = figure.subplots(3, 1)
    labels = [label for label, _, _ in data.months]
    positions = range(len(labels))
    waits.bar(positions, [hours or 0 for _, hours, _ in data.months], color="#3b6ea5")
    waits.set_title(data.labels["median_hours"])
    shares.plot(positions, [share * 100 if share is not None else float("nan") for _, _, share in data.months],
                marker="o", color="#2e8b57")
    shares.set_ylim(0, 105)
    shares.set_title(data.labels["share"])
    for axes in (waits, shares):
        axes.set_xticks(list(positions), labels, fontsize=8)
    if data.roles:
        names = [label for label, _ in data.roles]
        by_role.barh(range(len(names)), [(share or 0) * 100 for _, share in data.roles], color="#c0772c")
        by_role.set_yticks(range(len(names)), names)
        by_role.set_xlim(0, 100)
        by_role.invert_yaxis()  # the first role on top, as in the text
    else:
        by_role.text(0.5, 0.5, data.labels["no_data"], ha="center", va="center", transform=by_role.transAxes)
        by_role.set_axis_off()
    by_role.set_title(data.labels["by_role"])
    output = io.BytesIO()
    figure.savefig(output, format="png")
    return Attachment(name=name, kind="image", mime="image/png", data=output.getvalue())


def _previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def _next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)
