"""Engine, sessions, schema migrations, and the bounded thread pool database work runs in.

Database work never runs on the event loop: ``Database.run`` hands a synchronous unit of
work (usually one ``transaction()``) to a bounded thread pool. We chose a thread pool over
async SQLAlchemy because every handler is written against the synchronous ``Session`` and
a transaction is a few milliseconds of CPU-bound ORM work either way: measured in ``make
bench``, the pool keeps the loop free for the HTTP round trips (which is where the time
goes) at no cost per message, while a rewrite to ``AsyncSession`` would touch every
handler. The pool has one thread on SQLite (one writer at a time is all SQLite allows;
transactions begin ``IMMEDIATE`` so a read-then-write never fails on a stale snapshot)
and ``POSTGRES_WORKERS`` threads on PostgreSQL.

Durability, chosen per transaction: only storing received updates before they are
acknowledged (``transaction(durable=True)``) waits for the disk at commit. The others
(handling, outbox marks) commit without waiting for it (SQLite WAL ``synchronous=NORMAL``,
PostgreSQL ``synchronous_commit = off``): a process crash loses nothing, and a power loss or
database-server crash can only roll back the last fraction of a second of them, after
which the inbox still holds the updates and they are applied again (a reply may then be
sent twice). On PostgreSQL "off" is each connection's own setting, made when it connects
(``configure_postgres``), and a durable transaction turns it on for itself (``SET LOCAL``); so whatever else runs on a pooled
connection (a read, a migration) commits without waiting too, and a migration lost that way
is simply run again at the next start. Measured: a durable SQLite commit costs about 6 ms on the reference machine,
the others under 0.1 ms.

Migrations take a lock (PostgreSQL advisory lock per schema; SQLite's write lock), so
instances starting together never crash: the second waits and finds the schema current.

Connections: a pooled PostgreSQL connection is tested before use only after lying idle
(``ping_when_idle``), not at every checkout; SQLite keeps a bounded number of prepared
statements per connection (``SQLITE_CACHED_STATEMENTS``), and ``padded`` keeps the IN lists
that run often to a few SQL texts.
"""

import ast
import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

from storage.work_pool import WorkPool

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Threads for PostgreSQL work. Few: the work is CPU-bound ORM code under one GIL, so more threads
#: only add contention and smaller batches for the dispatcher. In bench/pipeline.py (50 guided
#: reports at once, local PostgreSQL) 1-2 threads used 10-13 ms of CPU per update and 4-8 used
#: 14-19 ms, at 10-35% less throughput. A database with slow round trips may want more.
POSTGRES_WORKERS = 2
IMMEDIATE = "weerbaar_immediate"
DURABLE = "weerbaar_durable"
#: A pooled PostgreSQL connection idle this long is tested before use (see ``ping_when_idle``).
IDLE_PING_AFTER = 1.0
#: Prepared statements SQLite keeps per connection (the driver's default is 128). The cache is keyed
#: by SQL text, and an ``IN`` list renders one text per length: the dispatcher's lists of hundreds of
#: ids filled 128 slots at ~0.3 MB each, 70 MiB of the national drain's peak (bench/national.py:
#: 220 MiB with 128, 179 with 64, 158 with 32; 151 with 64 once the lists were padded). A guided report's handlers alone
#: run 32 distinct statements, the inbox and the dispatcher a dozen more: 64 hold them all, and the
#: dispatcher pads its lists (``padded``) so they take a few slots, not one per length.
SQLITE_CACHED_STATEMENTS = 64

T = TypeVar("T")


