"""Reciprocity figures per park and period: did reporters hear back, and how fast.

Definitions (the same in the chat, the CSV and the tests):

* **Period.** A report belongs to the period ``[since, until)`` (naive UTC) when it was
  delivered (``Report.created_at``) in it. Every figure is about the reports of the period.
* **Reports** counts them all; **withdrawn** counts those the reporter withdrew. Withdrawn
  reports take no further part: every feedback, timing, rating and overdue figure is over
  the *considered* reports (reports minus withdrawn).
* **With feedback**: considered reports with a first feedback delivered to the reporter
  (``first_feedback_at``; closing always sends a message, so closed reports count).
  The share is ``with_feedback / considered``.
* **Time to first feedback**: ``first_feedback_at - created_at`` over the considered reports
  that got feedback. The median and the 90th percentile use the *nearest-rank* definition:
  with the n times sorted ascending, the p-th percentile is the value at rank
  ``ceil(p / 100 * n)`` (1-based). It is always an observed time, never an interpolation;
  for an even n the median is the lower of the two middle values.
* **Rated**: considered reports the reporter rated; the **answered share** is the part of
  those rated "answers my report" (``rating == "answered"``).
* **Overdue** (at ``now``): considered reports still open, with no feedback, whose reminder
  moment has passed: at least one reminder went out (``reminder_count >= 1``) or the first
  one is due and the sweep has not run yet (``next_reminder_at <= now``).
* **By category**: the same figures per report category (categories with reports in the
  period). **By role**: the same figures per official role the report was routed to; a
  report routed to two roles counts for both.
* **Role filter**: ``park_figures(..., role=...)`` keeps only the reports routed to that role
  (or to any of several roles) and only those roles in the role breakdown; this is what an
  official sees (:func:`figures_access`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_interval, format_timedelta
from babel.numbers import format_percent
from sqlmodel import Session, select

from handlers.i18n import Markup, Translator
from handlers.rendering import role_label
from storage.figures_months import WaitGroup, histogram_percentile, long_period_groups, waits_of
from storage.models import Category
from storage.queries import ADMIN, role_names
from storage.statistics_queries import GroupCounts, feedback_wait_percentiles, group_counts

__all__ = [
    "Figures", "CategoryFigures", "RoleFigures", "ParkFigures", "FiguresAccess", "PeriodError",
    "park_figures", "figures_access", "nearest_rank", "parse_period", "period_label", "render_figures",
    "figure_rows", "figures_to_csv", "CSV_COLUMNS", "MAX_BREAKDOWN_ROWS", "DEFAULT_PERIOD_DAYS",
]

MAX_BREAKDOWN_ROWS = 10
MESSAGE_LIMIT = 4096
DEFAULT_PERIOD_DAYS = 30
ALL_TIME_START = datetime(1970, 1, 1)
PERCENTS = (50, 90)
# Periods longer than this (``alles``, ``400d``) read their whole months from the monthly summaries
# (storage/figures_months.py), so they cost the same however long the park's history: their
# percentiles of the time to first feedback are then the nearest-rank ones within 0.25%.
SUMMARIZED_AFTER = timedelta(days=366)


# ---- figures --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """The reciprocity figures of one set of reports (see the module docstring for definitions)."""

    reports: int
    withdrawn: int
    with_feedback: int
    median_to_feedback: timedelta | None
    p90_to_feedback: timedelta | None
    rated: int
    rated_answered: int
    overdue: int

    @property
    def considered(self) -> int:
        """Reports that count for the feedback figures: all but the withdrawn ones."""
        return self.reports - self.withdrawn

    @property
    def feedback_share(self) -> float | None:
        return self.with_feedback / self.considered if self.considered else None

    @property
    def rated_answered_share(self) -> float | None:
        return self.rated_answered / self.rated if self.rated else None


@dataclass(frozen=True)
class CategoryFigures(Figures):
    key: str
    name_nl: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_nl


@dataclass(frozen=True)
class RoleFigures(Figures):
    role: str


@dataclass(frozen=True)
class ParkFigures(Figures):
    """A park's figures for a period, with breakdowns by category and by official role."""

    park_id: int
    since: datetime
    until: datetime
    roles: tuple[str, ...] | None  # the role filter; None: every report of the park
    by_category: tuple[CategoryFigures, ...]
    by_role: tuple[RoleFigures, ...]


