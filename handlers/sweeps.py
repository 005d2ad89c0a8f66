"""Periodic sweeps over the database: reminders, escalation, expired drafts.

The scheduler only calls these; all state lives in the database, so a restart loses
nothing and (on PostgreSQL) several instances can sweep side by side.
"""

from datetime import datetime

from sqlmodel import Session, col, delete, select

from handlers.buttons import ReportAction
from handlers.i18n import Translator
from handlers.messages import Button
from handlers.outbox import enqueue_to
from handlers.policy import next_reminder
from handlers.rendering import age, category_name, report_number
from handlers.services import Services
from storage.models import Category, OutboxMessage, Park, Person, Report, ReportDraft, ReportEvent
from storage.queries import (
    ADMIN, add_recipient, people_with_roles, recipients_of, reports_due_for_reminder, stand_in,
)


def send_due_reminders(services: Services) -> int:
    """Remind the lead (or every routed official) of each overdue report; escalate when due."""
    texts = services.texts
    sent = 0
    with services.db.transaction() as session:
        now = services.clock.now()
        for report in reports_due_for_reminder(session, now):
            park = session.get(Park, report.park_id)
            report.reminder_count += 1
            report.last_reminded_at = now
            report.next_reminder_at = next_reminder(park, report, now, first=False)
            session.add(report)
            session.add(ReportEvent(report_id=report.id, kind="reminder", text=str(report.reminder_count),
                                    created_at=now))
            _remind(session, texts, now, park, report)
            if report.reminder_count >= park.escalate_after and report.escalated_at is None:
                report.escalated_at = now
                _escalate(session, texts, now, park, report)
            sent += 1
    return sent


def _remind(session: Session, texts: Translator, now: datetime, park: Park, report: Report) -> None:
    lead = session.get(Person, report.lead_person_id) if report.lead_person_id else None
    targets = _acting(session, park, [lead] if lead else recipients_of(session, report.id))
    for official in targets:
        add_recipient(session, report.id, official.id)
    category = session.get(Category, report.category_id)
    for official in targets:
        language = texts.language_for(official.language)
        key = "reminder.lead" if lead else "reminder.unclaimed"
        text = texts(language, key, number=report_number(park, report), count=report.reminder_count,
                     category=category_name(category, language), age=age(texts, language, report.created_at, now))
        buttons = [[Button(texts(language, "action.feedback"), data=ReportAction(report.id, "fb"))]]
        if not lead:
            buttons[0].insert(0, Button(texts(language, "action.claim"), data=ReportAction(report.id, "claim")))
        enqueue_to(session, now=now, person=official, text=text, buttons=buttons, purpose="reminder",
                   report_id=report.id)


def _acting(session: Session, park: Park, people: list[Person]) -> list[Person]:
    """Backups stand in for officials who are away; each person once."""
    acting: dict[int, Person] = {}
    for person in people:
        stand = stand_in(session, person, park.id)
        acting.setdefault(stand.id, stand)
    return list(acting.values())


def _escalate(session: Session, texts: Translator, now: datetime, park: Park, report: Report) -> None:
    lead = session.get(Person, report.lead_person_id) if report.lead_person_id else None
    for admin in people_with_roles(session, park.id, [ADMIN]):
        language = texts.language_for(admin.language)
        text = texts.plural(language, "escalation.to_admin", report.reminder_count, number=report_number(park, report),
                            age=age(texts, language, report.created_at, now),
                            lead=lead.display_name if lead else texts(language, "open.no_lead"))
        enqueue_to(session, now=now, person=admin, text=text, purpose="escalation", report_id=report.id)


def expire_idle_drafts(services: Services) -> int:
    """Drop drafts idle longer than the configured time, telling each reporter once."""
    cutoff = services.clock.now() - services.settings.draft_idle_timeout
    with services.db.transaction() as session:
        now = services.clock.now()
        drafts = list(session.exec(select(ReportDraft).where(col(ReportDraft.updated_at) <= cutoff)
                                   .with_for_update(skip_locked=True)))
        for draft in drafts:
            person = session.get(Person, draft.person_id)
            session.delete(draft)
            language = services.texts.language_for(person.language)
            enqueue_to(session, now=now, person=person,
                       text=services.texts.on(person.platform)(language, "report.expired"))
    return len(drafts)


def prune_delivered_messages(services: Services) -> int:
    """Delete sent and failed outbox rows older than the retention: they carry report text."""
    cutoff = services.clock.now() - services.settings.outbox_retention
    with services.db.transaction() as session:
        result = session.exec(delete(OutboxMessage).where(
            col(OutboxMessage.status).in_(["sent", "failed"]), col(OutboxMessage.created_at) <= cutoff))
        return result.rowcount or 0
