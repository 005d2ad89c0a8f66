import pytest

from tests.databases import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    """A migrated database, once on SQLite and once on PostgreSQL."""
    with fresh_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def sqlite_database(tmp_path):
    with fresh_database("sqlite", tmp_path) as db:
        yield db
