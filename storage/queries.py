"""Reusable queries over the tables."""

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Category, GroupChat, Park, Person, Report, ReportRecipient, Role

ADMIN = "admin"


def park_by_slug(session: Session, slug: str) -> Park | None:
    return session.exec(select(Park).where(Park.slug == slug)).first()


def active_roles(session: Session, person_id: int) -> list[Role]:
    return list(session.exec(
        select(Role).where(Role.person_id == person_id, col(Role.revoked_at).is_(None))
    ))


def has_role(session: Session, person_id: int, park_id: int, roles: Iterable[str]) -> bool:
    return session.exec(
        select(Role.id).where(
            Role.person_id == person_id, Role.park_id == park_id,
            col(Role.role).in_(list(roles)), col(Role.revoked_at).is_(None),
        )
    ).first() is not None


def people_with_roles(session: Session, park_id: int, roles: Iterable[str]) -> list[Person]:
    """Distinct persons holding one of ``roles`` in the park, in order of verification."""
    rows = session.exec(
        select(Person, Role)
        .join(Role, col(Role.person_id) == col(Person.id))
        .where(Role.park_id == park_id, col(Role.role).in_(list(roles)), col(Role.revoked_at).is_(None))
        .order_by(col(Role.verified_at), col(Role.id))
    )
    seen: dict[int, Person] = {}
    for person, _role in rows:
        seen.setdefault(person.id, person)
    return list(seen.values())


def roles_held(session: Session, park_id: int, roles: Iterable[str]) -> set[str]:
    """Which of ``roles`` someone holds in the park (one light query, not a person list per role)."""
    return set(session.exec(select(Role.role).where(
        Role.park_id == park_id, col(Role.role).in_(list(roles)), col(Role.revoked_at).is_(None)).distinct()))


def role_names(session: Session, person_id: int, park_id: int) -> list[str]:
    return [
        role.role for role in session.exec(
            select(Role).where(Role.person_id == person_id, Role.park_id == park_id,
                               col(Role.revoked_at).is_(None))
        )
    ]


def enabled_categories(session: Session, park_id: int) -> list[Category]:
    return list(session.exec(
        select(Category).where(Category.park_id == park_id, Category.enabled == True)  # noqa: E712
        .order_by(col(Category.position), col(Category.id))
    ))


def groups_of_park(session: Session, park_id: int, platform: str | None = None) -> list[GroupChat]:
    query = select(GroupChat).where(GroupChat.park_id == park_id)
    if platform:
        query = query.where(GroupChat.platform == platform)
    return list(session.exec(query))


def group_by_chat(session: Session, platform: str, chat_id: str) -> GroupChat | None:
    return session.exec(
        select(GroupChat).where(GroupChat.platform == platform, GroupChat.chat_id == chat_id)
    ).first()


def recipients_of(session: Session, report_id: int) -> list[Person]:
    return list(session.exec(
        select(Person).join(ReportRecipient, col(ReportRecipient.person_id) == col(Person.id))
        .where(ReportRecipient.report_id == report_id).order_by(col(ReportRecipient.id))
    ))


def is_recipient(session: Session, report_id: int, person_id: int) -> bool:
    return session.exec(
        select(ReportRecipient.id).where(
            ReportRecipient.report_id == report_id, ReportRecipient.person_id == person_id)
    ).first() is not None


def reports_due_for_reminder(session: Session, now: datetime, limit: int = 100) -> list[Report]:
    """Open reports whose reminder is due; rows are claimed with SKIP LOCKED on PostgreSQL."""
    query = (
        select(Report)
        .where(col(Report.next_reminder_at).is_not(None), col(Report.next_reminder_at) <= now,
               Report.status == "open", col(Report.first_feedback_at).is_(None))
        .order_by(col(Report.next_reminder_at)).limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(query))


def next_report_number(session: Session, park: Park) -> int:
    """Take the park's next report number; the row lock serialises concurrent takers.

    ``populate_existing``: the park is usually loaded already in this session, and without it the
    lock would return that stale copy and two concurrent reports would get the same number.
    ``key_share`` (PostgreSQL's ``FOR NO KEY UPDATE``): only a non-key column changes, and the
    weaker lock does not conflict with the key-share lock an insert referencing the park took
    earlier in the transaction (a new park member); ``FOR UPDATE`` made such transactions
    deadlock on PostgreSQL when people reported at once (found by bench/fanout.py).
    """
    locked = session.exec(select(Park).where(Park.id == park.id).with_for_update(key_share=True)
                          .execution_options(populate_existing=True)).one()
    locked.last_report_number += 1
    session.add(locked)
    session.flush()
    return locked.last_report_number


def stand_in(session: Session, person: Person, park_id: int) -> Person:
    """Who acts for ``person`` in the park: their backup while they are away, else themselves."""
    away = session.exec(select(Role).where(
        Role.person_id == person.id, Role.park_id == park_id, col(Role.revoked_at).is_(None),
        col(Role.away_since).is_not(None), col(Role.backup_person_id).is_not(None))).first()
    if away is None:
        return person
    backup = session.get(Person, away.backup_person_id)
    # The backup stands in only while it holds the same role: otherwise it could not act on the report.
    return backup if has_role(session, backup.id, park_id, [away.role]) else person


def routed_officials(session: Session, park_id: int, roles: Iterable[str]) -> list[Person]:
    """The officials a report for ``roles`` goes to, with backups standing in for the away.

    Who is away is asked once for them all (a report reaches every official in one transaction
    that the first send waits for); only the away ones are then looked at one by one."""
    people = people_with_roles(session, park_id, roles)
    away = set(session.exec(select(Role.person_id).where(
        col(Role.person_id).in_([person.id for person in people]), Role.park_id == park_id,
        col(Role.revoked_at).is_(None), col(Role.away_since).is_not(None),
        col(Role.backup_person_id).is_not(None)))) if people else set()
    chosen: dict[int, Person] = {}
    for person in people:
        acting = stand_in(session, person, park_id) if person.id in away else person
        chosen.setdefault(acting.id, acting)
    return list(chosen.values())


def add_recipient(session: Session, report_id: int, person_id: int) -> bool:
    """Make ``person_id`` one of the report's officials; False if they already were."""
    if is_recipient(session, report_id, person_id):
        return False
    session.add(ReportRecipient(report_id=report_id, person_id=person_id))
    session.flush()
    return True
