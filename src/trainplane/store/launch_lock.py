"""A lock shared by every control plane on one store, held while one decides what to launch.

Control planes on one home (a server and a CLI ``train``, say) each read the capacity in use, then claim
queued jobs that fit. Without a lock both can see the same free capacity and each launch into it. The
lock spans that read and the claims only (a claimed job counts as in use from then on), so the wait is
milliseconds. PostgreSQL: a session-level advisory lock. SQLite on disk: ``flock`` on a file beside the
database. In-memory SQLite is one process's: a thread lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from trainplane.store.file_lock import file_lock

# pg_advisory_lock's key: any 64-bit number no other lock on the database uses ("tplaunch").
ADVISORY_KEY = 0x74706C61756E6368
_threads = threading.Lock()


@contextmanager
def launch_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                connection.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with _threads:
            yield
        return
    with file_lock(f"{database}.launch-lock"):
        yield