def nearest_rank(sorted_values: Sequence, percent: int):
    """The ``percent``-th percentile of ascending values by nearest rank: rank ``ceil(p/100·n)``."""
    if not sorted_values:
        return None
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100], got {percent}")
    rank = -(-percent * len(sorted_values) // 100)  # integer ceil, no float rounding
    return sorted_values[rank - 1]


def _figures(groups: Iterable[GroupCounts], waits: dict[int, timedelta]) -> dict:
    """Sum the counts of some groups; the percentiles come ready from the database."""
    totals = dict(reports=0, withdrawn=0, with_feedback=0, rated=0, rated_answered=0, overdue=0)
    for group in groups:
        for name in totals:
            totals[name] += getattr(group, name)
    return dict(totals, median_to_feedback=waits.get(50), p90_to_feedback=waits.get(90))


def _histogram_percentiles(groups: Iterable[WaitGroup]) -> dict[int, timedelta]:
    """The percentiles of the waits of some groups of a long period (approximate: see SUMMARIZED_AFTER)."""
    waits = waits_of(groups)
    return {percent: histogram_percentile(waits, percent) for percent in PERCENTS} if waits else {}


def role_filter(role: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if role is None:
        return None
    if isinstance(role, str):
        return (role,)
    return tuple(sorted(set(role)))


def park_figures(session: Session, park_id: int, since: datetime, until: datetime, now: datetime,
                 role: str | Iterable[str] | None = None) -> ParkFigures:
    """The park's figures over reports delivered in ``[since, until)``; ``role`` keeps only reports
    routed to that role (or to any of several roles). Aggregated by the database: a few statements
    whatever the number of reports."""
    roles_filter = role_filter(role)
    summarized = until - since > SUMMARIZED_AFTER
    groups: Sequence[GroupCounts | WaitGroup] = (
        long_period_groups(session, park_id, since, until, now, roles_filter) if summarized
        else group_counts(session, park_id, since, until, now, roles_filter))

    categories = {category.id: category for category in session.exec(
        select(Category).where(Category.park_id == park_id))}
    per_category: dict[int, list[GroupCounts]] = {}
    per_role: dict[str, list[GroupCounts]] = {}
    for group in groups:
        per_category.setdefault(group.category_id, []).append(group)
        for routed in dict.fromkeys(group.roles):
            if roles_filter is None or routed in roles_filter:
                per_role.setdefault(routed, []).append(group)

    breakdowns = {("all", None): groups, **{("category", category_id): category_groups
                                             for category_id, category_groups in per_category.items()},
                  **{("role", routed): role_groups for routed, role_groups in per_role.items()}}
    if summarized:
        waits = {key: _histogram_percentiles(key_groups) for key, key_groups in breakdowns.items()}
    else:
        answered = {key: sum(group.with_feedback for group in key_groups) for key, key_groups in breakdowns.items()}
        waits = feedback_wait_percentiles(session, park_id, since, until, roles_filter, PERCENTS, answered)

    def reports(item) -> int:
        return sum(group.reports for group in item[1])

    def category_order(item):
        category = categories.get(item[0])
        return (-reports(item), category.position if category else 0, item[0])

    by_category = tuple(
        CategoryFigures(**_figures(category_groups, waits.get(("category", category_id), {})),
                        key=categories[category_id].key, name_nl=categories[category_id].name_nl,
                        name_en=categories[category_id].name_en)
        for category_id, category_groups in sorted(per_category.items(), key=category_order)
    )
    by_role = tuple(
        RoleFigures(**_figures(role_groups, waits.get(("role", routed), {})), role=routed)
        for routed, role_groups in sorted(per_role.items(), key=lambda item: (-reports(item), item[0]))
    )
    return ParkFigures(**_figures(groups, waits.get(("all", None), {})), park_id=park_id, since=since,
                       until=until, roles=roles_filter, by_category=by_category, by_role=by_role)


@dataclass(frozen=True)
class FiguresAccess:
    """What a person may see of a park's figures."""

    allowed: bool
    roles: tuple[str, ...] | None  # pass as ``park_figures(..., role=roles)``; None: everything (admin)


def figures_access(session: Session, person_id: int, park_id: int) -> FiguresAccess:
    """Admins see the whole park; an official sees the reports routed to their own role(s); others nothing."""
    held = set(role_names(session, person_id, park_id))
    if ADMIN in held:
        return FiguresAccess(allowed=True, roles=None)
    if held:
        return FiguresAccess(allowed=True, roles=tuple(sorted(held)))
    return FiguresAccess(allowed=False, roles=())


# ---- periods --------------------------------------------------------------------------------------

class PeriodError(ValueError):
    """A period the parser does not know; ``key`` is the message to show (``stats.error.period``)."""

    def __init__(self, text: str):
        super().__init__(PeriodError.key)
        self.text = text

    key = "stats.error.period"


_DAYS = re.compile(r"(\d{1,4})\s*(d|dag|dagen|day|days)", re.ASCII)
_WEEKS = re.compile(r"(\d{1,3})\s*(w|wk|week|weken|weeks)", re.ASCII)
_NAMED = {
    "vandaag": 1, "today": 1,
    "week": 7, "maand": 30, "month": 30, "jaar": 365, "year": 365,
}
_NAMED_LABEL = {1: "stats.period.today", 7: "stats.period.week", 30: "stats.period.month", 365: "stats.period.year"}
_ALL = {"alles", "all", "altijd", "always"}
_MAX_DAYS = 3660


def _zone(timezone: str | ZoneInfo) -> ZoneInfo:
    return timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)


def local_midnight_utc(day: date, timezone: str | ZoneInfo) -> datetime:
    """Naive UTC of 00:00 on ``day`` in the park's timezone."""
    zone = _zone(timezone)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def local_date(moment: datetime, timezone: str | ZoneInfo) -> date:
    """The park's calendar day of a naive UTC moment."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(_zone(timezone)).date()


def parse_period(text: str | None, now: datetime, timezone: str | ZoneInfo) -> tuple[datetime, datetime, str]:
    """``(since, until, label_key)`` for a period as people type it, in whole days of the park's timezone.

    ``Nd`` (``7d``, ``14 dagen``) and ``Nw`` are the last N days (weeks) including today;
    ``vandaag``/``today`` is 1 day, ``week`` 7, ``maand``/``month`` 30, ``jaar``/``year`` 365;
    ``alles``/``all`` is everything up to today; empty means the last 30 days. ``until`` is the
    coming midnight, so every report of today counts. Raises :class:`PeriodError` otherwise.
    """
    word = (text or "").strip().lower()
    today = local_date(now, timezone)
    until = local_midnight_utc(today + timedelta(days=1), timezone)
    if word in _ALL:
        return ALL_TIME_START, until, "stats.period.all"
    if not word:
        days = DEFAULT_PERIOD_DAYS
    elif word in _NAMED:
        days = _NAMED[word]
    elif match := _DAYS.fullmatch(word):
        days = int(match.group(1))
    elif match := _WEEKS.fullmatch(word):
        days = 7 * int(match.group(1))
    else:
        raise PeriodError(word)
    if not 1 <= days <= _MAX_DAYS:
        raise PeriodError(word)
    since = local_midnight_utc(today - timedelta(days=days - 1), timezone)
    label = _NAMED_LABEL.get(days, "stats.period.days") if word in _NAMED else (
        "stats.period.today" if days == 1 else "stats.period.days")
    return since, until, label


def period_label(texts: Translator, language: str, since: datetime, until: datetime, label_key: str,
                 timezone: str | ZoneInfo) -> Markup:
    """The period as people read it: "laatste 7 dagen (24–30 nov 2026)"."""
    first = local_date(since, timezone)
    last = local_date(until - timedelta(microseconds=1), timezone)
    if last < first:
        last = first
    span = format_interval(first, last, "yMMMd", locale=language)
    return texts(language, label_key, days=(last - first).days + 1, range=span)


# ---- chat text ------------------------------------------------------------------------------------

def format_share(share: float | None, language: str) -> str:
    """A whole percentage that never shows 0% or 100% unless it is exactly so."""
    if share is None:
        return "–"
    percent = round(share * 100)
    if share > 0 and percent == 0:
        percent = 1
    elif share < 1 and percent == 100:
        percent = 99
    return format_percent(percent / 100, locale=language)


def format_wait(wait: timedelta | None, language: str) -> str:
    if wait is None:
        return "–"
    return format_timedelta(wait, threshold=1, locale=language)


def _row_line(texts: Translator, language: str, name: str, figures: Figures) -> Markup:
    return texts(language, "stats.row", name=name, reports=figures.reports,
                 share=format_share(figures.feedback_share, language),
                 median=format_wait(figures.median_to_feedback, language), overdue=figures.overdue)


def _breakdown(texts: Translator, language: str, heading: str, lines: list[Markup], limit: int) -> list[Markup]:
    """A heading and at most ``limit`` rows, then how many more there are."""
    if not lines:
        return []
    shown = lines[:limit]
    if len(lines) > len(shown):
        shown.append(texts(language, "stats.more_rows", count=len(lines) - len(shown)))
    return [Markup(""), texts(language, heading), *shown]


def render_figures(texts: Translator, language: str, park_name: str, period_label: str,
                   figures: ParkFigures) -> str:
    """The figures as a chat message (HTML fragment, under Telegram's 4096 characters)."""
    t = lambda key, **values: texts(language, key, **values)  # noqa: E731
    head = [t("stats.title", park=park_name), t("stats.period", period=period_label)]
    if figures.roles is not None:
        head.append(t("stats.roles_only", roles=", ".join(role_label(texts, language, r) for r in figures.roles)))
    if figures.reports == 0:
        return "\n".join([*head, "", t("stats.empty")])
    body = [Markup(""), t("stats.reports_withdrawn", count=figures.reports, withdrawn=figures.withdrawn)
            if figures.withdrawn else t("stats.reports", count=figures.reports)]
    body.append(t("stats.feedback", share=format_share(figures.feedback_share, language),
                  count=figures.with_feedback, total=figures.considered))
    if figures.median_to_feedback is None:
        body.append(t("stats.time_to_feedback_none"))
    else:
        body.append(t("stats.time_to_feedback", median=format_wait(figures.median_to_feedback, language),
                      p90=format_wait(figures.p90_to_feedback, language)))
    body.append(t("stats.rating", rated=figures.rated, answered=figures.rated_answered,
                  share=format_share(figures.rated_answered_share, language))
                if figures.rated else t("stats.rating_none"))
    body.append(t("stats.overdue", count=figures.overdue))
    categories = [_row_line(texts, language, c.name(language), c) for c in figures.by_category]
    roles = [_row_line(texts, language, role_label(texts, language, r.role), r) for r in figures.by_role]
    limit = MAX_BREAKDOWN_ROWS
    while True:
        text = "\n".join([*head, *body, *_breakdown(texts, language, "stats.by_category", categories, limit),
                          *_breakdown(texts, language, "stats.by_role", roles, limit)])
        if len(text) <= MESSAGE_LIMIT or limit == 0:
            return text
        limit -= 1


# ---- CSV --------------------------------------------------------------------------------------------

CSV_COLUMNS = ("scope", "reports", "withdrawn", "with_feedback", "feedback_share", "median_to_feedback_s",
               "p90_to_feedback_s", "rated", "rated_answered", "rated_answered_share", "overdue")


def figure_rows(figures: ParkFigures) -> list[tuple[str, Figures]]:
    """``(scope, figures)`` rows: the park, then each category, then each role."""
    return ([("park", figures)]
            + [(f"category:{c.key}", c) for c in figures.by_category]
            + [(f"role:{r.role}", r) for r in figures.by_role])


def _seconds(wait: timedelta | None) -> str:
    if wait is None:
        return ""
    seconds = wait.total_seconds()
    return str(int(seconds)) if seconds == int(seconds) else f"{seconds:.3f}"


def _decimal(share: float | None) -> str:
    return "" if share is None else f"{share:.4f}"


def figures_to_csv(rows: Iterable[tuple[str, Figures]]) -> str:
    """CSV with a header row; durations in seconds and shares as decimals (blank when there are none)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for scope, figures in rows:
        writer.writerow([scope, figures.reports, figures.withdrawn, figures.with_feedback,
                         _decimal(figures.feedback_share), _seconds(figures.median_to_feedback),
                         _seconds(figures.p90_to_feedback), figures.rated, figures.rated_answered,
                         _decimal(figures.rated_answered_share), figures.overdue])
    return out.getvalue()
