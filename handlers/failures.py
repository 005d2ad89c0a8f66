"""What happens when a message can never be delivered (blocked bot, never pressed Start)."""

from sqlmodel import Session, col, select

from handlers.outbox import enqueue_to
from handlers.rendering import report_number
from handlers.services import Services
from storage.models import OutboxMessage, Park, Person, Report, ReportEvent
from storage.queries import ADMIN, people_with_roles


def on_permanent_failure(session: Session, services: Services, row: OutboxMessage) -> None:
    """Called in the transaction that marks ``row`` failed: tell someone who can act."""
    if row.report_id is None:
        return
    report = session.get(Report, row.report_id)
    park = session.get(Park, report.park_id)
    if row.purpose == "delivery" and not _delivered_anywhere(session, report.id):
        for admin in people_with_roles(session, park.id, [ADMIN]):
            _tell(session, services, admin, "admin.unreachable_report", number=report_number(park, report),
                  report_id=report.id)
    elif row.purpose == "feedback":
        author = _last_author(session, report.id, ("feedback", "close"))
        if author is not None:
            _tell(session, services, author, "feedback.unreachable_reporter", number=report_number(park, report),
                  report_id=report.id)


def _delivered_anywhere(session: Session, report_id: int) -> bool:
    """True while any delivery of the report was sent or may still be sent."""
    return session.exec(select(OutboxMessage.id).where(
        OutboxMessage.report_id == report_id, OutboxMessage.purpose == "delivery",
        col(OutboxMessage.status).in_(["sent", "pending"]))).first() is not None


def _last_author(session: Session, report_id: int, kinds: tuple[str, ...]) -> Person | None:
    event = session.exec(select(ReportEvent).where(
        ReportEvent.report_id == report_id, col(ReportEvent.kind).in_(kinds))
        .order_by(col(ReportEvent.id).desc())).first()
    return session.get(Person, event.person_id) if event and event.person_id else None


def _tell(session: Session, services: Services, person: Person, key: str, *, report_id: int, **values) -> None:
    texts = services.texts.on(person.platform)
    enqueue_to(session, now=services.clock.now(), person=person,
               text=texts(texts.language_for(person.language), key, **values), purpose="alert", report_id=report_id)
