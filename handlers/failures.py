"""What happens when a message can never be delivered (blocked bot, never pressed Start, refused).

Whoever can act is told, in their own language: the official when their feedback, closing
message or question cannot reach the reporter; the park's admins when a report, an answer, a
reminder or a notice cannot reach an official (the reporter too, for an answer); the person
themselves when the platform refused a reply to them (too long, malformed). Alerts about
failures are never themselves reported, so a failure can never start a loop.
"""

from sqlmodel import Session, col, select

from handlers.outbox import enqueue_to
from handlers.rendering import report_number, role_label
from handlers.services import Services
from storage.models import OutboxMessage, Park, Person, Report, ReportEvent
from storage.queries import ADMIN, people_with_roles, role_names

TO_REPORTER = {"feedback": ("feedback", "close"), "question": ("question",)}
TO_OFFICIAL = ("delivery", "delivery_extra", "answer", "reminder", "notice", "escalation")


def on_permanent_failure(session: Session, services: Services, row: OutboxMessage) -> None:
    """Called in the transaction that marks ``row`` failed: tell someone who can act."""
    if row.purpose == "alert":
        return
    recipient = session.get(Person, row.recipient_person_id) if row.recipient_person_id else None
    report = session.get(Report, row.report_id) if row.report_id is not None else None
    if report is None:
        if recipient is not None and _refused(row):
            _tell(session, services, recipient, "failure.reply_refused", report_id=None)
        return
    park = session.get(Park, report.park_id)
    number = report_number(park, report)
    if row.purpose == "delivery" and not _delivered_anywhere(session, report.id):
        for admin in people_with_roles(session, park.id, [ADMIN]):
            _tell(session, services, admin, "admin.unreachable_report", number=number, report_id=report.id)
    elif row.purpose in TO_REPORTER:
        author = _last_author(session, report.id, TO_REPORTER[row.purpose])
        if author is not None:
            _tell(session, services, author, "feedback.unreachable_reporter", number=number, report_id=report.id)
    elif row.purpose in TO_OFFICIAL and recipient is not None:
        if row.purpose == "answer":
            reporter = session.get(Person, report.reporter_person_id)
            _tell(session, services, reporter, "failure.answer_unreachable", number=number, report_id=report.id)
        _tell_admins_unreachable(session, services, park, report, recipient, row.purpose)
    elif recipient is not None and _refused(row):
        _tell(session, services, recipient, "failure.reply_refused", report_id=report.id)


def _tell_admins_unreachable(session: Session, services: Services, park: Park, report: Report, official: Person,
                             purpose: str) -> None:
    texts = services.texts
    roles = [role for role in role_names(session, official.id, park.id) if role != ADMIN] or ["official"]
    for admin in people_with_roles(session, park.id, [ADMIN]):
        if admin.id == official.id:
            continue
        language = texts.language_for(admin.language)
        _tell(session, services, admin, "failure.official_unreachable", number=report_number(park, report),
              what=texts(language, f"failure.what.{purpose}"), name=official.display_name,
              role=role_label(texts, language, roles[0]), report_id=report.id, once=True)


def _refused(row: OutboxMessage) -> bool:
    """The platform refused the message itself (too long, malformed), not the person's chat."""
    error = (row.error or "").lower()
    return error.startswith("bad request") or "too_large" in error or "too large" in error


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


def _tell(session: Session, services: Services, person: Person, key: str, *, report_id: int | None,
          once: bool = False, **values) -> None:
    """An alert in the person's language; with ``once``, not again if they already have this very alert
    (a blocked official's every reminder would otherwise alert the admins each time)."""
    texts = services.texts.on(person.platform)
    text = texts(texts.language_for(person.language), key, **values)
    if once and session.exec(select(OutboxMessage.id).where(
            OutboxMessage.purpose == "alert", OutboxMessage.report_id == report_id,
            OutboxMessage.recipient_person_id == person.id, OutboxMessage.text == text)).first() is not None:
        return
    enqueue_to(session, now=services.clock.now(), person=person, text=text, purpose="alert", report_id=report_id)
