"""The figures of long periods from one summary per park and month (table ``figuresmonth``).

Counting a park's figures over everything it ever had read every report of the park (20,000 for
the largest park of the national benchmark), so ``/statistiek alles`` grew with the history. A
month's summary holds, per category and routed roles, the counts of
:class:`storage.statistics_queries.GroupCounts` except "overdue" (that depends on the moment: it
is counted live over the park's open reports, ``ix_report_open``) and a histogram of the times to
first feedback. Reading a long period sums the summaries of its whole months and counts the
partial months at its ends from the reports, so its cost follows the months, not the reports.

Percentiles cannot be added up from exact figures, so the histogram makes them approximate:
waits under a minute are kept to the second, longer ones in buckets 0.5% wide, each standing for
its geometric middle rounded to the second. A long period's median and 90th percentile are
therefore the nearest-rank ones within 0.25% (at most 15 s in an hour, 4 minutes in a day): the
chat shows them in whole units anyway (``format_timedelta``); the CSV's seconds are that close.

Freshness without trusting any writer: database triggers (migration ``0012_i10``) raise the
month's ``version`` whenever a report of it is added or changes in a column the figures read. A
summary counts only while ``summary_version`` equals ``version``; a stale or missing one is
computed from the reports and stored, unless the version moved meanwhile (the ``UPDATE`` names
the version it read before counting, so a change committed during the count leaves it stale).
On PostgreSQL the rows are locked ``SKIP LOCKED`` first: a month whose report is being written
right now is simply computed again next time, and the figures never wait for a writer.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import String, and_, bindparam, cast, func, or_, update
from sqlmodel import Session, col, select

from storage.models import FiguresMonth, Report
from storage.statistics_queries import count_where, overdue_at

EXACT_SECONDS = 60  # waits shorter than this are kept to the second
BUCKET_RATIO = 1.005  # longer ones in buckets this much wider than the last


def wait_bucket(seconds: float) -> int:
    """The histogram bucket of a wait (a negative one counts as none, as in the exact figures)."""
    seconds = max(seconds, 0.0)
    if seconds < EXACT_SECONDS:
        return int(seconds)
    return EXACT_SECONDS + int(math.log(seconds / EXACT_SECONDS, BUCKET_RATIO))


def bucket_wait(bucket: int) -> timedelta:
    """The wait a bucket stands for: its own second, or the geometric middle of its range."""
    if bucket < EXACT_SECONDS:
        return timedelta(seconds=bucket)
    low = EXACT_SECONDS * BUCKET_RATIO ** (bucket - EXACT_SECONDS)
    return timedelta(seconds=round(low * math.sqrt(BUCKET_RATIO)))


def histogram_percentile(histogram: dict[int, int], percent: int) -> timedelta | None:
    """The nearest-rank ``percent``-th percentile of the waits a histogram counts."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = -(-percent * total // 100), 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket_wait(bucket)
    raise AssertionError("unreachable: the ranks add up to the total")


@dataclass
class WaitGroup:
    """The counts and the waits of one category and set of routed roles."""

    category_id: int
    roles: tuple[str, ...]
    reports: int = 0
    withdrawn: int = 0
    with_feedback: int = 0
    rated: int = 0
    rated_answered: int = 0
    overdue: int = 0
    waits: dict[int, int] = field(default_factory=dict)

    COUNTS = ("reports", "withdrawn", "with_feedback", "rated", "rated_answered", "overdue")

    def add(self, other: WaitGroup) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for bucket, count in other.waits.items():
            self.waits[bucket] = self.waits.get(bucket, 0) + count

    def encoded(self) -> list:
        return [self.category_id, list(self.roles), self.reports, self.withdrawn, self.with_feedback, self.rated,
                self.rated_answered, sorted(self.waits.items())]

    @classmethod
    def decoded(cls, item: list) -> WaitGroup:
        category_id, roles, reports, withdrawn, with_feedback, rated, rated_answered, waits = item
        return cls(category_id, tuple(roles), reports, withdrawn, with_feedback, rated, rated_answered,
                   waits={bucket: count for bucket, count in waits})


def merged(groups: Iterable[WaitGroup]) -> list[WaitGroup]:
    """One group per category and routed roles, in the order first met."""
    by_key: dict[tuple[int, tuple[str, ...]], WaitGroup] = {}
    for group in groups:
        key = (group.category_id, group.roles)
        if key not in by_key:
            by_key[key] = WaitGroup(*key)
        by_key[key].add(group)
    return list(by_key.values())


# ---- months --------------------------------------------------------------------------------------

def month_key(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def month_start(key: str) -> datetime:
    year, month = key.split("-")
    return datetime(int(year), int(month), 1)


def next_month(moment: datetime) -> datetime:
    return datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1)


def whole_months(since: datetime, until: datetime) -> tuple[datetime, datetime] | None:
    """The whole UTC months inside ``[since, until)`` as ``(first month's start, end)``, if any."""
    first = month_start(month_key(since))
    if first < since:
        first = next_month(first)
    end = month_start(month_key(until))
    return (first, end) if first < end else None


def _month_of_created(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Report.created_at, "YYYY-MM", type_=String)
    return func.substr(Report.created_at, 1, 7, type_=String)


