"""The reciprocity figures' raw numbers, aggregated by the database (never a row per report in Python).

Counts come from one ``GROUP BY`` over the park's reports of the period (index
``ix_report_park_figures``, which carries every column these queries read, so no table page is
visited); nearest-rank percentiles of the time to first feedback from one window query, which
returns only the rows at the wanted ranks.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, and_, case, cast, func, literal, or_, text
from sqlmodel import Session, col, select

from storage.listing_queries import routed_to
from storage.models import Report


@dataclass(frozen=True)
class GroupCounts:
    """Counts over the reports of one category routed to one set of roles."""

    category_id: int
    roles: tuple[str, ...]
    reports: int
    withdrawn: int
    with_feedback: int
    rated: int
    rated_answered: int
    overdue: int


def _period(park_id: int, since: datetime, until: datetime, roles: Sequence[str] | None) -> list:
    conditions = [Report.park_id == park_id, col(Report.created_at) >= since, col(Report.created_at) < until]
    if roles is not None:
        conditions.append(or_(*(routed_to(role) for role in roles)) if roles else literal(False))
    return conditions


def count_where(condition) -> object:
    """How many rows of the group meet ``condition`` (0 for none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def overdue_at(now: datetime):
    """The report is overdue at ``now``: open, no feedback, and reminded or due for its first reminder."""
    return and_(Report.status == "open", col(Report.first_feedback_at).is_(None), or_(
        col(Report.reminder_count) >= 1,
        and_(col(Report.next_reminder_at).is_not(None), col(Report.next_reminder_at) <= now)))


def group_counts(session: Session, park_id: int, since: datetime, until: datetime, now: datetime,
                 roles: Sequence[str] | None) -> list[GroupCounts]:
    """Counts per (category, routed roles) of the park's reports delivered in ``[since, until)``."""
    considered = Report.status != "withdrawn"
    feedback = col(Report.first_feedback_at).is_not(None)
    roles_text = cast(Report.roles, String)
    overdue = overdue_at(now)
    rows = session.exec(
        select(Report.category_id, roles_text, func.count(),
               count_where(Report.status == "withdrawn"), count_where(and_(considered, feedback)),
               count_where(and_(considered, col(Report.rating).is_not(None))),
               count_where(and_(considered, Report.rating == "answered")), count_where(overdue))
        .where(*_period(park_id, since, until, roles)).group_by(Report.category_id, roles_text)
    ).all()
    return [GroupCounts(category_id, tuple(json.loads(text) or ()), *(int(value) for value in values))
            for category_id, text, *values in rows]


def feedback_wait_percentiles(session: Session, park_id: int, since: datetime, until: datetime,
                              roles: Sequence[str] | None, percents: Sequence[int],
                              counts: dict[tuple[str, object], int]) -> dict[tuple[str, object], dict[int, timedelta]]:
    """Nearest-rank percentiles of the time to first feedback over considered reports, for each
    breakdown in ``counts``: all (key ``("all", None)``), a category (``("category", id)``) or a
    routed role (``("role", name)``), each with how many considered reports with feedback it has
    (known from :func:`group_counts`). One statement.

    The p-th percentile of n sorted waits is the one at rank ``ceil(p·n/100)``; the database
    numbers the waits in order once per kind of breakdown (window functions over one scan of the
    index) and returns just the rows at the wanted ranks. The counts come in as numbers, so the
    database need not count each partition again.
    """
    wanted_ranks = {key: sorted({-(-percent * n // 100) for percent in percents}) for key, n in counts.items() if n}
    if not wanted_ranks:
        return {}
    routed = sorted(key[1] for key in wanted_ranks if key[0] == "role")
    waited = col(Report.first_feedback_at) - col(Report.created_at)
    if session.get_bind().dialect.name == "sqlite":
        waited = func.julianday(Report.first_feedback_at) - func.julianday(Report.created_at)
    order = (waited, col(Report.id))
    flags = [case((routed_to(role), 1), else_=0) for role in routed]
    columns = [col(Report.category_id).label("category_id"), col(Report.created_at).label("created_at"),
               col(Report.first_feedback_at).label("feedback_at"),
               func.row_number().over(order_by=order).label("rank_all"),
               func.row_number().over(partition_by=Report.category_id, order_by=order).label("rank_category")]
    for index, flag in enumerate(flags):
        columns += [flag.label(f"routed_{index}"),
                    func.row_number().over(partition_by=flag, order_by=order).label(f"rank_{index}")]
    numbered = select(*columns).where(*_period(park_id, since, until, roles), Report.status != "withdrawn",
                                      col(Report.first_feedback_at).is_not(None)).subquery()
    wanted = []
    for (kind, value), ranks in wanted_ranks.items():
        if kind == "all":
            wanted.append(numbered.c.rank_all.in_(ranks))
        elif kind == "category":
            wanted.append(and_(numbered.c.category_id == value, numbered.c.rank_category.in_(ranks)))
        else:
            index = routed.index(value)
            wanted.append(and_(numbered.c[f"routed_{index}"] == 1, numbered.c[f"rank_{index}"].in_(ranks)))
    result: dict[tuple[str, object], dict[int, timedelta]] = {}

    def note(key, rank: int, wait: timedelta) -> None:
        n = counts.get(key, 0)
        for percent in percents:
            if rank == -(-percent * n // 100):
                result.setdefault(key, {})[percent] = wait
    for row in session.execute(select(numbered).where(or_(*wanted))).mappings():
        wait = max(row["feedback_at"] - row["created_at"], timedelta(0))
        note(("all", None), row["rank_all"], wait)
        note(("category", row["category_id"]), row["rank_category"], wait)
        for index, role in enumerate(routed):
            if row[f"routed_{index}"] == 1:
                note(("role", role), row[f"rank_{index}"], wait)
    return result
