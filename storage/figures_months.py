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

from sqlalchemy import String, and_, bindparam, case, cast, func, or_, update
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


def waits_of(groups: Iterable[WaitGroup]) -> dict[int, int]:
    """The histogram of the waits of some groups together."""
    waits: dict[int, int] = {}
    for group in groups:
        for bucket, count in group.waits.items():
            waits[bucket] = waits.get(bucket, 0) + count
    return waits


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

    def add(self, other: WaitGroup, sign: int = 1) -> None:
        """Add (``sign`` -1: take away) another group's counts and waits."""
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))
        for bucket, count in other.waits.items():
            left = self.waits.get(bucket, 0) + sign * count
            if left:
                self.waits[bucket] = left
            else:
                self.waits.pop(bucket, None)

    def encoded(self) -> list:
        return [self.category_id, list(self.roles), self.reports, self.withdrawn, self.with_feedback, self.rated,
                self.rated_answered, sorted(self.waits.items())]

    @classmethod
    def decoded(cls, item: list) -> WaitGroup:
        category_id, roles, reports, withdrawn, with_feedback, rated, rated_answered, waits = item
        return cls(category_id, tuple(roles), reports, withdrawn, with_feedback, rated, rated_answered,
                   waits={bucket: count for bucket, count in waits})


def merged(groups: Iterable[WaitGroup], taken_away: Iterable[WaitGroup] = ()) -> list[WaitGroup]:
    """One group per category and routed roles (in the order first met): ``groups`` less ``taken_away``."""
    by_key: dict[tuple[int, tuple[str, ...]], WaitGroup] = {}
    for sign, some in ((1, groups), (-1, taken_away)):
        for group in some:
            key = (group.category_id, group.roles)
            if key not in by_key:
                by_key[key] = WaitGroup(*key)
            by_key[key].add(group, sign)
    return [group for group in by_key.values() if group.reports or group.overdue]


def routed_to_any(groups: Iterable[WaitGroup], roles: Sequence[str] | None) -> list[WaitGroup]:
    """The groups routed to any of ``roles`` (all of them for None), as ``routed_to`` selects reports."""
    return list(groups) if roles is None else [group for group in groups if any(role in group.roles for role in roles)]


# ---- months --------------------------------------------------------------------------------------

def month_key(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def month_start(key: str) -> datetime:
    year, month = key.split("-")
    return datetime(int(year), int(month), 1)


def next_month(moment: datetime) -> datetime:
    return datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1)


def _month_of_created(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Report.created_at, "YYYY-MM", type_=String)
    return func.substr(Report.created_at, 1, 7, type_=String)


def _counted(session: Session, park_id: int, spans: Sequence[tuple[datetime, datetime]],
             by_span: bool = False) -> dict:
    """The groups of the park's reports delivered within ``spans`` (sorted, apart), counted from the
    reports (``ix_report_park_figures``, which carries the columns read), per month (``"YYYY-MM"``)
    or, ``by_span``, per span (its index): two statements."""
    if not spans:
        return {}
    key = case(*((col(Report.created_at) < until, index) for index, (_, until) in enumerate(spans))) \
        if by_span else _month_of_created(session)
    roles_text = cast(Report.roles, String)
    within = [Report.park_id == park_id, or_(*(and_(col(Report.created_at) >= since, col(Report.created_at) < until)
                                              for since, until in spans))]
    considered = Report.status != "withdrawn"
    feedback = col(Report.first_feedback_at).is_not(None)
    groups: dict[tuple[str, int, str], WaitGroup] = {}
    for found, category_id, roles, *counts in session.execute(
            select(key, Report.category_id, roles_text, func.count(), count_where(Report.status == "withdrawn"),
                   count_where(and_(considered, feedback)), count_where(and_(considered, col(Report.rating).is_not(None))),
                   count_where(and_(considered, Report.rating == "answered")))
            .where(*within).group_by(key, Report.category_id, roles_text)):
        groups[found, category_id, roles] = WaitGroup(category_id, tuple(json.loads(roles) or ()),
                                                    *(int(count) for count in counts))
    for found, category_id, roles, created_at, feedback_at in session.execute(
            select(key, Report.category_id, roles_text, Report.created_at, Report.first_feedback_at)
            .where(*within, considered, feedback)):
        waits = groups[found, category_id, roles].waits
        bucket = wait_bucket((feedback_at - created_at).total_seconds())
        waits[bucket] = waits.get(bucket, 0) + 1
    by_key: dict = {}
    for (found, _, _), group in groups.items():
        by_key.setdefault(found, []).append(group)
    return by_key


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


