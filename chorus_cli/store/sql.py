"""Raw, set-based SQL on the unit of work's connection: the flows (OPS-1, OPS-2), the
seed (OPS-3), and the rules that write the same rows for one command or a chunk of a
flow (``domain.granting``).

Through the unit of work's own connection, so an import stays one transaction that a
refusal rolls back whole; no ORM object and no statement compilation per row: lookups
are one ``IN (...)`` query per chunk of rows, inserts one ``executemany`` (SQLite) or
``COPY`` (PostgreSQL) per table and chunk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chorus_cli.store.uow import UnitOfWork


def quote(name: str) -> str:
    return f'"{name}"'


def copy_rows(raw: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Append rows with PostgreSQL's ``COPY ... FROM STDIN`` on a psycopg connection
    (the flows' inserts and ``store copy``)."""
    names = ", ".join(quote(c) for c in columns)
    cursor = raw.cursor()
    try:
        with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


class Sql:
    """The unit of work's DBAPI connection, with the few operations bulk work needs.

    SQL is written with ``?`` placeholders, turned into ``%s`` for psycopg. ``bulk``:
    a flow's transaction (the planner told to use the indexes); a single command's
    session is flushed before and expired after (``granting.one``).
    """

    def __init__(self, uow: UnitOfWork, read_only: bool = False, bulk: bool = True) -> None:
        from sqlalchemy import DateTime

        connection = uow.reading() if read_only else uow.session.connection()
        self.dialect = connection.dialect
        self.sqlite = self.dialect.name == "sqlite"
        self.raw = connection.connection.driver_connection
        # Times as SQLAlchemy itself stores them (SQLite: text in its own format).
        if not self.sqlite and not read_only and bulk:
            # The planner's statistics predate the rows this transaction writes: it would
            # scan a table of "one row" that a big import has filled, once per chunk
            # (quadratic). Every lookup here goes by an index: make it use it.
            self.execute("SET LOCAL enable_seqscan = off")
        kind = DateTime(timezone=True).dialect_impl(self.dialect)
        self._time = kind.bind_processor(self.dialect) or (lambda value: value)

    @contextmanager
    def big_cache(self, kib: int = 16384) -> Iterator[None]:
        """SQLite: a bigger page cache (16 MiB) while a flow is loaded (random inserts into
        the login and token indexes), back to the default after."""
        if not self.sqlite:
            yield
            return
        self.raw.execute(f"PRAGMA cache_size=-{int(kib)}")
        try:
            yield
        finally:
            self.raw.execute("PRAGMA cache_size=-2000")

    @contextmanager
    def indexes_after(self, tables: Sequence[str]) -> Iterator[None]:
        """Load ``tables`` first and build their plain (non-unique) indexes after, each
        from its own definition as the store holds it, in the same transaction: one sort
        per index instead of a random insert per row, whose cost grows with the table
        (PERFORMANCE.md). Unique indexes stay: they still refuse what they refuse. For
        tables this transaction fills from empty (``seed``); a failure rolls back the
        whole, indexes included."""
        if self.sqlite:
            marks = self.marks(len(tables))
            found = self.rows(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                f" AND tbl_name IN ({marks}) AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
                list(tables),
            )
        else:
            found = self.rows(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i"
                " JOIN pg_namespace n ON n.nspname = i.schemaname"
                " JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = n.oid"
                " JOIN pg_index x ON x.indexrelid = c.oid"
                " WHERE i.schemaname = current_schema() AND i.tablename = ANY(?)"
                " AND NOT x.indisunique ORDER BY i.indexname",
                [list(tables)],
            )
        for name, _definition in found:
            self.execute(f"DROP INDEX {quote(name)}")
        yield
        for _name, definition in found:
            self.execute(definition)

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("%", "%%").replace("?", "%s")

    def time(self, value: datetime | None) -> Any:
        from datetime import UTC

        return None if value is None else self._time(value.astimezone(UTC))

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else bool(value)

    @staticmethod
    def marks(count: int) -> str:
        return ", ".join("?" * count)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.raw.cursor()
        try:
            cursor.execute(self._sql(sql), tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def where_in(self, sql: str, values: Iterable[Any], *before: Any) -> list[tuple[Any, ...]]:
        """``sql`` with ``{in}`` replaced by ``(?, ?, ...)`` for ``values`` (none: no rows)."""
        values = list(values)
        if not values:
            return []
        if not self.sqlite:  # one array parameter: one plan, no 900-mark query to parse
            return self.rows(sql.replace("IN {in}", "= ANY(?)"), [*before, values])
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(values), 900):  # well under every engine's limit
            part = values[start : start + 900]
            found += self.rows(sql.replace("{in}", f"({self.marks(len(part))})"), [*before, *part])
        return found

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        cursor = self.raw.cursor()
        try:
            cursor.execute(self._sql(sql), tuple(params))
        finally:
            cursor.close()

    def many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        if not rows:
            return
        cursor = self.raw.cursor()
        try:
            cursor.executemany(self._sql(sql), rows)
        finally:
            cursor.close()

    def insert(self, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """Append rows: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
        if not rows:
            return
        if self.sqlite:
            names = ", ".join(quote(c) for c in columns)
            self.many(
                f"INSERT INTO {quote(table)} ({names}) VALUES ({self.marks(len(columns))})", rows
            )
            return
        copy_rows(self.raw, table, columns, rows)

    def next_ids(self, table: str, count: int) -> Sequence[int]:
        """``count`` fresh primary keys for ``table``, taken before the rows are written
        (the rows that reference them go in the same chunk). SQLite: this transaction
        holds the write lock, so nobody else takes one meanwhile; PostgreSQL: from the
        table's sequence."""
        if count <= 0:
            return []
        if self.sqlite:
            (top,) = self.rows(f"SELECT coalesce(max(id), 0) FROM {quote(table)}")[0]
            return range(top + 1, top + 1 + count)
        found = self.rows(
            "SELECT nextval(pg_get_serial_sequence(?, 'id')) FROM generate_series(1, ?)",
            (table, count),
        )
        taken = [row[0] for row in found]
        if taken[-1] - taken[0] == count - 1 and taken == sorted(taken):
            return range(taken[0], taken[-1] + 1)  # a few bytes, however many
        return taken

    def stream(
        self, sql: str, params: Sequence[Any] = (), size: int = 2000, name: str = "chorus_rows"
    ) -> Iterator[tuple]:
        """Rows as they are read (a server-side cursor on PostgreSQL): memory stays flat.
        Two streams read at once need two names."""
        if self.sqlite:
            cursor = self.raw.cursor()
            cursor.arraysize = size
        else:
            cursor = self.raw.cursor(name=name)
            cursor.itersize = size
        try:
            cursor.execute(self._sql(sql), tuple(params))
            while True:
                batch = cursor.fetchmany(size)
                if not batch:
                    return
                yield from batch
        finally:
            cursor.close()
