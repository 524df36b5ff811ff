"""Short reads of a few rows at the lowest cost (`chorus serve`'s hot path, issue 22).

A :class:`Reads` keeps, per thread, one DBAPI connection of the engine's pool; each
:class:`ReadUnitOfWork` reads on it, never across a response: on SQLite in one plain read
transaction (``BEGIN`` … ``ROLLBACK``, a snapshot without a write lock); on PostgreSQL
each statement on its own (autocommit: each sees what was committed when it ran), which
spares a request the two round trips of ``BEGIN`` and ``ROLLBACK`` (measured: 1.5× the
requests a second). The statements are SQLAlchemy Core statements
built once by the domain (with named ``bindparam``s); each is compiled once for the
store's dialect and then run on the DBAPI cursor with its parameters: no ORM session,
no statement compiled, no SQLAlchemy result per call. Rows are named tuples (read by
attribute, as SQLAlchemy's rows are), with the column types' conversions applied (a
SQLite date read as ``datetime``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import namedtuple
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chorus_cli.kernel.clock import Clock
    from chorus_cli.store.journal import Journal

CACHE_MAX = 512  # compiled statements kept (the domain's are a few dozen shapes)
PROGRESS_STEPS = 1000  # SQLite's virtual machine steps between two looks at a budget


class OverBudget(Exception):
    """A read stopped as it ran past its unit of work's budget (``Reads.unit(budget=…)``,
    SQLite), or work its caller knows will take longer: to be run again where it may
    take its time."""


class _Prepared:
    """A statement compiled for one dialect: its SQL, how its parameters are passed,
    the type conversions of its parameters and of its columns, its row type."""

    __slots__ = ("statement", "sql", "order", "defaults", "binds", "results", "row")

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.statement = statement  # kept: its id is the cache's key
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup) if dialect.positional else None
        # A parameter with no value (``bindparam(name)``) must be given: left out, the
        # call fails rather than run with None.
        binds = compiled.binds
        self.defaults = {
            name: value for name, value in compiled.params.items() if not binds[name].required
        }
        self.binds = dict(compiled._bind_processors)
        columns = compiled._result_columns
        self.results = [
            (i, processor)
            for i, column in enumerate(columns)
            if (processor := column[3]._cached_result_processor(dialect, None)) is not None
        ]
        self.row = namedtuple("Row", [column[0] for column in columns], rename=True)  # type: ignore[misc]

    def parameters(self, given: dict[str, Any]) -> Any:
        values = {**self.defaults, **given}  # a copy: the processors convert in it
        for name, process in self.binds.items():
            values[name] = process(values[name])
        if self.order is not None:
            return tuple(values[name] for name in self.order)
        return values


class Reads:
    """What a server keeps to read: the engine, a connection per thread, the compiled
    statements."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Any = None
        self._local = threading.local()
        self._prepared: dict[int, _Prepared] = {}
        self._held: list[Any] = []
        self._lock = threading.Lock()

    @property
    def engine(self) -> Any:
        """The store's engine, on first use (migrated then, as every unit of work's)."""
        if self._engine is None:
            from chorus_cli.store.engine import get_engine

            self._engine = get_engine(self.url)
        return self._engine

    @property
    def dialect(self) -> Any:
        return self.engine.dialect

    @property
    def sqlite(self) -> bool:
        return bool(self.dialect.name == "sqlite")

    def prepared(self, statement: Any) -> _Prepared:
        found = self._prepared.get(id(statement))
        if found is None or found.statement is not statement:
            found = _Prepared(statement, self.dialect)
            with self._lock:
                if len(self._prepared) >= CACHE_MAX:
                    self._prepared.clear()
                self._prepared[id(statement)] = found
        return found

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.engine.raw_connection()
            if not self.sqlite:
                connection.dbapi_connection.autocommit = True  # reset by ``_release``
            self._local.connection = connection
            with self._lock:
                self._held.append(connection)
        return connection

    def _drop(self) -> None:
        """The thread's connection, after a failure: invalidated (a new one next time)."""
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with self._lock:
                if connection in self._held:
                    self._held.remove(connection)
            with contextlib.suppress(Exception):  # already broken; the pool forgets it
                connection.invalidate()

    def _release(self, connection: Any) -> None:
        """A connection back to the pool as the pool gave it."""
        if not self.sqlite:
            connection.dbapi_connection.autocommit = False
        connection.close()

    def close(self) -> None:
        """The connections back to the pool (the server has stopped)."""
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            with contextlib.suppress(Exception):  # closing after a failure
                self._release(connection)

    def unit(self, clock: Clock, journal: Journal, budget: float | None = None) -> ReadUnitOfWork:
        """A unit of work; ``budget``: the seconds its reads may take on SQLite, past
        which the statement running stops with :class:`OverBudget`."""
        return ReadUnitOfWork(self, clock, journal, budget if self.sqlite else None)


