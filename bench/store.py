"""A national-scale store, built once and cached: 3,800 parks, 300,000 people, N reports.

SQLite goes to ``bench/.cache/store-<N>.db``; PostgreSQL to the schema ``bench_<N>`` of the
bench database. Rows are written with the drivers' bulk paths (``executemany`` in one transaction
per table on SQLite, ``COPY`` on PostgreSQL) into the schema the real migrations created; the big
tables' secondary indexes are dropped for the load and built again after it (measured on the shared
2-core machine: see README, "Benchmark at national scale").

The shape (a decision, the issue gives only the totals): a police officer covers 5 parks,
a municipality official 10, every park has one admin, and one coordinator holds the police
role in the first 100 parks. Park 0 is the largest (2% of all reports). 10% of the reports
are open and due (``id % 10 == 0``), 2% open and not due, the rest answered and closed.
Parks ``% 10 == 0`` have due reports one reminder short of escalation.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import configure_postgres, make_engine, schema_is_current, upgrade

BUILD_VERSION = "v5"
CACHE = Path(__file__).resolve().parent / ".cache"
NOW = datetime(2026, 11, 30, 9, 0)  # Monday 10:00 in Amsterdam: working time
SPAN = timedelta(days=730)

PARKS = 3_800
PEOPLE = 300_000
POLICE_PER_PARKS, MUNICIPALITY_PER_PARKS = 5, 10
COORDINATOR_PARKS = 100
TELEGRAM_BASE_ID = 1_000_000
BATCH = 20_000


@dataclass(frozen=True)
class Shape:
    """Who is who in the store (person ids)."""

    parks: int = PARKS
    people: int = PEOPLE

    @property
    def police(self) -> range:
        return range(1, self.parks // POLICE_PER_PARKS + 1)

    @property
    def municipality(self) -> range:
        start = self.police.stop
        return range(start, start + self.parks // MUNICIPALITY_PER_PARKS)

    @property
    def coordinator(self) -> int:
        return self.municipality.stop

    @property
    def admins(self) -> range:
        return range(self.coordinator + 1, self.coordinator + 1 + self.parks)

    @property
    def reporters(self) -> range:
        return range(self.admins.stop, self.people + 1)

    @property
    def frequent_reporter(self) -> int:
        """Files every 1,000th report: the /mijnmeldingen case."""
        return self.reporters.start

    @property
    def officials_and_admins(self) -> range:
        return range(1, self.admins.stop)

    def police_of(self, park: int) -> int:
        return self.police.start + park // POLICE_PER_PARKS

    def municipality_of(self, park: int) -> int:
        return self.municipality.start + park // MUNICIPALITY_PER_PARKS

    def admin_of(self, park: int) -> int:
        return self.admins.start + park


def prefix(park: int) -> str:
    """Four capital letters per park (AAAA, AAAB, ...), as report numbers need."""
    letters = ""
    for _ in range(4):
        park, digit = divmod(park, 26)
        letters = chr(ord("A") + digit) + letters
    return letters


def sqlite_url(reports: int) -> str:
    return f"sqlite:///{CACHE}/store-{reports}.db"


POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def ensure_postgres_url(base: str, reports: int) -> str:
    """A URL of the cached PostgreSQL store whose search path is the store's schema."""
    ensure_postgres(base, reports).dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3Dbench_{reports}"


def postgres_engine(base: str, schema: str) -> Engine:
    """An engine on ``schema``, configured as ``make_engine`` configures the bot's."""
    from sqlalchemy import create_engine

    engine = create_engine(base, connect_args={"options": f"-csearch_path={schema}"})
    configure_postgres(engine)
    return engine


