"""Building the offline SIRENE index: import (load under new names, then swap).

Built for the national file (~42 million establishments, ~29 million legal units):
rows stream from the CSV in batches (``sirene/batches.py``, read in a second process
where a core is free) through the raw DBAPI connection
(``executemany`` on tuples on SQLite, COPY on PostgreSQL; no ORM objects), the write
lock is released every ``COMMIT_EVERY`` rows so other chorus commands keep working
during an import, and the full-text index (and on SQLite its vocabulary) is built after
the load. Memory stays flat: one batch at a time.
Querying the index is ``sirene/index.py``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel.errors import RuleRefused
from chorus_cli.sirene import batches, columns
from chorus_cli.store import sirene_tables as schema

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from chorus_cli.sirene.departments import DepartmentOf
    from chorus_cli.sirene.reader import StockFile

COMMIT_EVERY = 100_000
FTS_CHUNK = 200_000
PG_LOCK_KEY = 0x5152454E  # advisory lock: one import at a time per PostgreSQL store


# (phase, done, total): phase is "units", "establishments" or "search"; done and total
# are bytes for the first two, rows for the last.
IndexProgress = Callable[[str, int, int | None], None]


def _no_progress(_phase: str, _done: int, _total: int | None) -> None:
    return None


@dataclass
class Skipped:
    file: str
    line: int
    reason: str  # columns | siret | siren | state | diffusion | csv
    value: str


@dataclass
class IndexSummary:
    establishments: int = 0
    units: int = 0
    units_kept: bool = False  # no --unites-legales: the previous index's units serve
    skipped: int = 0
    duplicates: int = 0  # repeated SIRET/SIREN: the first row is kept
    seconds: float = 0.0
    skipped_rows: list[Skipped] = field(default_factory=list)
    # --departments: the départements kept, and the rows of the others passed over
    departments: list[str] | None = None
    outside: int = 0  # establishments of other départements (or abroad)
    units_outside: int = 0  # legal units with no establishment kept
    # The newest dateDernierTraitementEtablissement of the file: ``sirene update`` asks
    # for what changed from that day on.
    data_date: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_import(
    engine: Engine,
    establishments: StockFile,
    units: StockFile | None,
    imported_at: str,
    progress: IndexProgress | None = None,
    allow_empty: bool = False,
    departments: frozenset[str] | None = None,
    department_of: DepartmentOf | None = None,
) -> IndexSummary:
    """Build a new index from the stock files and swap it in; on any error the live
    index is left as it was and the partial one is dropped. A file with no usable row
    would replace the index with nothing: refused unless ``allow_empty`` (SEC-6).
    ``departments``: only the establishments of these départements are kept, and the
    legal units of those (a first pass over the establishments names them); an
    establishment's département is ``department_of(commune code, postal code)``."""
    started = time.perf_counter()
    summary = IndexSummary()
    if departments is not None:
        summary.departments = sorted(departments)
    loader = _Loader(engine, summary, progress or _no_progress, departments, department_of)
    try:
        with loader.exclusive():
            loader.drop_leftovers()
            try:
                loader.create_staging(with_units=units is not None)
                if units is not None:
                    sirens = None
                    if departments is not None:
                        sirens = loader.sirens_of_departments(establishments)
                    loader.load_units(units, sirens)
                    unit_table = schema.UNIT + schema.STAGING
                else:
                    summary.units_kept = True
                    summary.units = loader.live_unit_count()
                    unit_table = schema.UNIT if summary.units else None
                loader.load_establishments(establishments, unit_table)
                if summary.establishments == 0 and not allow_empty:
                    from chorus_cli.kernel.errors import BadInput

                    raise BadInput("sec6.sirene_empty", file=establishments.display)
                loader.build_search()
                loader.swap(
                    with_units=units is not None,
                    imported_at=imported_at,
                    source=_source(establishments, units),
                )
            except BaseException:
                loader.abandon()
                raise
            loader.drop_retired()
    finally:
        loader.close()
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def drop_leftovers(engine: Engine) -> int:
    """Drop the staging tables a killed import left behind (~30 MB for a department);
    0 when there are none or an import is running now (its tables are in use). The
    import's lock is taken only when there are some: a store never imported keeps no
    lock file beside it."""
    loader = _Loader(engine, IndexSummary(), _no_progress)
    try:
        if not loader.leftovers():
            return 0
        with loader.exclusive():
            return loader.drop_leftovers()
    except RuleRefused:
        return 0
    finally:
        loader.close()


