"""The inbox: updates received from the platforms, stored before they are acknowledged.

``receive`` stores a batch (one transaction) and tells which keys are new; only then does
the adapter acknowledge the batch to the platform. ``mark_applied`` runs inside the
transaction that applies an update, so "applied" and the update's effects commit
together. ``pending`` lists what was received but not applied (after a crash or while the
database was away), oldest first.
"""

from collections.abc import Callable
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, col, select

from storage.db import padded
from storage.models import InboxUpdate


def receive(session: Session, items: list[tuple[str, dict]], now: datetime, holder: str | None = None,
            lanes: dict[str, tuple[str, str]] | None = None) -> set[str]:
    """Store received updates; returns the keys that were not known yet (the rest are redeliveries)."""
    return set(receive_with_ids(session, items, now, holder, lanes))


def receive_with_ids(session: Session, items: list[tuple[str, dict]], now: datetime, holder: str | None = None,
                     lanes: dict[str, tuple[str, str]] | None = None) -> dict[str, int]:
    """Like ``receive``, with each new key's row id (the order received); ``holder`` and ``lanes`` for webhook mode."""
    keys = [key for key, _ in items]
    known = set(session.exec(select(InboxUpdate.key).where(col(InboxUpdate.key).in_(padded(keys))))) if keys else set()
    fresh: dict[str, InboxUpdate] = {}
    for key, payload in items:
        if key in known or key in fresh:
            continue
        chat_lane, person_lane = (lanes or {}).get(key, (None, None))
        fresh[key] = InboxUpdate(key=key, payload=payload, received_at=now, holder=holder,
                                 chat_lane=chat_lane, person_lane=person_lane)
        session.add(fresh[key])
    if fresh:
        session.flush()
    return {key: row.id for key, row in fresh.items()}


@cache
def _apply_stored():
    """Mark a stored update (``update_key``) applied at ``now``; built once, it runs for every update.
    The payload may carry report text: it is not kept."""
    table = InboxUpdate.__table__
    return (update(table).where(table.c.key == bindparam("update_key"), table.c.applied_at.is_(None))
            .values(applied_at=bindparam("now"), payload=None))


def mark_applied(session: Session, key: str, now: datetime) -> bool:
    """Record the update as applied, in the caller's transaction; False if it was applied before.

    One UPDATE in the usual case (a stored, unapplied update); it locks the row, so a
    concurrent applier of the same key waits and then finds it applied. A Core statement on the
    session's connection: the ORM's bulk-update path cost twice the CPU for nothing it needs here.
    """
    claimed = session.connection().execute(_apply_stored(), {"update_key": key, "now": now})
    if claimed.rowcount:
        return True
    if session.exec(select(InboxUpdate.id).where(InboxUpdate.key == key)).first() is not None:
        return False
    session.add(InboxUpdate(key=key, received_at=now, applied_at=now))
    session.flush()  # a concurrent applier of the same key fails here, before any effect commits
    return True


def pending(session: Session, prefix: str, after_id: int = 0, limit: int = 500) -> list[InboxUpdate]:
    """Received, not yet applied updates of one platform (``telegram:``), in the order received (a page)."""
    return list(session.exec(
        select(InboxUpdate).where(col(InboxUpdate.applied_at).is_(None), col(InboxUpdate.key).startswith(prefix),
                                  col(InboxUpdate.id) > after_id)
        .order_by(col(InboxUpdate.id)).limit(limit)))


def prune(session: Session, applied_before: datetime) -> int:
    """Forget applied updates older than the platforms would ever redeliver."""
    result = session.exec(delete(InboxUpdate).where(col(InboxUpdate.applied_at) < applied_before))
    return result.rowcount or 0


def earlier_elsewhere(session: Session, row_id: int, chat_lane: str, person_lane: str,
                      holder: str) -> list[str]:
    """Holders of earlier unapplied updates of this chat or person that another instance holds."""
    return list(session.exec(
        select(InboxUpdate.holder).where(
            col(InboxUpdate.applied_at).is_(None), col(InboxUpdate.id) < row_id,
            (col(InboxUpdate.chat_lane) == chat_lane) | (col(InboxUpdate.person_lane) == person_lane),
            col(InboxUpdate.holder) != holder).distinct()))


def adopt(session: Session, prefix: str, holder: str, is_alive: Callable[[str], bool],
          limit: int = 500) -> list[InboxUpdate]:
    """Take over unapplied updates whose holder no longer runs (or that nobody holds), oldest first."""
    rows = session.exec(
        select(InboxUpdate).where(col(InboxUpdate.applied_at).is_(None), col(InboxUpdate.key).startswith(prefix))
        .order_by(col(InboxUpdate.id)).limit(limit).with_for_update(skip_locked=True)).all()
    taken = []
    for row in rows:
        if row.holder == holder or (row.holder is not None and is_alive(row.holder)):
            continue
        row.holder = holder
        session.add(row)
        taken.append(row)
    return taken