def ensure_sqlite(reports: int, say=print) -> str:
    """The cached SQLite store of this size, built if missing; returns its URL."""
    CACHE.mkdir(exist_ok=True)
    url = sqlite_url(reports)
    done = CACHE / f"store-{reports}.{BUILD_VERSION}.done"
    if done.exists():
        engine = make_engine(url)
        _catch_up(engine)
        engine.dispose()
        return url
    path = CACHE / f"store-{reports}.db"
    for stale in (path, path.with_suffix(".db-wal"), path.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    engine = make_engine(url)
    upgrade(engine)
    say(f"building the SQLite store with {reports:,} reports (once; cached in {CACHE})")
    _fill(engine, reports, _sqlite_writer(engine))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    done.touch()
    return url


def ensure_postgres(base: str, reports: int, say=print) -> Engine:
    """The cached PostgreSQL store of this size (one schema), built if missing."""
    schema = f"bench_{reports}"
    admin = make_engine(base)
    with admin.begin() as connection:
        comment = connection.execute(text(
            "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = :name"),
            {"name": schema}).scalar()
        if comment == f"complete {BUILD_VERSION}":
            admin.dispose()
            engine = postgres_engine(base, schema)
            _catch_up(engine)
            return engine
        connection.execute(text(f'drop schema if exists "{schema}" cascade'))
        connection.execute(text(f'create schema "{schema}"'))
    engine = postgres_engine(base, schema)
    upgrade(engine)
    say(f"building the PostgreSQL store with {reports:,} reports in schema {schema} (once; cached)")
    _fill(engine, reports, _postgres_writer(engine))
    with admin.begin() as connection:
        connection.execute(text(f'analyze "{schema}".report'))
        connection.execute(text(f'comment on schema "{schema}" is \'complete {BUILD_VERSION}\''))
    vacuum_postgres(engine)
    admin.dispose()
    return engine


def vacuum_postgres(engine: Engine, tables: tuple[str, ...] = ()) -> None:
    """``VACUUM ANALYZE``, as autovacuum does after bulk changes: fresh statistics, and the
    visibility map that lets covering indexes answer without visiting the table."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"vacuum analyze {', '.join(tables)}".strip()))


def _catch_up(engine: Engine) -> None:
    """A cached store gets the migrations added since it was built, and then fresh statistics
    (SQLite's planner ignores an index it has none for)."""
    if schema_is_current(engine):
        return
    upgrade(engine)
    _indexes_as_in_models(engine)
    if engine.dialect.name == "postgresql":
        vacuum_postgres(engine)
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def _indexes_as_in_models(engine: Engine) -> None:
    """A cached store made before an index was added to the models gets it (cheap next to a rebuild)."""
    from sqlmodel import SQLModel

    with engine.begin() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)


# ---- writers ---------------------------------------------------------------------------------------

def _sqlite_writer(engine: Engine):
    def write(table: str, columns: list[str], rows) -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")  # a store being built is thrown away if the build fails
            cursor.execute("BEGIN")  # one transaction per table: the driver runs in autocommit mode here
            sql = f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})"
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
            cursor.execute("COMMIT")
        finally:
            raw.close()
    return write


def _postgres_writer(engine: Engine):
    def write(table: str, columns: list[str], rows) -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
            raw.commit()
            if "id" in columns:
                cursor.execute(f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(select coalesce(max(id), 1) from {table}))")
                raw.commit()
        finally:
            raw.close()
    return write


# ---- rows ------------------------------------------------------------------------------------------

DRUGS, REAL_ESTATE = ["police", "municipality"], ["municipality"]


LOADED_TABLES = ("person", "report", "reportrecipient", "outboxmessage")


@contextmanager
def _indexes_built_afterwards(engine: Engine) -> Iterator[None]:
    """Drop the secondary indexes of the big tables for the load and build them once after it:
    several times faster than keeping them up to date row by row."""
    names = ", ".join(f"'{table}'" for table in LOADED_TABLES)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            indexes = connection.execute(text(
                "select i.indexname, i.indexdef from pg_indexes i join pg_class c on c.relname = i.indexname "
                "and c.relnamespace = (select oid from pg_namespace where nspname = current_schema()) "
                f"where i.schemaname = current_schema() and i.tablename in ({names}) "
                "and not exists (select 1 from pg_constraint k where k.conindid = c.oid)")).all()
        else:
            indexes = connection.execute(text(
                f"select name, sql from sqlite_master where type = 'index' and tbl_name in ({names}) "
                "and sql is not null")).all()
        for name, _ in indexes:
            connection.execute(text(f'drop index "{name}"'))
    yield
    with engine.begin() as connection:
        for _, definition in indexes:
            connection.execute(text(definition))


def _fill(engine: Engine, reports: int, write) -> None:
    with _indexes_built_afterwards(engine):
        _fill_rows(engine, reports, write)