class ReadUnitOfWork:
    """``with reads.unit(clock, journal) as uow: uow.first(statement, …)``: reads (on
    SQLite in one read transaction, rolled back at the end); what the domain's read use
    cases need of a unit of work (``rows``, ``first``, ``dialect_name``, ``clock``, and
    ``journal``, where ``technical.record_use`` records a call: this unit of work
    writes nothing). The uses recorded reach ``journal`` when the unit ends well, not
    when it fails (one stopped past its budget is run again, and records then)."""

    def __init__(
        self, reads: Reads, clock: Clock, journal: Journal, budget: float | None = None
    ) -> None:
        self.reads = reads
        self.clock = clock
        self.journal = _Uses()
        self._journal = journal
        self.budget = budget
        self.dialect_name: str = reads.dialect.name
        self._connection: Any = None  # the thread's, taken at ``__enter__``
        self._cursor: Any = None

    def __enter__(self) -> ReadUnitOfWork:
        connection = self._connection = self.reads._connection()
        try:
            self._cursor = connection.cursor()
            if self.reads.sqlite:
                self._cursor.execute("BEGIN")
            if self.budget is not None:  # the reads', from now
                deadline = time.perf_counter() + self.budget
                connection.dbapi_connection.set_progress_handler(
                    lambda: time.perf_counter() > deadline, PROGRESS_STEPS
                )
        except Exception:
            self.reads._drop()
            raise
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        try:
            if self.budget is not None:
                self._connection.dbapi_connection.set_progress_handler(None, 0)
            if self.reads.sqlite:
                self._cursor.execute("ROLLBACK")
            self._cursor.close()
        except Exception:
            self.reads._drop()
            if kind is None:
                raise
        if kind is None:
            for use in self.journal:
                self._journal.record(use)

    def rows(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        prepared = self.reads.prepared(statement)
        try:
            self._cursor.execute(prepared.sql, prepared.parameters(params or {}))
            found = self._cursor.fetchall()
        except Exception as error:
            if self.budget is not None and _interrupted(error):
                raise OverBudget() from None  # the connection is sound: kept
            self.reads._drop()
            raise
        make = prepared.row._make
        if not prepared.results:
            return [make(row) for row in found]
        shown = []
        for row in found:
            values = list(row)
            for i, process in prepared.results:
                values[i] = process(values[i])
            shown.append(make(values))
        return shown

    def first(self, statement: Any, params: dict[str, Any] | None = None) -> Any:
        found = self.rows(statement, params)
        return found[0] if found else None


class _Uses(list):  # type: ignore[type-arg]
    """A read unit of work's uses, kept until it ends (``journal.record(use)``)."""

    record = list.append


def _interrupted(error: Exception) -> bool:
    """Whether SQLite stopped a statement because its progress handler asked it to."""
    import sqlite3

    return isinstance(error, sqlite3.OperationalError) and str(error) == "interrupted"
