"""The reciprocity figures' raw numbers, aggregated by the database (never a row per report in Python).

Counts come from one ``GROUP BY`` over the park's reports of the period (index
``ix_report_park_created``); nearest-rank percentiles of the time to first feedback from a
window query per breakdown, which returns only the rows at the wanted ranks.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, and_, case, cast, func, literal, or_
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


def _count(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def group_counts(session: Session, park_id: int, since: datetime, until: datetime, now: datetime,
                 roles: Sequence[str] | None) -> list[GroupCounts]:
    """Counts per (category, routed roles) of the park's reports delivered in ``[since, until)``."""
    considered = Report.status != "withdrawn"
    feedback = col(Report.first_feedback_at).is_not(None)
    roles_text = cast(Report.roles, String)
    overdue = and_(Report.status == "open", col(Report.first_feedback_at).is_(None), or_(
        col(Report.reminder_count) >= 1,
        and_(col(Report.next_reminder_at).is_not(None), col(Report.next_reminder_at) <= now)))
    rows = session.exec(
        select(Report.category_id, roles_text, func.count(),
               _count(Report.status == "withdrawn"), _count(and_(considered, feedback)),
               _count(and_(considered, col(Report.rating).is_not(None))),
               _count(and_(considered, Report.rating == "answered")), _count(overdue))
        .where(*_period(park_id, since, until, roles)).group_by(Report.category_id, roles_text)
    ).all()
    return [GroupCounts(category_id, tuple(json.loads(text) or ()), *(int(value) for value in values))
            for category_id, text, *values in rows]


def feedback_waits_at_ranks(session: Session, park_id: int, since: datetime, until: datetime,
                            roles: Sequence[str] | None, percents: Sequence[int], by_category: bool = False,
                            routed: str | None = None) -> dict[int | None, dict[int, timedelta]]:
    """Nearest-rank percentiles of the time to first feedback over considered reports, per category
    (``by_category``) or for all (key ``None``); ``routed`` keeps only reports routed to that role.

    The p-th percentile of n sorted waits is the one at rank ``ceil(p·n/100)``; the database numbers
    the waits in order and returns just those rows.
    """
    waited = col(Report.first_feedback_at) - col(Report.created_at)
    if session.get_bind().dialect.name == "sqlite":
        waited = func.julianday(Report.first_feedback_at) - func.julianday(Report.created_at)
    partition = [Report.category_id] if by_category else []
    conditions = _period(park_id, since, until, roles) + [
        Report.status != "withdrawn", col(Report.first_feedback_at).is_not(None)]
    if routed is not None:
        conditions.append(routed_to(routed))
    numbered = (
        select((Report.category_id if by_category else literal(None, Integer)).label("part"),
               col(Report.created_at).label("created_at"), col(Report.first_feedback_at).label("feedback_at"),
               func.row_number().over(partition_by=partition, order_by=(waited, col(Report.id))).label("rank"),
               func.count().over(partition_by=partition).label("n"))
        .where(*conditions).subquery())
    wanted = or_(*((numbered.c.rank == (percent * numbered.c.n + 99) // 100) for percent in percents))
    result: dict[int | None, dict[int, timedelta]] = {}
    for part, created_at, feedback_at, rank, n in session.exec(
            select(numbered.c.part, numbered.c.created_at, numbered.c.feedback_at, numbered.c.rank, numbered.c.n)
            .where(wanted)).all():
        for percent in percents:
            if rank == -(-percent * n // 100):
                result.setdefault(part, {})[percent] = max(feedback_at - created_at, timedelta(0))
    return result