def _fill_rows(engine: Engine, reports: int, write) -> None:
    shape = Shape()
    created = NOW - SPAN
    write("park", ["id", "slug", "name", "prefix", "timezone", "language", "last_report_number",
                   "first_reminder_after_s", "repeat_every_s", "escalate_after", "urgent_first_reminder_after_s",
                   "urgent_repeat_every_s", "urgent_in_working_time", "work_start", "work_end", "work_days"],
          ((park + 1, f"park-{park:04d}", f"Bedrijventerrein {park:04d}", prefix(park), "Europe/Amsterdam", "nl",
            0, 2 * 86400, 86400, 3, 3600, 3600, False, "08:00", "18:00", "1,2,3,4,5") for park in range(PARKS)))
    write("category", ["id", "park_id", "key", "name_nl", "name_en", "roles", "position", "enabled"],
          (row for park in range(PARKS) for row in (
              (2 * park + 1, park + 1, "drugs", "Drugs", "Drugs", json.dumps(DRUGS), 0, True),
              (2 * park + 2, park + 1, "vastgoed", "Vastgoed", "Real estate", json.dumps(REAL_ESTATE), 1, True))))
    write("person", ["id", "platform", "external_id", "display_name", "language", "private_chat_id",
                     "language_chosen", "created_at"],
          ((person, "telegram", str(TELEGRAM_BASE_ID + person), f"Persoon {person}", "en" if person % 7 == 0 else "nl",
            str(TELEGRAM_BASE_ID + person), False, created) for person in range(1, PEOPLE + 1)))

    def roles():
        for park in range(PARKS):
            yield shape.police_of(park), park + 1, "police"
            yield shape.municipality_of(park), park + 1, "municipality"
            yield shape.admin_of(park), park + 1, "admin"
            if park < COORDINATOR_PARKS:
                yield shape.coordinator, park + 1, "police"
    write("role", ["person_id", "park_id", "role", "verified_at"], ((*row, created) for row in roles()))
    write("groupchat", ["park_id", "platform", "chat_id", "title", "linked_by_person_id", "linked_at"],
          ((park + 1, "telegram", str(-1_000_000_000_000 - park), f"Groep {park:04d}", shape.admin_of(park), created)
           for park in range(PARKS)))

    numbers = [0] * PARKS
    write("report", ["id", "park_id", "number", "category_id", "roles", "when_kind", "what", "photos", "anonymous",
                     "urgent", "reporter_person_id", "status", "lead_person_id", "created_at", "first_feedback_at",
                     "closed_at", "reminder_count", "next_reminder_at", "rating"],
          (_report(shape, numbers, reports, n) for n in range(1, reports + 1)))
    write("reportrecipient", ["report_id", "person_id"],
          ((n, person) for n in range(1, reports + 1) for person in _officials(shape, n)))
    with engine.begin() as connection:
        for park, number in enumerate(numbers):
            if number:
                connection.execute(text("update park set last_report_number = :n where id = :id"),
                                   {"n": number, "id": park + 1})
    sent = created + SPAN - timedelta(days=60)
    write("outboxmessage", ["platform", "chat_id", "text", "choices", "purpose", "status", "attempts",
                            "next_attempt_at", "created_at", "sent_at"],
          (("telegram", str(TELEGRAM_BASE_ID + 1 + n % 1000), "oud bericht", "[]", "reply", "sent", 1,
            sent, sent + timedelta(seconds=n), sent) for n in range(min(reports // 10, 100_000))))


def _park(n: int) -> int:
    """Park 0 is the largest (every 50th report); the rest spread evenly."""
    return 0 if n % 50 == 25 else 1 + (n * 7919) % (PARKS - 1)


def _officials(shape: Shape, n: int) -> list[int]:
    """The officials report ``n`` was delivered to."""
    park = _park(n)
    officials = [shape.municipality_of(park)]
    if n % 3 != 0:  # drugs: police too
        officials.insert(0, shape.police_of(park))
        if park < COORDINATOR_PARKS:
            officials.append(shape.coordinator)
    return officials


def _report(shape: Shape, numbers: list[int], total: int, n: int) -> tuple:
    """Report ``n`` (1-based, also its id) as a row."""
    park = _park(n)
    numbers[park] += 1
    drugs = n % 3 != 0
    created = NOW - SPAN + SPAN * (n / (total + 1))
    reporter = shape.frequent_reporter if n % 1000 == 0 else shape.reporters.start + 1 + (n * 104729) % (
        len(shape.reporters) - 1)
    lead = None
    if n % 10 == 0:  # open and due
        status, feedback, closed, next_at = "open", None, None, NOW - timedelta(hours=1)
        count = 2 if park % 10 == 0 else 0
        if n % 30 == 0:
            lead = _officials(shape, n)[0]
    elif n % 50 == 1:  # open, not due yet
        status, feedback, closed, next_at, count = "open", None, None, NOW + timedelta(days=1), 0
    else:
        wait = timedelta(hours=1 + n % 97)
        status, feedback, closed, next_at, count = "closed", created + wait, created + 2 * wait, None, n % 3
    return (n, park + 1, numbers[park], 2 * park + (1 if drugs else 2), json.dumps(DRUGS if drugs else REAL_ESTATE),
            "now", "Bench-melding", "[]", True, n % 97 == 0, reporter, status, lead, created, feedback, closed, count,
            next_at, ("answered" if n % 4 else "not_enough") if feedback and n % 2 else None)
