"""Outbox rows written together: one ``INSERT`` for all the rows a unit of work queues.

``add`` keeps a row's column values in its session; they are inserted, in the order added, with
one statement (``executemany``) before the session runs its next statement and when it commits,
so the rest of the unit of work (and every later one) sees them where it would have. The ORM
would build an object per row and, on PostgreSQL, one ``INSERT`` with every row's parameters,
which psycopg parses afresh each time (too many for its cache): sending one report with three
photos to 25 officials (101 rows) spent about half its transaction there (cProfile,
``bench/fanout.py``'s press of "Versturen").

Rows queued by a unit of work that rolls back (or is closed uncommitted) are dropped with it.
"""

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from storage.models import OutboxMessage

PENDING = "weerbaar.outbox_rows"


def add(session: Session, values: dict) -> None:
    """Queue one row's values (every call with the same keys) to be inserted with the others."""
    if not event.contains(Session, "do_orm_execute", _before_statement):
        _listen()
    if not session.in_transaction():
        session.begin()  # the rows belong to this unit of work: its end without a commit drops them
    session.info.setdefault(PENDING, []).append(values)


def write(session: Session) -> None:
    """Insert the queued rows now (one statement), in the order they were added."""
    rows = session.info.pop(PENDING, None)
    if rows:
        session.connection().execute(insert(OutboxMessage), rows)


def _listen() -> None:
    event.listen(Session, "do_orm_execute", _before_statement)
    event.listen(Session, "before_commit", write)
    event.listen(Session, "after_transaction_end", _forget)


def _before_statement(state) -> None:
    write(state.session)


def _forget(session: Session, ended) -> None:
    """The unit of work ended without committing them (a rollback, a session closed): its rows go
    with it. A savepoint's end (``begin_nested``) leaves them: they were queued before it (nothing
    queues messages inside one), and a commit has written them already."""
    if ended.parent is None:
        session.info.pop(PENDING, None)