def _counted(session: Session, park_id: int, spans: Sequence[tuple[datetime, datetime]]) -> dict[str, list[WaitGroup]]:
    """Each month's groups of the park's reports delivered within ``spans``, counted from the reports
    (``ix_report_park_figures``, which carries the columns read): two statements."""
    month = _month_of_created(session)
    roles_text = cast(Report.roles, String)
    within = [Report.park_id == park_id, or_(*(and_(col(Report.created_at) >= since, col(Report.created_at) < until)
                                              for since, until in spans))]
    considered = Report.status != "withdrawn"
    feedback = col(Report.first_feedback_at).is_not(None)
    groups: dict[tuple[str, int, str], WaitGroup] = {}
    for key, category_id, roles, *counts in session.execute(
            select(month, Report.category_id, roles_text, func.count(), count_where(Report.status == "withdrawn"),
                   count_where(and_(considered, feedback)), count_where(and_(considered, col(Report.rating).is_not(None))),
                   count_where(and_(considered, Report.rating == "answered")))
            .where(*within).group_by(month, Report.category_id, roles_text)):
        groups[key, category_id, roles] = WaitGroup(category_id, tuple(json.loads(roles) or ()),
                                                    *(int(count) for count in counts))
    for key, category_id, roles, created_at, feedback_at in session.execute(
            select(month, Report.category_id, roles_text, Report.created_at, Report.first_feedback_at)
            .where(*within, considered, feedback)):
        waits = groups[key, category_id, roles].waits
        bucket = wait_bucket((feedback_at - created_at).total_seconds())
        waits[bucket] = waits.get(bucket, 0) + 1
    by_month: dict[str, list[WaitGroup]] = {}
    for (key, _, _), group in groups.items():
        by_month.setdefault(key, []).append(group)
    return by_month


def _spans(months: Sequence[str]) -> list[tuple[datetime, datetime]]:
    """Sorted months as date ranges, neighbours joined."""
    spans: list[tuple[datetime, datetime]] = []
    for key in months:
        start = month_start(key)
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], next_month(start))
        else:
            spans.append((start, next_month(start)))
    return spans


@functools.cache
def _store_summary():
    table = FiguresMonth.__table__
    return (update(table).where(table.c.park_id == bindparam("p_park"), table.c.month == bindparam("p_month"),
                                table.c.version == bindparam("p_version"))
            .values(summary=bindparam("p_summary"), summary_version=bindparam("p_version")))


def month_groups(session: Session, park_id: int, first: datetime, end: datetime) -> list[WaitGroup]:
    """The park's groups over the whole months ``[first, end)``: from the valid summaries, and the
    other months counted from the reports and their summaries stored (see the module docstring)."""
    months = session.execute(
        select(FiguresMonth.month, FiguresMonth.version, FiguresMonth.summary_version, FiguresMonth.summary)
        .where(FiguresMonth.park_id == park_id, col(FiguresMonth.month) >= month_key(first),
               col(FiguresMonth.month) < month_key(end))).all()
    groups: list[WaitGroup] = []
    stale: dict[str, int] = {}
    for month, version, summary_version, summary in months:
        if summary is not None and summary_version == version:
            groups.extend(WaitGroup.decoded(item) for item in json.loads(summary))
        else:
            stale[month] = version
    if not stale:
        return groups
    counted = _counted(session, park_id, _spans(sorted(stale)))
    for month in stale:
        groups.extend(counted.get(month, ()))
    writable = sorted(stale)
    if session.get_bind().dialect.name == "postgresql":
        writable = session.execute(
            select(FiguresMonth.month).where(FiguresMonth.park_id == park_id, col(FiguresMonth.month).in_(writable))
            .with_for_update(skip_locked=True)).scalars().all()
    if writable:
        session.execute(_store_summary(), [
            {"p_park": park_id, "p_month": month, "p_version": stale[month],
             "p_summary": json.dumps([group.encoded() for group in counted.get(month, ())], separators=(",", ":"))}
            for month in writable])
    return groups


def _overdue(session: Session, park_id: int, since: datetime, until: datetime, now: datetime) -> list[WaitGroup]:
    """Overdue reports per category and roles, counted live over the park's open ones (``ix_report_open``)."""
    roles_text = cast(Report.roles, String)
    return [WaitGroup(category_id, tuple(json.loads(roles) or ()), overdue=int(count))
            for category_id, roles, count in session.execute(
                select(Report.category_id, roles_text, func.count())
                .where(Report.park_id == park_id, col(Report.created_at) >= since, col(Report.created_at) < until,
                       overdue_at(now))
                .group_by(Report.category_id, roles_text))]


def long_period_groups(session: Session, park_id: int, since: datetime, until: datetime, now: datetime,
                       roles: Sequence[str] | None) -> list[WaitGroup]:
    """The park's groups over ``[since, until)``: the whole months from their summaries, the partial
    months at the ends and "overdue" from the reports; ``roles`` keeps the groups routed to any of them."""
    middle = whole_months(since, until)
    spans = [(since, until)] if middle is None else [(since, middle[0]), (middle[1], until)]
    spans = [(start, end) for start, end in spans if start < end]
    groups = [group for month in _counted(session, park_id, spans).values() for group in month] if spans else []
    if middle is not None:
        groups += month_groups(session, park_id, *middle)
    groups += _overdue(session, park_id, since, until, now)
    if roles is not None:
        groups = [group for group in groups if any(role in group.roles for role in roles)]
    return merged(groups)
