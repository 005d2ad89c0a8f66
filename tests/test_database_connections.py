"""PostgreSQL connections the server dropped (a restart, an idle timeout): an idle one is tested
and replaced before use; a busy one fails one transaction, which callers retry, and is replaced."""

import os

import pytest
from sqlalchemy import create_engine, text

from storage.db import Database, is_unavailable, ping_when_idle
from tests.databases import POSTGRES_URL, postgres_unavailable_reason


@pytest.fixture
def postgres_url() -> str:
    reason = postgres_unavailable_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; in CI the PostgreSQL variants must run")
        pytest.skip(reason)
    return POSTGRES_URL


def database(url: str, idle_after: float) -> Database:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, after=idle_after)
    return Database(engine)


def server_process(db: Database) -> int:
    with db.transaction() as session:
        return session.connection().exec_driver_sql("select pg_backend_pid()").scalar_one()


def drop_connection(url: str, pid: int) -> None:
    """What a server restart does to a pooled connection: its server process ends."""
    admin = create_engine(url)
    with admin.connect() as connection:
        assert connection.execute(text("select pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
        connection.commit()
    admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(postgres_url):
    db = database(postgres_url, idle_after=0.0)  # every connection counts as idle
    try:
        first = server_process(db)
        drop_connection(postgres_url, first)
        assert server_process(db) != first  # no error reached the caller
    finally:
        db.engine.dispose()


def test_a_connection_used_moments_ago_is_not_tested_and_fails_once_then_is_replaced(postgres_url):
    db = database(postgres_url, idle_after=3600.0)  # nothing counts as idle: no test before use
    try:
        first = server_process(db)
        drop_connection(postgres_url, first)
        with pytest.raises(Exception) as failure:
            server_process(db)
        assert is_unavailable(failure.value)  # callers retry such a failure; nothing was applied
        assert server_process(db) != first
    finally:
        db.engine.dispose()
