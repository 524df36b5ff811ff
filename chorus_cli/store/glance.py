"""A glance at the store for shell completion (OUT-6): a unit of work that only reads,
on a connection of its own that never creates the store, never migrates it and never
waits for it more than a moment. A store that is missing, locked, unreachable or not
at the head revision raises; completion then offers nothing.

The engines of ``engine.py`` are not used: they create a missing SQLite file (SEC-6's
default store), migrate on first use and wait 30 s for a lock, all right for a command
and all wrong for a key press.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_cli.store.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# How long a glance waits: for a SQLite lock, a PostgreSQL lock or statement, a
# PostgreSQL server that does not answer.
LOCK_WAIT_MS = 200
STATEMENT_MS = 2000
CONNECT_SECONDS = 2


class Unavailable(Exception):
    """The store cannot be glanced at: none there, another schema, another file."""


class Glance(UnitOfWork):
    """``with Glance(settings, clock) as uow:`` reads; it has no ``commit``."""

    _engine: Engine | None = None

    def __enter__(self) -> Glance:
        from sqlalchemy import text
        from sqlmodel import Session

        from chorus_cli.store.engine import HEAD_REVISION

        self._engine = _engine(self.settings.database_url)
        try:
            self.session = Session(self._engine)
            self.session.begin()
            if self._engine.dialect.name == "postgresql":
                self.session.execute(text(f"SET LOCAL lock_timeout = {LOCK_WAIT_MS}"))
                self.session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_MS}"))
            revision = self.session.execute(text("SELECT version_num FROM alembic_version"))
            if revision.scalar() != HEAD_REVISION:
                raise Unavailable("not at the head revision")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        session = getattr(self, "session", None)
        if session is not None:
            session.close()  # rolls back: a glance never writes
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def commit(self) -> None:
        raise RuntimeError("a glance at the store writes nothing")


def _engine(url: str) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from chorus_cli.store.engine import normalise_url

    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            raise Unavailable("no store file")
        return create_engine("sqlite://", creator=_sqlite_opener(database), poolclass=NullPool)
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in make_url(url).query:
        connect_args["connect_timeout"] = CONNECT_SECONDS
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


def _sqlite_opener(database: str) -> Any:
    """A connection to the existing file only (``mode=rw``: SQLite creates nothing),
    waiting ``LOCK_WAIT_MS`` at most for a lock."""
    import sqlite3
    from pathlib import Path
    from urllib.parse import quote

    where = quote(str(Path(database).expanduser().absolute()))

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            f"file:{where}?mode=rw", uri=True, timeout=LOCK_WAIT_MS / 1000, check_same_thread=False
        )

    return connect
