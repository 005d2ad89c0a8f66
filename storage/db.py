"""Engine, sessions and schema migrations."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import re

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        _ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _ensure_sqlite_directory(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to date (``weerbaar db upgrade`` and every start).

    Alembic is imported only when there is something to do: at a schema already at the head
    that saves a second of start-up and ~10 MiB of the bot's memory.
    """
    if revision == "head" and _at_heads(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


def _at_heads(engine: Engine) -> bool:
    """True when the database's revisions are exactly the heads of the migration files."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return False  # not a file this quick check understands: let Alembic decide
        revisions.add(revision.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - parents
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        current = {row[0] for row in connection.execute(text("select version_num from alembic_version"))}
    return bool(heads) and current == heads


class Database:
    """Hands out sessions; one ``transaction()`` is one unit of work."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"
