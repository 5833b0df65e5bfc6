"""Alembic environment: trainplane runs migrations in-process on the connection it hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from trainplane.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # Command-line use (alembic revision --autogenerate): connect to the URL in the config.
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
        with engine.connect() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
