"""Set-based queries for the reminder sweep: one chunk of due reports and everything it needs.

Each function is one statement (or two) over a whole chunk, with ``IN`` lists of at most a
chunk's size, so the cost of a sweep grows with the reports that are due, not with the store.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, col, select

from storage.models import Category, OutboxMessage, Park, Person, Report, ReportRecipient, Role
from storage.queries import ADMIN


class DueReport(NamedTuple):
    """The columns of an open report the sweep needs (never its content)."""

    id: int
    park_id: int
    number: int
    category_id: int
    urgent: bool
    created_at: datetime
    reminder_count: int
    lead_person_id: int | None
    escalated_at: datetime | None


@dataclass(frozen=True)
class Addressee:
    """What a sweep needs of a person to address them (lighter than loading ``Person`` rows)."""

    id: int
    platform: str
    private_chat_id: str | None
    language: str | None
    display_name: str


ADDRESSEE = (Person.id, Person.platform, Person.private_chat_id, Person.language, Person.display_name)


def due_reports(session: Session, now: datetime, limit: int) -> list[DueReport]:
    """Open reports whose reminder is due, oldest due first; claimed with SKIP LOCKED on PostgreSQL.

    The filter matches the partial index ``ix_report_due`` exactly, so the database walks the
    index in order and stops after ``limit`` rows instead of sorting every due report.
    """
    rows = session.exec(
        select(Report.id, Report.park_id, Report.number, Report.category_id, Report.urgent, Report.created_at,
               Report.reminder_count, Report.lead_person_id, Report.escalated_at)
        .where(col(Report.next_reminder_at).is_not(None), col(Report.next_reminder_at) <= now,
               Report.status == "open", col(Report.first_feedback_at).is_(None))
        .order_by(col(Report.next_reminder_at)).limit(limit)
        .with_for_update(skip_locked=True, of=Report)
    )
    return [DueReport._make(row) for row in rows]


class ParkPolicy(NamedTuple):
    """What a sweep needs of a park: its report prefix and reminder policy, under ``Park``'s names
    (so :func:`handlers.policy.next_reminder` takes it). A sweep keeps one per park it meets;
    thousands of ``Park`` rows held as ORM objects cost tens of MiB (measured in ``make bench``)."""

    id: int
    prefix: str
    timezone: str
    first_reminder_after_s: int
    repeat_every_s: int
    escalate_after: int
    urgent_first_reminder_after_s: int
    urgent_repeat_every_s: int
    urgent_in_working_time: bool
    work_start: str
    work_end: str
    work_days: str


class CategoryName(NamedTuple):
    """A category's names, what a reminder shows of it (not its signal cards)."""

    id: int
    name_nl: str
    name_en: str


PARK_POLICY = tuple(getattr(Park, name) for name in ParkPolicy._fields)
CATEGORY_NAME = tuple(getattr(Category, name) for name in CategoryName._fields)


def parks_by_id(session: Session, ids: Collection[int]) -> dict[int, ParkPolicy]:
    return {row[0]: ParkPolicy._make(row) for row in session.exec(
        select(*PARK_POLICY).where(col(Park.id).in_(list(ids))))}


def categories_by_id(session: Session, ids: Collection[int]) -> dict[int, CategoryName]:
    return {row[0]: CategoryName._make(row) for row in session.exec(
        select(*CATEGORY_NAME).where(col(Category.id).in_(list(ids))))}


def people_by_id(session: Session, ids: Collection[int]) -> dict[int, Addressee]:
    if not ids:
        return {}
    return {row[0]: Addressee(*row) for row in session.exec(select(*ADDRESSEE).where(col(Person.id).in_(list(ids))))}


def recipients_by_report(session: Session, report_ids: Collection[int]) -> dict[int, list[Addressee]]:
    """Each report's officials in the order they got it."""
    result: dict[int, list[Addressee]] = {report_id: [] for report_id in report_ids}
    rows = session.exec(
        select(ReportRecipient.report_id, *ADDRESSEE).join(Person, col(Person.id) == col(ReportRecipient.person_id))
        .where(col(ReportRecipient.report_id).in_(list(report_ids))).order_by(col(ReportRecipient.id)))
    for report_id, *person in rows:
        result[report_id].append(Addressee(*person))
    return result


def stand_ins(session: Session, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Addressee]:
    """For (person, park) pairs: the backup acting for an away person, where that backup is still
    an official of the park. Pairs without a standing-in backup are left out (they act themselves).
    The same rule as :func:`storage.queries.stand_in`, for a whole chunk in three statements."""
    pairs = set(pairs)
    if not pairs:
        return {}
    people, parks = {person for person, _ in pairs}, {park for _, park in pairs}
    backup_of: dict[tuple[int, int], int] = {}
    for person_id, park_id, backup_id in session.exec(
            select(Role.person_id, Role.park_id, Role.backup_person_id).where(
                col(Role.person_id).in_(people), col(Role.park_id).in_(parks), col(Role.revoked_at).is_(None),
                col(Role.away_since).is_not(None), col(Role.backup_person_id).is_not(None)).order_by(col(Role.id))):
        if (person_id, park_id) in pairs:
            backup_of.setdefault((person_id, park_id), backup_id)
    if not backup_of:
        return {}
    official = set(session.exec(
        select(Role.person_id, Role.park_id).where(
            col(Role.person_id).in_(set(backup_of.values())), col(Role.park_id).in_(parks),
            col(Role.revoked_at).is_(None), Role.role != ADMIN)).all())
    backups = people_by_id(session, set(backup_of.values()))
    return {pair: backups[backup_id] for pair, backup_id in backup_of.items() if (backup_id, pair[1]) in official}


def admins_by_park(session: Session, park_ids: Collection[int]) -> dict[int, list[Addressee]]:
    """Each park's admins in order of verification, each person once."""
    result: dict[int, dict[int, Addressee]] = {park_id: {} for park_id in park_ids}
    if not park_ids:
        return {}
    rows = session.exec(
        select(Role.park_id, *ADDRESSEE).join(Person, col(Person.id) == col(Role.person_id))
        .where(col(Role.park_id).in_(list(park_ids)), Role.role == ADMIN, col(Role.revoked_at).is_(None))
        .order_by(col(Role.verified_at), col(Role.id)))
    for park_id, *person in rows:
        result[park_id].setdefault(person[0], Addressee(*person))
    return {park_id: list(people.values()) for park_id, people in result.items()}


def untouched_outbox(session: Session, outbox_ids: Collection[int], held_until: datetime) -> set[int]:
    """Which of these held outbox rows no sender has claimed: still pending and still held until
    ``held_until`` (a claim moves ``next_attempt_at`` to its own lease). Locked on PostgreSQL, so no
    sender takes them meanwhile."""
    if not outbox_ids:
        return set()
    return set(session.exec(select(OutboxMessage.id).where(
        col(OutboxMessage.id).in_(list(outbox_ids)), OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at == held_until)
        .with_for_update(skip_locked=True)).all())