def padded(values: Sequence[T]) -> list[T]:
    """``values`` with the last one repeated up to a power of two in count, for an ``IN`` list that
    runs often with lists of many lengths: it then renders one of a few SQL texts (a prepared
    statement each, see ``SQLITE_CACHED_STATEMENTS``), and a repeated value changes no match."""
    values = list(values)
    if len(values) < 2:
        return values
    return values + values[-1:] * ((1 << (len(values) - 1).bit_length()) - len(values))


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL, a busy timeout and IMMEDIATE transactions."""
    if url.startswith("sqlite"):
        _ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30,
                                                   "cached_statements": SQLITE_CACHED_STATEMENTS})
        configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=POSTGRES_WORKERS + 2, max_overflow=10)
    configure_postgres(engine)
    return engine


def configure_postgres(engine: Engine) -> None:
    """Each new connection commits without waiting for the disk (a durable transaction turns it on
    for itself, see ``Database.transaction``); an idle one is tested before use (``ping_when_idle``)."""
    event.listen(engine, "connect", _commit_without_waiting)
    ping_when_idle(engine)


def _execute_raw(dbapi_connection, sql: str) -> None:
    """One statement on a driver connection (pool events get those, not SQLAlchemy's)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def _commit_without_waiting(dbapi_connection, _record) -> None:
    _execute_raw(dbapi_connection, "SET synchronous_commit TO OFF")
    dbapi_connection.commit()  # a SET in a transaction lasts only if that transaction commits


def ping_when_idle(engine: Engine, after: float | None = None) -> None:
    """Test a pooled connection before use only when it lay idle for ``after`` seconds or more.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip and ~9% of the
    database threads' CPU under load (py-spy on bench/pipeline.py's guided reports). A connection
    handed back moments ago is as good as the last transaction found it; one that lay idle may
    have been closed by a server restart or an idle timeout, and is replaced before it fails. A
    server gone within the last second still fails that one transaction, which every caller
    retries (``is_unavailable``), and SQLAlchemy then replaces the pool's connections.
    """
    idle_limit = IDLE_PING_AFTER if after is None else after

    def checked_in(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")  # none: connected just now
        if idle_since is None or time.monotonic() - idle_since < idle_limit:
            return
        try:
            _execute_raw(dbapi_connection, "SELECT 1")
            dbapi_connection.rollback()  # the ping's own transaction, so the pool hands it out clean
        except Exception as error:  # noqa: BLE001 - any failure: this connection is not usable
            raise DisconnectionError("idle connection no longer answers") from error

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


def configure_sqlite(engine: Engine) -> None:
    """Let SQLAlchemy, not the driver, begin transactions, so writers can begin IMMEDIATE."""
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)


def _ensure_sqlite_directory(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # the driver no longer begins on its own
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    options = connection.get_execution_options()
    synchronous = "FULL" if options.get(DURABLE) else "NORMAL"
    info = connection.connection.info
    if info.get("synchronous") != synchronous:  # a statement per transaction saved: set only when it changes
        connection.exec_driver_sql(f"PRAGMA synchronous={synchronous}")
        info["synchronous"] = synchronous
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(IMMEDIATE) else "BEGIN")


def alembic_config(bind: Connection | Engine) -> "Config":
    """Alembic's configuration for a connection (that may hold the schema lock) or an engine."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection" if isinstance(bind, Connection) else "engine"] = bind
    return config


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """One instance at a time migrates or seeds the schema; the others wait here."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            key = "select hashtext('weerbaar-schema:' || current_schema())"
            lock_id = connection.execute(text(key)).scalar_one()
            connection.execute(text("select pg_advisory_lock(:id)"), {"id": lock_id})
            connection.commit()
            try:
                yield connection
            finally:
                connection.rollback()
                connection.execute(text("select pg_advisory_unlock(:id)"), {"id": lock_id})
                connection.commit()
        else:
            yield connection.execution_options(**{IMMEDIATE: True})


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to date (``weerbaar db upgrade`` and every start), under the schema lock.

    A schema already at the head is recognised without alembic (see :func:`schema_is_current`):
    importing alembic's runtime took a third of the bot's start-up, for nothing to do.
    """
    if revision == "head" and schema_is_current(engine):
        return
    from alembic import command

    with schema_lock(engine) as connection:
        command.upgrade(alembic_config(connection), revision)
        connection.commit()


def migration_heads(directory: Path = MIGRATIONS_DIR / "versions") -> set[str]:
    """The head revisions of the migration scripts, read from their ``revision`` and
    ``down_revision`` assignments (parsed, never executed): revisions no other one revises."""
    revisions, revised = set(), set()
    for script in directory.glob("*.py"):
        for statement in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                    isinstance(statement.targets[0], ast.Name):
                name, value = statement.targets[0].id, statement.value
                if name == "revision":
                    revisions.add(ast.literal_eval(value))
                elif name == "down_revision":
                    down = ast.literal_eval(value)
                    revised.update(down if isinstance(down, (tuple, list)) else [down] if down else [])
    return revisions - revised


def schema_is_current(engine: Engine) -> bool:
    """Whether the database's recorded revisions are exactly the scripts' heads (then there is
    nothing to migrate). Anything unexpected answers no, and alembic decides as always."""
    try:
        heads = migration_heads()
        with engine.connect() as connection:
            recorded = set(connection.execute(text("select version_num from alembic_version")).scalars())
    except Exception:  # noqa: BLE001 - no version table yet, an unreadable script: alembic will tell
        return False
    return bool(heads) and recorded == heads


class Database:
    """Hands out sessions; one ``transaction()`` is one unit of work; ``run`` runs it off the loop."""

    def __init__(self, engine: Engine, workers: int | None = None):
        self.engine = engine
        self.workers = (POSTGRES_WORKERS if self.is_postgresql else 1) if workers is None else workers
        self._executor: WorkPool | None = None

    @contextmanager
    def transaction(self, durable: bool = False) -> Iterator[Session]:
        """One unit of work. Only ``durable`` ones wait for the disk at commit (see the module doc)."""
        with Session(self.engine, expire_on_commit=False) as session:
            if self.is_postgresql:
                connection = session.connection()  # "off" unless durable (``configure_postgres``)
                if durable:
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO ON")
            else:
                session.connection(execution_options={IMMEDIATE: True, DURABLE: durable})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    async def run(self, work: Callable[[], T], urgent: bool = False) -> T:
        """Run synchronous database work in the bounded pool, without blocking the event loop.

        ``urgent``: short work that others wait for (the outbox's rounds) goes ahead of the
        work queued before it (``storage.work_pool``).
        """
        if self.workers == 0:
            return work()  # inline, on the loop (measured against the pool in make bench)
        if self._executor is None:
            self._executor = WorkPool(self.workers, name="db")
        return await asyncio.wrap_future(self._executor.submit(work, urgent))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"


def is_unavailable(error: BaseException) -> bool:
    """The database could not be reached or was busy: try again later, nothing was applied."""
    from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, (InterfaceError, DisconnectionError)):
        return True
    if not isinstance(error, OperationalError):
        return False
    if type(error.orig).__module__.startswith("sqlite3"):
        # SQLite reports a missing table as "operational" too; only these mean "try again later".
        return any(part in str(error.orig).lower() for part in SQLITE_UNAVAILABLE)
    return True


SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "readonly database", "database or disk is full")
