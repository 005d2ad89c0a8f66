"""Start-up recognises a schema at the head without alembic, and migrates whatever is behind."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import alembic_config, migration_heads, schema_is_current, upgrade


def test_the_heads_read_from_the_scripts_are_alembics_heads(database):
    assert migration_heads() == set(ScriptDirectory.from_config(alembic_config(database.engine)).get_heads())


def test_a_schema_behind_the_head_is_migrated_and_one_at_the_head_left_alone(database):
    assert schema_is_current(database.engine)
    command.downgrade(alembic_config(database.engine), "0008_i10_merge")
    assert not schema_is_current(database.engine)
    assert "ix_report_open" not in {index["name"] for index in inspect(database.engine).get_indexes("report")}
    upgrade(database.engine)
    assert schema_is_current(database.engine)
    assert "ix_report_open" in {index["name"] for index in inspect(database.engine).get_indexes("report")}
    upgrade(database.engine)  # nothing to do
    assert schema_is_current(database.engine)
