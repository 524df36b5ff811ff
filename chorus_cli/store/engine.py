"""Engines for SQLite and PostgreSQL, and migrate-on-first-use (OPS-5).

SQLite is opened in WAL mode with a busy timeout, foreign keys on, synchronous=FULL,
and every transaction begun IMMEDIATE: pysqlite's lazy BEGIN loses concurrent
read-modify-write updates (see SECURITY.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Engine

# The newest migration; kept here so a store can be checked without importing Alembic.
HEAD_REVISION = "0018"

_engines: dict[str, Engine] = {}

# Execution option of a connection that only reads (``UnitOfWork.reading()``).
READ_ONLY = "chorus_read_only"


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def get_engine(url: str, migrate: bool = True) -> Engine:
    """One engine per URL per process, migrated to the head revision on first use."""
    url = normalise_url(url)
    engine = _engines.get(url)
    if engine is None:
        engine = _make_engine(url)
        if migrate:
            ensure_migrated(engine)
        from sqlalchemy import event

        event.listen(engine, "commit", _count_commit)  # the command's, not the migration's
        _engines[url] = engine
    return engine


# Commits made by the command running (SEC-12): an error met after one of them must not
# say "nothing was saved". Reset by ``chorus_cli.cli`` as each command starts, not as
# each line of a batch does (OPS-6): what earlier lines saved stays counted.
_commits = [0]


def _count_commit(_connection: object) -> None:
    _commits[0] += 1


def reset_commits() -> None:
    _commits[0] = 0


def saved_something() -> bool:
    """Whether the running command committed anything yet."""
    return _commits[0] > 0


def forget_inherited() -> None:
    """In a forked process: the parent's engines forgotten, their connections left open
    for the parent (they are its sockets and files), none closed or reused here."""
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


def dispose_all() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def _make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            _prepare_file(Path(database).expanduser())
        _check_sqlite_parameters(url)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # Take transaction control from pysqlite so BEGIN IMMEDIATE is ours to emit.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):  # type: ignore[no-untyped-def]
            # A read-only unit of work (an export) takes a snapshot and no write lock.
            reading = connection.get_execution_options().get(READ_ONLY)
            connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

        return engine
    return _postgresql_engine(url)


# SEC-10: PostgreSQL never waits without end. Connecting: CONNECT_TIMEOUT seconds unless
# the URL says ``connect_timeout=N``. Inside a unit of work: a lock another session holds
# is waited for LOCK_TIMEOUT at most (``lock_timeout``), and a session left idle inside a
# transaction is ended by the server after IDLE_TIMEOUT (a suspended chorus holding
# locks). No statement timeout: chorus' long statements are legitimate (a SIRENE import's
# COPY, ``db copy``, a set-based bulk import) and none waits on a person; what makes a
# statement hang is a lock, which lock_timeout bounds. ``options=-c lock_timeout=…`` (or
# ``idle_in_transaction_session_timeout``) in the URL replaces chorus' value.
CONNECT_TIMEOUT = 10
LOCK_TIMEOUT = "30s"
IDLE_TIMEOUT = "10min"


def connect_timeout(url: str) -> int:
    """The seconds chorus waits for a PostgreSQL store to answer when connecting."""
    from sqlalchemy.engine import make_url

    given = make_url(normalise_url(url)).query.get("connect_timeout")
    try:
        return int(given) if isinstance(given, str) else CONNECT_TIMEOUT
    except ValueError:
        return CONNECT_TIMEOUT


def _postgresql_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    query = make_url(url).query
    _check_parameters(url, query)
    connect_args = {} if "connect_timeout" in query else {"connect_timeout": CONNECT_TIMEOUT}
    engine = create_engine(url, pool_pre_ping=False, connect_args=connect_args)
    options = " ".join(_values(query.get("options")))
    settings = [
        f"SET {name} = '{value}'"
        for name, value in (
            ("lock_timeout", LOCK_TIMEOUT),
            ("idle_in_transaction_session_timeout", IDLE_TIMEOUT),
        )
        if name not in options
    ]
    if settings:

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            with dbapi_connection.cursor() as cursor:
                cursor.execute("; ".join(settings))
            dbapi_connection.commit()  # a SET outlives its transaction once committed

    return engine


def _values(value: object) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]  # type: ignore[attr-defined]


def _check_parameters(url: str, query: object) -> None:
    """URL parameters libpq does not know, or a ``connect_timeout`` that is not a whole
    number, are bad input (SEC-3), said before connecting; so is a ``connect_timeout`` of
    0 or less, which libpq takes as "wait for ever" (SEC-10)."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import make_conninfo

    from chorus_cli.kernel.errors import BadInput
    from chorus_cli.store.keychain import store_id

    for name in query:  # type: ignore[attr-defined]
        try:
            make_conninfo("", **{name: "1"})
        except ProgrammingError:
            raise BadInput("sec3.url_parameter_unknown", url=store_id(url), name=name) from None
    for value in _values(query.get("connect_timeout")):  # type: ignore[attr-defined]
        if value.strip().lstrip("-").isdigit() and int(value) <= 0:  # libpq: 0 waits for ever
            raise BadInput("sec10.connect_timeout_positive", url=store_id(url), value=value)
        if not value.strip().isdigit():
            raise BadInput(
                "sec3.url_parameter_number", url=store_id(url), name="connect_timeout", value=value
            )


