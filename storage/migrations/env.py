"""Alembic environment: the connection (or engine) comes from ``storage.db.alembic_config``."""

from alembic import context
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


# The caller (storage.db.upgrade) passes a connection that holds the schema lock.
if config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    engine = config.attributes.get("engine")
    if engine is None:  # pragma: no cover - direct `alembic` use
        from storage.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as direct:
        _run(direct)
