"""Alembic's entry: upgrades the app's database, whether started by db.migrate or `alembic` by hand.

The schema is SQLModel.metadata (db/models.py), so `alembic revision --autogenerate` compares the
models with a database at head. A database made by `create_all` before migrations existed (tables,
no alembic_version) is stamped at the baseline first, then upgraded, keeping its rows.
"""

from __future__ import annotations

import logging.config

from alembic import context
from sqlalchemy import inspect
from sqlmodel import SQLModel

from db import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from db.migrate import BASELINE, database_url, locked

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    tables = inspect(connection)
    if tables.has_table("jobs") and not tables.has_table("alembic_version"):
        context.get_context().stamp(context.script, BASELINE)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported: run them against the database.")

shared = config.attributes.get("connection")
if shared is not None:  # db.migrate.upgrade: the caller holds the lock and the transaction
    _run(shared)
else:  # `alembic upgrade head` by hand
    if config.config_file_name:
        logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)
    from db.engine import make_engine

    engine = make_engine(database_url(), upgrade=False)
    with locked(engine) as connection:
        _run(connection)
    engine.dispose()
