"""One-statement pages for the report lists (``/open``, ``/mijnmeldingen``)."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import String, and_, cast, false, func, literal_column, or_
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
    routed to; oldest first. One statement: the page and how many there are in all.

    It starts from the open reports of the official's parks (the partial index ``ix_report_open``,
    which carries ``roles`` and whose size follows what is open, not the history), checks delivery
    per report (``ix_reportrecipient_person_report``) and joins only the page's rows to their park,
    category and lead. Starting from everything ever delivered to the official instead grows with
    the years: a coordinator of 100 parks gets tens of thousands of reports. Paging by offset over
    that set costs nothing measurable (it is counted in full for the header anyway), so the page
    buttons keep their page numbers instead of keys.
    """
    by_role: dict[str, set[int]] = {}
    for park_id, role in roles:
        by_role.setdefault(role, set()).add(park_id)
    parks = sorted(set().union(*by_role.values()))
    still_routed = or_(false(), *(and_(col(Report.park_id).in_(sorted(parks_of_role)), routed_to(role))
                                  for role, parks_of_role in sorted(by_role.items()))) if len(by_role) > 1 \
        else or_(false(), *(routed_to(role) for role in by_role))
    delivered = select(ReportRecipient.report_id).where(
        col(ReportRecipient.report_id) == col(Report.id), ReportRecipient.person_id == person_id).exists()
    # 'open' written into the statement, not bound: SQLite uses a partial index only for a literal match.
    matching = select(col(Report.id).label("id"), col(Report.created_at).label("created_at")).where(
        col(Report.status) == literal_column("'open'"), col(Report.park_id).in_(parks), still_routed,
        delivered).cte("matching")
    page = select(matching.c.id).order_by(matching.c.created_at, matching.c.id).limit(limit).offset(offset) \
        .subquery("page")
    total = select(func.count()).select_from(matching).scalar_subquery()
    lead = aliased(Person)
    rows = session.exec(
        select(Report, Park, Category, lead, total.label("total"))
        .join(page, page.c.id == col(Report.id))
        .join(Park, col(Park.id) == col(Report.park_id))
        .join(Category, col(Category.id) == col(Report.category_id))
        .outerjoin(lead, col(lead.id) == col(Report.lead_person_id))
        .order_by(col(Report.created_at), col(Report.id))
    ).all()
    total = rows[0][-1] if rows else 0
    if not rows and offset:
        total = session.exec(select(func.count()).select_from(matching)).one()
    return [OpenRow(report, park, category, person) for report, park, category, person, _ in rows], total


def my_reports_page(session: Session, person_id: int, limit: int) -> list[tuple[Report, Park, Category]]:
    """A reporter's latest reports, newest first, with their park and category."""
    return list(session.exec(
        select(Report, Park, Category).join(Park, col(Park.id) == col(Report.park_id))
        .join(Category, col(Category.id) == col(Report.category_id))
        .where(Report.reporter_person_id == person_id)
        .order_by(col(Report.created_at).desc(), col(Report.id).desc()).limit(limit)).all())
