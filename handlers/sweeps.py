"""Periodic sweeps over the database: reminders, escalation, expired drafts.

The scheduler only calls these; all state lives in the database, so a restart loses
nothing and (on PostgreSQL) several instances can sweep side by side.
"""

from datetime import datetime

from sqlalchemy import DateTime, String, cast, insert, literal, update
from sqlmodel import Session, col, delete, select

from handlers.outbox import enqueue_to
from handlers.policy import next_reminder
from handlers.reminder_digest import DigestItem, Digests
from handlers.rendering import report_number
from handlers.services import Services
from storage.models import OutboxMessage, Person, Report, ReportDraft, ReportEvent, ReportRecipient
from storage.reminder_queries import (
    Addressee, CategoryName, DueReport, ParkPolicy, admins_by_park, categories_by_id, due_reports, parks_by_id,
    people_by_id, recipients_by_report, stand_ins,
)

REMINDER_CHUNK = 1000  # due reports per transaction: bigger means fewer rewrites of the same digests


def send_due_reminders(services: Services, chunk_size: int = REMINDER_CHUNK) -> int:
    """Remind about every due report, chunk by chunk until none is due; returns how many.

    Each report's count, next moment and escalation follow its park's policy exactly; what
    people receive is one digest per official (and one escalation digest per admin) per sweep.
    """
    now = services.clock.now()
    digests = Digests(services.texts, now)
    known = _Known(now)
    reminded, seen, finished = 0, _IdBits(), False
    while not finished:
        with services.db.transaction() as session, session.no_autoflush:
            due = due_reports(session, now, chunk_size)
            # Nothing more due (or, with a policy of zero length, only reports this sweep already did).
            finished = not due or all(report.id in seen for report in due)
            if not finished:
                _remind_chunk(session, now, due, digests, known)
                seen.update(report.id for report in due)
                reminded += len(due)
                finished = len(due) < chunk_size
            digests.write(session, final=finished)
    return reminded


class _IdBits:
    """A set of report ids as one bit each: a sweep of 100,000 due reports notes them in ~125 KiB
    of a 1,000,000-report store, where a ``set`` of ints took ~7 MiB (measured in ``make bench``)."""

    def __init__(self):
        self._bits = bytearray()

    def update(self, ids) -> None:
        for report_id in ids:
            byte = report_id >> 3
            if byte >= len(self._bits):
                self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
            self._bits[byte] |= 1 << (report_id & 7)

    def __contains__(self, report_id: int) -> bool:
        byte = report_id >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (report_id & 7)))


class _Known:
    """What a sweep learns once: parks' policies and categories' names (a few thousand at most, as
    light tuples, not ORM objects) and next moments."""

    def __init__(self, now: datetime):
        self.parks: dict[int, ParkPolicy] = {}
        self.categories: dict[int, CategoryName] = {}
        self.next_moment = _NextMoments(now)

    def load(self, session: Session, due: list[DueReport]) -> tuple[dict[int, ParkPolicy], dict[int, CategoryName]]:
        missing_parks = {report.park_id for report in due} - self.parks.keys()
        if missing_parks:
            self.parks.update(parks_by_id(session, missing_parks))
        missing_categories = {report.category_id for report in due} - self.categories.keys()
        if missing_categories:
            self.categories.update(categories_by_id(session, missing_categories))
        return self.parks, self.categories


def _remind_chunk(session: Session, now: datetime, due: list[DueReport], digests: Digests, known: _Known) -> None:
    """Count, reschedule and (where due) escalate a chunk of reports, with a few set-based statements."""
    parks, categories = known.load(session, due)
    leads = people_by_id(session, {report.lead_person_id for report in due if report.lead_person_id})
    recipients = recipients_by_report(session, [report.id for report in due])
    addressed = {report.id: ([leads[report.lead_person_id]] if report.lead_person_id else recipients[report.id])
                 for report in due}
    backups = stand_ins(session, {(person.id, report.park_id) for report in due for person in addressed[report.id]})
    escalating = {report.id for report in due if report.escalated_at is None
                  and report.reminder_count + 1 >= parks[report.park_id].escalate_after}
    admins = admins_by_park(session, {report.park_id for report in due if report.id in escalating})

    changes: dict[datetime, list[int]] = {}  # next moment → reports
    new_recipients = []
    next_moment = known.next_moment
    for report in due:
        park, category = parks[report.park_id], categories[report.category_id]
        count = report.reminder_count + 1
        escalates = report.id in escalating
        changes.setdefault(next_moment(park, report), []).append(report.id)
        item = dict(report_id=report.id, number=report_number(park, report), category_nl=category.name_nl,
                    category_en=category.name_en, created_at=report.created_at, urgent=report.urgent,
                    reminder_count=count)
        already = {person.id for person in recipients[report.id]}
        acting: dict[int, Addressee] = {}
        for person in addressed[report.id]:
            stand = backups.get((person.id, report.park_id), person)
            acting.setdefault(stand.id, stand)
        for official in acting.values():
            if official.id not in already:
                new_recipients.append({"report_id": report.id, "person_id": official.id})
            digests.add(official, "reminder", DigestItem(led_by_reader=report.lead_person_id is not None, **item))
        if escalates:
            lead = leads.get(report.lead_person_id)
            for admin in admins.get(report.park_id, []):
                digests.add(admin, "escalation", DigestItem(lead_name=lead.display_name if lead else None, **item))
    for moment, ids in changes.items():
        session.execute(update(Report).where(col(Report.id).in_(ids)).values(
            reminder_count=Report.reminder_count + 1, last_reminded_at=now, next_reminder_at=moment)
            .execution_options(synchronize_session=False))
    if escalating:
        session.execute(update(Report).where(col(Report.id).in_(sorted(escalating))).values(escalated_at=now)
                        .execution_options(synchronize_session=False))
    session.execute(insert(ReportEvent).from_select(
        ["report_id", "kind", "text", "created_at"],
        select(Report.id, literal("reminder"), cast(Report.reminder_count, String), literal(now, DateTime))
        .where(col(Report.id).in_([report.id for report in due]))))
    if new_recipients:
        session.execute(insert(ReportRecipient), new_recipients)


class _NextMoments:
    """Every report of a sweep counts its next reminder from the same moment, so parks with the same
    policy share one calculation (the working-time arithmetic is the costly part of a reminder)."""

    def __init__(self, now: datetime):
        self.now = now
        self._known: dict[tuple, datetime] = {}

    def __call__(self, park: ParkPolicy, report: DueReport) -> datetime:
        policy = (report.urgent, park.timezone, park.work_start, park.work_end, park.work_days, park.repeat_every_s,
                  park.urgent_repeat_every_s, park.urgent_in_working_time)
        if policy not in self._known:
            self._known[policy] = next_reminder(park, report, self.now, first=False)
        return self._known[policy]


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
