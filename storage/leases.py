"""Named leases in the database: one running instance holds one (the Telegram poller, the Matrix syncer)."""

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import Lease


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta,
            holder_is_gone: Callable[[str], bool]) -> str | None:
    """Take or renew the lease; returns None when it is ours, else who holds it."""
    row = session.exec(select(Lease).where(Lease.name == name).with_for_update()).first()
    if row is None:
        session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        session.flush()  # two starting together: one of them fails here and tries again
        return None
    if row.holder != holder and row.expires_at > now and not holder_is_gone(row.holder):
        return row.holder
    row.holder, row.expires_at = holder, now + ttl
    session.add(row)
    return None


def release(session: Session, name: str, holder: str) -> None:
    session.exec(delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder))


def live_holders(session: Session, prefix: str, now: datetime) -> set[str]:
    """Holders of the unexpired leases whose name starts with ``prefix`` (``instance:``: the running instances)."""
    return set(session.exec(select(Lease.holder).where(col(Lease.name).startswith(prefix), Lease.expires_at > now)))


def holder_of(session: Session, name: str, now: datetime) -> str | None:
    """Who holds the lease now (None when nobody does or it ran out)."""
    row = session.get(Lease, name)
    return row.holder if row is not None and row.expires_at > now else None
