"""Test databases: SQLite everywhere, PostgreSQL where it runs (and always in CI)."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from storage.db import Database, configure_postgres, make_engine, upgrade

POSTGRES_URL = os.environ.get("WEERBAAR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def postgres_unavailable_reason() -> str | None:
    try:
        engine = make_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001
        return f"PostgreSQL at {POSTGRES_URL} is not reachable ({type(error).__name__})"
    return None


@contextmanager
def fresh_database(backend: str, tmp_path) -> Iterator[Database]:
    """A migrated, empty database of the given kind, dropped afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/weerbaar.db")
        upgrade(engine)
        yield Database(engine)
        engine.dispose()
        return
    reason = postgres_unavailable_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; in CI the PostgreSQL variants must run")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    configure_postgres(engine)  # as make_engine does: commits that do not wait for the disk, idle pings
    try:
        upgrade(engine)
        yield Database(engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()
