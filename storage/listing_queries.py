"""One-statement pages for the report lists (``/open``, ``/mijnmeldingen``)."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import String, and_, cast, false, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import Category, Park, Person, Report, ReportRecipient


@dataclass(frozen=True)
class OpenRow:
    report: Report
    park: Park
    category: Category
    lead: Person | None


def routed_to(role: str):
    """``Report.roles`` (a JSON list) holds ``role``: a text match that reads the same on every database."""
    escaped = role.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(Report.roles, String).like(f'%"{escaped}"%', escape="\\")


def open_reports_page(session: Session, person_id: int, roles: Iterable[tuple[int, str]], *, limit: int,
                      offset: int) -> tuple[list[OpenRow], int]:
    """Open reports delivered to the official, in parks where they still hold a role the report is
    routed to; oldest first. One statement: the page and (by a window) how many there are in all."""
    by_role: dict[str, set[int]] = {}
    for park_id, role in roles:
        by_role.setdefault(role, set()).add(park_id)
    still_routed = or_(false(), *(and_(col(Report.park_id).in_(sorted(parks)), routed_to(role))
                                  for role, parks in sorted(by_role.items())))
    lead = aliased(Person)
    rows = session.exec(
        select(Report, Park, Category, lead, func.count().over().label("total"))
        .join(ReportRecipient, col(ReportRecipient.report_id) == col(Report.id))
        .join(Park, col(Park.id) == col(Report.park_id))
        .join(Category, col(Category.id) == col(Report.category_id))
        .outerjoin(lead, col(lead.id) == col(Report.lead_person_id))
        .where(ReportRecipient.person_id == person_id, Report.status == "open", still_routed)
        .order_by(col(Report.created_at), col(Report.id)).limit(limit).offset(offset)
    ).all()
    total = rows[0][-1] if rows else 0
    if not rows and offset:
        total = session.exec(
            select(func.count()).select_from(Report)
            .join(ReportRecipient, col(ReportRecipient.report_id) == col(Report.id))
            .where(ReportRecipient.person_id == person_id, Report.status == "open", still_routed)).one()
    return [OpenRow(report, park, category, person) for report, park, category, person, _ in rows], total


def my_reports_page(session: Session, person_id: int, limit: int) -> list[tuple[Report, Park, Category]]:
    """A reporter's latest reports, newest first, with their park and category."""
    return list(session.exec(
        select(Report, Park, Category).join(Park, col(Park.id) == col(Report.park_id))
        .join(Category, col(Category.id) == col(Report.category_id))
        .where(Report.reporter_person_id == person_id)
        .order_by(col(Report.created_at).desc(), col(Report.id).desc()).limit(limit)).all())
