"""Opening a store: engine settings per database, and migrations to the newest schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import StaticPool

from trainplane.errors import ConfigurationError
from trainplane.store.file_lock import file_lock
from trainplane.store.repository import Store

_MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (CLI, API) run while the control plane writes; busy_timeout waits out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        if url.startswith("sqlite"):
            database = url.split("///", 1)[-1] if "///" in url else ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
            if not database or database == ":memory:":
                # An in-memory database lives in one connection: share it across threads.
                options["poolclass"] = StaticPool
            engine = create_engine(url, **options)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except Exception as exc:  # SQLAlchemy raises several types for bad URLs or missing drivers
        raise ConfigurationError(f"Cannot open database {url!r}: {exc}") from exc


_PG_MIGRATION_LOCK = 0x7472_6E70  # "trnp": one advisory-lock key for trainplane's migrations


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent).

    Two processes opening a new database at once (a server and a CLI, say) must not both create the
    tables: migrations are serialised by a file lock beside a SQLite file and by an advisory lock on
    PostgreSQL.
    """
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with _migration_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with file_lock(f"{database}.migrate.lock"):
        yield


def open_store(url: str) -> Store:
    engine = create_store_engine(url)
    try:
        migrate(engine)
    except Exception as exc:
        raise ConfigurationError(f"Cannot prepare database {url!r}: {exc}") from exc
    return Store(engine)