def _check_sqlite_parameters(url: str) -> None:
    """pysqlite's numeric URL parameters, read by SQLAlchemy with ``float()``/``int()``:
    a value that is not a number is bad input (SEC-3), not an internal error."""
    from sqlalchemy.engine import make_url

    from chorus_cli.kernel.errors import BadInput
    from chorus_cli.store.keychain import store_id

    query = make_url(url).query
    for name, kind in (("timeout", float), ("cached_statements", int), ("detect_types", int)):
        for value in _values(query.get(name)):
            try:
                kind(value)
            except ValueError:
                raise BadInput(
                    "sec3.url_parameter_number", url=store_id(url), name=name, value=value
                ) from None


_warned: set[Path] = set()


def _prepare_file(path: Path) -> None:
    """A SQLite store's file: its directory must exist (a mistyped --db is refused, not
    created: only the default store's directory is made, SEC-6); a new store is created
    0600 before SQLite opens it, and its -wal and -shm follow its mode (SEC-2); so is an
    empty file chorus is about to make a store of (``touch c.db`` first); an existing
    store others can read is named once. A symbolic link is followed when it leads to a
    file, and refused when it leads nowhere (SEC-3): no store is created through a link."""
    import os
    import stat

    from chorus_cli.kernel.errors import BadInput

    if not path.parent.is_dir():
        raise BadInput("sec6.store_dir_missing", path=str(path.parent))
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        try:
            found = path.stat()
        except FileNotFoundError:  # O_EXCL met a link; stat() follows it, to nothing
            raise BadInput("sec3.store_link_dangling", path=str(path), target=_link(path)) from None
        mode = stat.S_IMODE(found.st_mode)
        if mode & 0o077 and found.st_size == 0 and stat.S_ISREG(found.st_mode):
            try:
                os.chmod(path, 0o600)  # not a store yet: it will hold every hash (SEC-2)
                return
            except OSError:  # another user's file: said below
                pass
        if mode & 0o077 and path not in _warned and (found.st_size == 0 or _is_sqlite(path)):
            from chorus_cli.store import notes

            _warned.add(path)
            notes.note("sec2.store_readable", path=str(path), mode=f"{mode:o}")
    else:
        os.close(fd)


def _link(path: Path) -> str:
    import os

    try:
        return os.readlink(path)
    except OSError:  # no longer a link: removed meanwhile
        return "?"


def _is_sqlite(path: Path) -> bool:
    """Whether the file is a SQLite database (another file is refused when opened)."""
    try:
        with path.open("rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with engine.connect() as conn:  # a store that cannot be reached says so, once
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:  # no such table: a new store
            return None


def ensure_migrated(engine: Engine) -> None:
    """Bring the store to the head revision; a no-op (one SELECT) when it is there."""
    if current_revision(engine) != HEAD_REVISION:
        upgrade(engine)


def migrations() -> Config:
    """Alembic's configuration of chorus' migrations (imports Alembic: slow, so only
    where a store is migrated or its migrations read)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def upgrade(engine: Engine) -> None:
    """Run Alembic's upgrade to head on this engine."""
    from alembic import command

    config = migrations()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