def month_groups(session: Session, park_id: int, first: datetime, end: datetime) -> dict[str, list[WaitGroup]]:
    """The park's groups of each whole month in ``[first, end)`` that has reports: from the valid
    summaries, the other months counted from the reports and their summaries stored (see the
    module docstring)."""
    months = session.execute(
        select(FiguresMonth.month, FiguresMonth.version, FiguresMonth.summary_version, FiguresMonth.summary)
        .where(FiguresMonth.park_id == park_id, col(FiguresMonth.month) >= month_key(first),
               col(FiguresMonth.month) < month_key(end))).all()
    groups: dict[str, list[WaitGroup]] = {}
    stale: dict[str, int] = {}
    for month, version, summary_version, summary in months:
        if summary is not None and summary_version == version:
            groups[month] = [WaitGroup.decoded(item) for item in json.loads(summary)]
        else:
            stale[month] = version
    if not stale:
        return groups
    counted = _counted(session, park_id, _spans(sorted(stale)))
    for month in stale:
        groups[month] = counted.get(month, [])
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
    months at the ends and "overdue" from the reports; ``roles`` keeps the groups routed to any of them.

    A period that ends in the future (``alles`` ends tonight) takes its last month whole, less what
    lies after ``until``: nothing, as a rule, found through the index at no cost; the month it is
    in now is then counted once per change, not at every request."""
    first = month_start(month_key(since))
    if first < since:
        first = next_month(first)
    end = month_start(month_key(until))
    after: list[tuple[datetime, datetime]] = []
    if until > now and end < until:
        end, after = next_month(end), [(until, next_month(end))]
    if end <= first:  # no whole month: all of it from the reports
        first, before, after = None, [(since, until)], []
    else:
        before = ([(since, first)] if since < first else []) + ([(end, until)] if end < until else [])
    edges = _counted(session, park_id, before + after, by_span=True)
    groups = [group for index in range(len(before)) for group in edges.get(index, ())]
    later = [group for index in range(len(before), len(before) + len(after)) for group in edges.get(index, ())]
    if first is not None:
        groups += [group for month in month_groups(session, park_id, first, end).values() for group in month]
    groups += _overdue(session, park_id, since, until, now)
    return merged(routed_to_any(groups, roles), routed_to_any(later, roles))


def local_months(session: Session, park_id: int, boundaries: Sequence[datetime],
                 roles: Sequence[str] | None) -> list[list[WaitGroup]]:
    """The park's groups of each period ``[boundaries[i], boundaries[i+1])``, each a month of the
    park's own timezone (naive UTC, hours away from the UTC months): the UTC month that holds most
    of it from its summary, plus the hours of the period before that month, less those after it
    (one statement for all those hours)."""
    periods = list(zip(boundaries, boundaries[1:]))
    utc = [month_start(month_key(start + (end - start) / 2)) for start, end in periods]
    changes: list[list[tuple[tuple[datetime, datetime], int]]] = [[] for _ in periods]  # (hours, sign)
    for index, (start, end) in enumerate(periods):
        for edge, month, sign in ((start, utc[index], 1), (end, next_month(utc[index]), -1)):
            if edge != month:  # the hours between the period's edge and the UTC month's
                changes[index].append(((min(edge, month), max(edge, month)), sign if edge < month else -sign))
    slices = sorted({hours for change in changes for hours, _ in change})  # a month's end is the next's start
    counted = _counted(session, park_id, slices, by_span=True)
    by_slice = {hours: counted.get(position, []) for position, hours in enumerate(slices)}
    summaries = month_groups(session, park_id, utc[0], next_month(utc[-1])) if periods else {}
    result = []
    for index in range(len(periods)):
        plus = list(summaries.get(month_key(utc[index]), ()))
        minus: list[WaitGroup] = []
        for hours, sign in changes[index]:
            (plus if sign > 0 else minus).extend(by_slice[hours])
        result.append(merged(routed_to_any(plus, roles), routed_to_any(minus, roles)))
    return result


@dataclass(frozen=True)
class MonthFeedback:
    """The chart's figures of one period (a month): considered reports, those with feedback, the median wait."""

    considered: int
    with_feedback: int
    median_to_feedback: timedelta | None


def feedback_by_period(session: Session, park_id: int, boundaries: Sequence[datetime],
                       roles: Sequence[str] | None) -> list[MonthFeedback]:
    """For the consecutive months ``[boundaries[i], boundaries[i+1])`` of the park's timezone: the
    considered reports, those with feedback (as :func:`storage.statistics_queries.group_counts`
    counts them) and the median time to first feedback (from the histogram: within 0.25%)."""
    return [MonthFeedback(sum(group.reports - group.withdrawn for group in groups),
                          sum(group.with_feedback for group in groups), histogram_percentile(waits_of(groups), 50))
            for groups in local_months(session, park_id, boundaries, roles)]