def _source(establishments: StockFile, units: StockFile | None) -> str:
    return establishments.display + (f" + {units.display}" if units else "")


class _Loader:
    """One raw DBAPI connection driving an import, with its own transactions."""

    def __init__(
        self,
        engine: Engine,
        summary: IndexSummary,
        progress: IndexProgress,
        departments: frozenset[str] | None = None,
        department_of: DepartmentOf | None = None,
    ) -> None:
        if departments is not None and department_of is None:
            raise ValueError("departments without the rule that gives an establishment's")
        self.departments = departments
        self.department_of = department_of
        self.engine = engine
        self.summary = summary
        self.progress = progress
        self.sqlite = engine.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self.raw = engine.raw_connection()
        self.cursor = self.raw.cursor()
        self.scratch: set[str] = set()  # PostgreSQL: the temporary tables COPY fills
        if self.sqlite:
            # The staging tables are invisible until the swap, which commits with FULL
            # again: NORMAL (still crash-safe in WAL mode) for the bulk of the writing.
            self.cursor.execute("PRAGMA synchronous=NORMAL")
            self.cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB
            self.cursor.execute("PRAGMA temp_store=MEMORY")

    # transactions: BEGIN IMMEDIATE on SQLite (see store/engine.py), implicit on psycopg
    def begin(self) -> None:
        if self.sqlite:
            self.cursor.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.sqlite:
            self.cursor.execute("COMMIT")
        else:
            self.raw.commit()

    def rollback(self) -> None:
        # The connection may be gone: close() follows, and the pool discards it.
        with contextlib.suppress(Exception):
            self.raw.rollback()
            if self.scratch:  # PostgreSQL's COPY tables: not left on the pooled connection
                for scratch in self.scratch:
                    self.cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
                self.raw.commit()
        self.scratch.clear()

    def close(self) -> None:
        if self.sqlite:
            try:
                self.cursor.execute("PRAGMA synchronous=FULL")
                self.cursor.execute("PRAGMA cache_size=-2000")
                self.cursor.execute("PRAGMA temp_store=DEFAULT")
            except Exception:  # a broken connection: the pool must not keep it
                self.raw.invalidate()
        self.cursor.close()
        self.raw.close()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """One import at a time per store: they would share the staging tables."""
        if not self.sqlite:
            self.cursor.execute("SELECT pg_try_advisory_lock(%s)", (PG_LOCK_KEY,))
            got = self.cursor.fetchone()[0]
            self.raw.commit()
            if not got:
                raise RuleRefused("str2.import_running")
            try:
                yield
            finally:
                self.rollback()
                self.cursor.execute("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY,))
                self.raw.commit()
            return
        database = self.engine.url.database
        try:
            import fcntl
        except ImportError:  # Windows: no advisory file locks; imports are rare
            fcntl = None  # type: ignore[assignment]
        if fcntl is None or not database or database == ":memory:":
            yield
            return
        import os
        from pathlib import Path

        from chorus_cli.store import files

        # 0600, never through a link planted at its name (SEC-12), and never truncated:
        # the lock is the open file, not its content.
        handle = files.open_private(Path(f"{database}.sirene-import.lock"))
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RuleRefused("str2.import_running") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            os.close(handle)

    # --- tables ---------------------------------------------------------------------

    def _tables(self) -> list[str]:
        if self.sqlite:
            self.cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            self.cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        names = [row[0] for row in self.cursor.fetchall()]
        if not self.sqlite:
            self.raw.commit()
        return names

    def _drop(self, names: list[str]) -> None:
        # One transaction per table on SQLite: dropping a big table takes a while, and
        # other commands wait for the write lock meanwhile. In autocommit, not inside
        # BEGIN, and with the temporary files on disk: SQLite keeps a statement journal
        # of the pages a DROP frees (all of them inside BEGIN, ~820 MB for the table of
        # a 10-million-row index; the FTS5 table's even in autocommit), in memory under
        # temp_store=MEMORY: the memory of an import would grow with the index.
        if self.sqlite:
            self.cursor.execute("PRAGMA temp_store=FILE")
        for name in names:
            self.cursor.execute(f"DROP TABLE IF EXISTS {name}")
            if not self.sqlite:
                self.commit()
        if self.sqlite:
            self.cursor.execute("PRAGMA temp_store=MEMORY")

    def leftovers(self, suffixes: tuple[str, ...] = (schema.STAGING, schema.RETIRED)) -> list[str]:
        """The index's tables of ``suffixes`` there are: by default those an interrupted
        import left (or a running import's)."""
        bases = (schema.ESTABLISHMENT, schema.UNIT, schema.FTS, schema.TERM)
        wanted = {base + suffix for base in bases for suffix in suffixes}
        return [name for name in self._tables() if name in wanted]

    def drop_leftovers(self) -> int:
        """Tables an interrupted import left (we hold the lock: nobody is using them)."""
        names = self.leftovers()
        self._drop(names)
        return len(names)

    def create_staging(self, with_units: bool) -> None:
        from sqlalchemy.schema import CreateTable

        dialect = self.engine.dialect
        tables = [schema.establishment_table(schema.ESTABLISHMENT + schema.STAGING)]
        if with_units:
            tables.append(schema.unit_table(schema.UNIT + schema.STAGING))
        self.begin()
        for table in tables:
            self.cursor.execute(str(CreateTable(table).compile(dialect=dialect)))
        if self.sqlite:
            self.cursor.execute(schema.fts_ddl(schema.FTS + schema.STAGING))
        self.commit()

    def abandon(self) -> None:
        self.rollback()
        try:
            self._drop(self.leftovers((schema.STAGING,)))
        except Exception:  # the next import drops them (drop_leftovers)
            self.rollback()

    def live_unit_count(self) -> int:
        self.cursor.execute(f"SELECT units FROM {schema.META} WHERE id = 1")
        row = self.cursor.fetchone()
        if not self.sqlite:
            self.raw.commit()
        return int(row[0]) if row else 0

    # --- loading --------------------------------------------------------------------

    def _insert(self, table: str, batch: batches.Batch) -> None:
        if self.sqlite:
            marks = ", ".join([self.mark] * len(batch[0]))
            self.cursor.executemany(
                f"INSERT INTO {table} VALUES ({marks}) ON CONFLICT DO NOTHING", batch
            )
        else:
            self._copy(table, batch)
        inserted = self.cursor.rowcount
        if inserted is not None and 0 <= inserted < len(batch):
            self.summary.duplicates += len(batch) - inserted

    def sirens_of_departments(self, stock: StockFile) -> set[int]:
        """The SIRENs of the establishments of ``self.departments`` (a first, cheap pass:
        the lines of other départements are passed over unparsed)."""
        from chorus_cli.sirene import departments as places

        assert self.departments is not None and self.department_of is not None
        keep, department_of = self.departments, self.department_of
        found: set[int] = set()
        with stock.rows(keep_line=places.line_filter(keep)) as rows:
            at = rows.index
            i_siret, i_postal, i_commune = (
                at("siret"),
                at("codePostalEtablissement"),
                at("codeCommuneEtablissement"),
            )
            width = len(rows.header)
            for _line, row in rows:
                if len(row) != width:
                    continue
                commune = row[i_commune] if i_commune is not None else None
                siret = row[i_siret]
                if department_of(commune, row[i_postal]) in keep and siret[:9].isdigit():
                    found.add(int(siret[:9]))
        return found

    def _copy(self, table: str, batch: list[tuple[Any, ...]]) -> None:
        """PostgreSQL: the batch COPYed into a temporary table, then moved in one INSERT
        (COPY cannot skip a repeated key: the first row stays, as on SQLite)."""
        scratch = f"{table}_batch"
        if scratch not in self.scratch:
            self.cursor.execute(f"CREATE TEMPORARY TABLE {scratch} (LIKE {table})")
            self.scratch.add(scratch)
        else:
            self.cursor.execute(f"TRUNCATE {scratch}")
        with self.cursor.copy(f"COPY {scratch} FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
        self.cursor.execute(f"INSERT INTO {table} SELECT * FROM {scratch} ON CONFLICT DO NOTHING")

    def _tallied(self, tally: batches.Tally) -> None:
        """What a file's reading skipped, counted as if this process had read it."""
        summary = self.summary
        summary.skipped += tally.skipped
        room = batches.KEEP_SKIPPED - len(summary.skipped_rows)
        summary.skipped_rows.extend(Skipped(*row) for row in tally.skipped_rows[: max(room, 0)])

    def load_units(self, stock: StockFile, sirens: set[int] | None = None) -> None:
        """The legal units; only those of ``sirens`` when given (``--departments``)."""
        reading = batches.Reading(batches.units, stock, sirens)
        self.summary.units = self._write("units", schema.UNIT + schema.STAGING, stock, reading)
        self._tallied(reading.tally)
        self.summary.units_outside += reading.tally.outside

    def _write(
        self, phase: str, table: str, stock: StockFile, rows: Iterable[tuple[batches.Batch, int]]
    ) -> int:
        """Each batch of ``rows`` (with the bytes of ``stock`` read after it) into
        ``table``, the write lock released every ``COMMIT_EVERY`` rows; the rows
        written, a repeated key's not counted."""
        duplicates_before = self.summary.duplicates
        written = since_commit = 0
        self.begin()
        for batch, position in rows:
            self._insert(table, batch)
            written += len(batch)
            since_commit += len(batch)
            self.progress(phase, position, stock.size)
            if since_commit >= COMMIT_EVERY:
                self.commit()
                self.begin()
                since_commit = 0
        self.commit()
        self.progress(phase, stock.size, stock.size)
        return written - (self.summary.duplicates - duplicates_before)

    def _units_of(self, table: str, sirens: set[int]) -> dict[int, tuple[str, str | None, bool]]:
        """The legal units of ``sirens`` (a batch's). INSEE's files are in SIREN order,
        so a batch's units are one short range of the key: read as a range (one seek),
        and by their SIRENs only when the range holds many more units than the batch
        names (a file in another order)."""
        columns = f"siren, raison_sociale, categorie_juridique, non_diffusible FROM {table}"
        most = 2 * len(sirens) + 100
        self.cursor.execute(
            f"SELECT {columns} WHERE siren >= {self.mark} AND siren <= {self.mark}"
            f" ORDER BY siren LIMIT {self.mark}",
            (min(sirens), max(sirens), most + 1),
        )
        rows = self.cursor.fetchall()
        if len(rows) > most:
            if self.sqlite:
                self.cursor.execute(
                    f"SELECT {columns} WHERE siren IN (SELECT value FROM json_each(?))",
                    (json.dumps(list(sirens)),),
                )
            else:
                self.cursor.execute(f"SELECT {columns} WHERE siren = ANY(%s)", (list(sirens),))
            rows = self.cursor.fetchall()
        return {row[0]: (row[1], row[2], bool(row[3])) for row in rows}

    def load_establishments(self, stock: StockFile, unit_table: str | None) -> None:
        summary = self.summary
        reading = batches.Reading(
            batches.establishments, stock, self.departments, self.department_of
        )
        table = schema.ESTABLISHMENT + schema.STAGING
        # Closed on an error: the second process stops now, not when the error is freed.
        with contextlib.closing(self._named(reading, unit_table)) as named:
            summary.establishments = self._write("establishments", table, stock, named)
        tally = reading.tally
        self._tallied(tally)
        summary.outside = tally.outside
        summary.data_date = tally.newest[:10] or None

    def _named(
        self, reading: Iterable[tuple[batches.Batch, int]], unit_table: str | None
    ) -> Generator[tuple[batches.Batch, int], None, None]:
        """The establishments of ``reading`` with their legal unit's name, category
        and diffusion (from ``unit_table``); the name they are known by is chosen as
        everywhere (``columns.known_as``: a unit with no name, or none, gives the
        establishment's own). A unit's non-diffusion hides its establishments'
        addresses (STR-3)."""
        nowhere, known_as = columns.NOWHERE, columns.known_as
        for pending, position in reading:
            units = {}
            if unit_table:
                units = self._units_of(unit_table, {p[0] // 100_000 for p in pending})
            batch = []
            for siret, sign, active, hidden, head, address, postal, town, country in pending:
                unit = units.get(siret // 100_000)
                if unit is not None:
                    name, category, unit_hidden = unit
                    hidden = hidden or unit_hidden
                else:  # no legal unit known
                    name, category = "", None
                if hidden:  # STR-3: no postal address is kept (columns.place)
                    address, postal, town, country = nowhere
                batch.append(
                    (
                        siret,
                        known_as(name, sign),
                        sign,
                        category,
                        active,
                        hidden,
                        head,
                        address,
                        postal,
                        town,
                        country,
                    )
                )
            yield batch, position

    def build_search(self) -> None:
        """The full-text index, after the load (cheaper than row by row)."""
        table = schema.ESTABLISHMENT + schema.STAGING
        total = self.summary.establishments
        if not self.sqlite:
            self.progress("search", 0, total)
            # GIN builds in memory up to maintenance_work_mem (64 MB by default), then
            # merges runs from disk: more for this one statement (server memory).
            self.cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            self.cursor.execute(schema.pg_name_index_ddl(table, schema.NAME_INDEX + schema.STAGING))
            self.cursor.execute(f"ANALYZE {table}")
            self.raw.commit()
            self.progress("search", total, total)
            return
        fts = schema.FTS + schema.STAGING
        last, done = -1, 0
        while True:
            # In chunks, each its own transaction: other commands get the lock between.
            self.begin()
            self.cursor.execute(
                f"SELECT max(siret), count(*) FROM (SELECT siret FROM {table} WHERE siret > ?"
                " ORDER BY siret LIMIT ?)",
                (last, FTS_CHUNK),
            )
            upto, count = self.cursor.fetchone()
            if not count:
                self.commit()
                break
            self.cursor.execute(
                schema.fts_insert_sql(fts, table, "siret > ? AND siret <= ?"), (last, upto)
            )
            self.commit()
            last, done = upto, done + count
            self.progress("search", done, total)
        # The vocabulary (each word, how many names hold it): search reads a prefix as
        # the words it starts. One pass over the FTS5 index, in term order.
        self.begin()
        self.cursor.execute(schema.term_ddl(schema.TERM + schema.STAGING))
        self.cursor.execute(
            f"CREATE VIRTUAL TABLE temp.sirene_vocabulary USING fts5vocab(main, '{fts}', 'row')"
        )
        self.cursor.execute(
            f"INSERT INTO {schema.TERM}{schema.STAGING}"
            " SELECT term, doc FROM temp.sirene_vocabulary"
        )
        self.cursor.execute("DROP TABLE temp.sirene_vocabulary")
        self.commit()
        self.progress("search", total, total)

    def swap(self, with_units: bool, imported_at: str, source: str) -> None:
        """The new index replaces the live one in one short transaction."""
        names = [schema.ESTABLISHMENT] + ([schema.UNIT] if with_units else [])
        meta = (
            f"INSERT INTO {schema.META} (id, imported_at, establishments, units, skipped, source,"
            " update_since, departments)"
            f" VALUES (1, {', '.join([self.mark] * 7)})"
        )
        departments = self.summary.departments
        values = (
            imported_at,
            self.summary.establishments,
            self.summary.units,
            self.summary.skipped,
            source,
            # ``sirene update`` asks from the file's newest change, else from the import
            self.summary.data_date or imported_at[:10],
            ",".join(departments) if departments is not None else None,
        )
        execute = self.cursor.execute
        if self.sqlite:
            execute("PRAGMA synchronous=FULL")  # this commit must survive a power cut
        self.begin()
        if self.sqlite:
            # The old tables are renamed aside and dropped after the commit (slow on a
            # big index, and nobody needs to wait for it).
            live = set(self._tables())  # no vocabulary before the first import
            for name in [*names, schema.FTS, schema.TERM]:
                if name in live:
                    execute(f"ALTER TABLE {name} RENAME TO {name}{schema.RETIRED}")
                execute(f"ALTER TABLE {name}{schema.STAGING} RENAME TO {name}")
        else:
            # Dropping is cheap on PostgreSQL; index names must follow their tables.
            for name in names:
                execute(f"DROP TABLE {name}")
                execute(f"ALTER TABLE {name}{schema.STAGING} RENAME TO {name}")
                execute(f"ALTER INDEX {name}{schema.STAGING}_pkey RENAME TO {name}_pkey")
            execute(
                f"ALTER INDEX {schema.NAME_INDEX}{schema.STAGING} RENAME TO {schema.NAME_INDEX}"
            )
        execute(f"DELETE FROM {schema.META}")
        execute(meta, values)
        self.commit()

    def drop_retired(self) -> None:
        if self.sqlite:
            # Dropping walks every page of the old tables: through a small cache, or it
            # would fill the import's 64 MiB with pages nobody will read again.
            self.cursor.execute("PRAGMA cache_size=-2000")
            self._drop(self.leftovers((schema.RETIRED,)))
