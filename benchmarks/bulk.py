"""Bulk flows benchmark (OPS-1, OPS-2): `chorus bulk import` of 100,000 accounts
and `chorus bulk export` of them, each a ratio to a floor measured in the same run.

    .venv/bin/python benchmarks/bulk.py [--rows 100000] [--small 10000] [--runs 3]
                                        [--no-postgresql] [--out benchmarks/results-bulk.json]

- The flow: a `;` CSV with French headers («Nom;Prénom;Adresse e-mail»), as a spreadsheet
  writes it, ``--rows`` accounts (deterministic). A second file adds a «Téléphone» to
  every row: chorus then also checks every phone (ACC-1), which the floor does not, so
  that figure is reported with no goal.
- Floor: a Python script that parses the same file with `csv`, validates each address
  with `email_validator` and inserts the rows with raw `sqlite3` `executemany` into an
  indexed table, in one transaction. Goal: the import, everything chorus adds included
  (activation tokens, outbox mails, audit rows, start-up), within 1.5x of it.
- Memory: the peak of the import (and of the export) at ``--rows`` within 1.3x of the
  same at ``--small``.
- Export of the imported accounts, `--format csv` to /dev/null, against the `sqlite3`
  shell selecting the same columns with `-csv`. Goal: 2x. Also reported net of the
  command's fixed cost (the same export of a store holding one account: Python, Typer,
  SQLAlchemy, the session check), which is what the rows themselves cost.
- The same import on PostgreSQL (a throwaway cluster, as the tests start one), within 2x
  of its SQLite figure, run for run.

The scale run (opt-in, `make bench-million`; at --runs 1, 4 to 18 minutes on 2 shared
cores, from quiet to loaded; --runs 2 doubles it):

    .venv/bin/python benchmarks/bulk.py --scale 1000000 [--rows 100000] [--runs 2]

imports ``--scale`` accounts and ``--rows`` accounts, side by side in each round, on
SQLite and on PostgreSQL, then exports both stores. Goals: the cost per row of the big
import within 1.15x of the small one's, its peak memory within 1.3x; the same for the
export. Per row also net of the command's fixed cost (an import of one row, an export of
the store holding one account), which favours neither size. Written to
benchmarks/results-bulk-million.json. Big files go to $TMPDIR (a disk, not /dev/shm:
the PostgreSQL cluster of the run holds a few GB).

Every chorus figure is a whole command in a fresh process, as a user runs it, against a
store restored before each run (an admin logged in). Runs are interleaved, medians kept.
Exits 0 even when a figure is over its goal: this is a report.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    CHORUS,
    PY,
    clean_env,
    figure,
    median,
    memory_figure,
    operator_session,
    postgresql,
    print_figures,
    print_memory,
    report,
    run_measured,
)

ADMIN = "bench.bulk@example.fr"
EXPORT_COLUMNS = (
    "login_email, contact_email, first_name, last_name, phone, status, workplace_address,"
    " biography, language, created_at, activated_at, to_complete"
)
FIRST = ("Élise", "Hugo", "Léa", "Jean", "Marie", "Paul", "Zoé", "Noé", "Chloé", "Louis", "Inès")
LAST = ("Durand", "Martin", "Roux", "Lefèvre", "Moreau", "Garnier", "Faure", "Blanc", "Gaël")

FLOOR = r"""
import csv, sqlite3, sys
from email_validator import validate_email

db = sqlite3.connect(sys.argv[2], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE account (id INTEGER PRIMARY KEY, login_email TEXT NOT NULL UNIQUE,"
           " first_name TEXT NOT NULL, last_name TEXT NOT NULL)")
db.execute("CREATE INDEX ix_account_last_name ON account (last_name)")
db.execute("BEGIN")
insert = "INSERT INTO account (login_email, first_name, last_name) VALUES (?, ?, ?)"
rows = []
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    reader = csv.reader(handle, delimiter=";")
    next(reader)
    for last, first, email in reader:
        address = validate_email(email, check_deliverability=False).normalized.lower()
        rows.append((address, first, last))
        if len(rows) == 5000:
            db.executemany(insert, rows)
            rows = []
db.executemany(insert, rows)
db.execute("COMMIT")
"""


def generate(path: Path, rows: int, phones: bool, seed: int = 8) -> Path:
    draw = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Nom;Prénom;Adresse e-mail" + (";Téléphone" if phones else "") + "\n")
        for i in range(rows):
            last, first = draw.choice(LAST), draw.choice(FIRST)
            line = f"{last};{first};agent{i}.{last.lower()}@commune{i % 700}.example.fr"
            if phones:
                digits = " ".join(f"{draw.randint(10, 99)}" for _ in range(4))
                line += f";0{draw.randint(1, 4)} {digits}"  # geographic: all valid
            out.write(line + "\n")
    return path


class Store:
    """A store with an admin logged in, restored before each run (same path and URL, so
    the session saved for it still opens)."""

    def __init__(self, tmp: Path, name: str, url: str | None = None, pg=None) -> None:  # type: ignore[no-untyped-def]
        self.folder = tmp / name
        self.path = self.folder / "chorus.db"
        self.url = url or f"sqlite:///{self.path}"
        self.pg = pg  # (admin engine, database name) on PostgreSQL
        self.env = clean_env(tmp / f"{name}-user", self.url)
        self.folder.mkdir(parents=True)
        operator_session(self.env, ADMIN)
        if pg is None:
            self.template = tmp / f"{name}-template"
            shutil.copytree(self.folder, self.template)
        else:
            self._pg("template")

    def _pg(self, action: str) -> None:
        from sqlalchemy import text

        admin, name = self.pg
        with admin.connect() as conn:
            if action == "template":
                conn.execute(text(f"ALTER DATABASE {name} RENAME TO {name}_template"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {name}_template"))

    def restore(self) -> None:
        if self.pg is not None:
            self._pg("restore")
            return
        shutil.rmtree(self.folder)
        shutil.copytree(self.template, self.folder)


def import_run(store: Store, flow: Path) -> tuple[float, int]:
    store.restore()
    wall, peak, _err = run_measured([CHORUS, "bulk", "import", str(flow), "--kind", "accounts"],
                                    store.env)  # fmt: skip
    return wall, peak


def floor_run(tmp: Path, flow: Path) -> float:
    script = tmp / "floor.py"
    script.write_text(FLOOR)
    database = tmp / "floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    wall, _peak, _err = run_measured([PY, str(script), str(flow), str(database)], os.environ.copy())
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=None, help="3 (the scale run: 2)")
    parser.add_argument("--scale", type=int, default=0, help="the scale run: this many rows")
    parser.add_argument("--no-postgresql", dest="postgresql", action="store_false")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false",
                        help="the scale run on PostgreSQL alone")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None)
    options = parser.parse_args()
    if options.scale:
        options.runs = options.runs or 2
        return scale(options)
    options.runs = options.runs or 3
    options.out = options.out or HERE / "results-bulk.json"
    sqlite3 = shutil.which("sqlite3")
    if not sqlite3:
        raise SystemExit("the sqlite3 shell is needed for the export floor: apt install sqlite3")
    if not Path(CHORUS).exists():
        raise SystemExit(f"{CHORUS} not found: run `make bench` (it installs chorus first)")

    tmp = Path(tempfile.mkdtemp(prefix="chorus-bulk-bench-"))
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        big = generate(tmp / "accounts.csv", options.rows, phones=False)
        small = generate(tmp / "accounts-small.csv", options.small, phones=False)
        phones = generate(tmp / "accounts-phones.csv", options.rows, phones=True)
        store = Store(tmp, "sqlite")
        pg_store = None
        if options.postgresql:
            base, admin = cleanup.enter_context(postgresql())
            with admin.connect() as conn:
                conn.exec_driver_sql("CREATE DATABASE bench")
            pg_store = Store(tmp, "postgresql", f"{base}/bench", (admin, "bench"))
        # Round by round, so that each figure has its floor measured beside it.
        walls, floors, peaks, phone_walls, pg_walls = [], [], [], [], []
        for _ in range(options.runs):
            floors.append(floor_run(tmp, big))
            wall, peak = import_run(store, big)
            walls.append(wall)
            peaks.append(peak)
            phone_walls.append(import_run(store, phones)[0])
            if pg_store is not None:
                pg_walls.append(import_run(pg_store, big)[0])
        small_peak = max(import_run(store, small)[1] for _ in range(2))

        # Export: its fixed cost on the store with one account, the small store's peak,
        # then the big one's (left by the last run).
        export = [CHORUS, "bulk", "export", "accounts"]
        store.restore()
        empty_export = median([run_measured(export, store.env)[0] for _ in range(5)])
        import_run(store, small)
        small_export_peak = run_measured(export, store.env)[1]
        import_run(store, big)
        select = f"SELECT {EXPORT_COLUMNS} FROM account ORDER BY id"
        export_walls, export_floors, export_peaks = [], [], []
        for _ in range(max(options.runs, 5)):
            export_floors.append(
                run_measured([sqlite3, "-csv", "-header", str(store.path), select], store.env)[0]
            )
            wall, peak, _ = run_measured(export, store.env)
            export_walls.append(wall)
            export_peaks.append(peak)

    rows = f"{options.rows:,}"
    net = [wall - empty_export for wall in export_walls]
    results = [
        figure(f"bulk import, {rows} accounts (SQLite)", walls,
               "csv + email_validator + sqlite3 executemany", floors, 1.5),
        figure(f"bulk import, {rows} accounts with phones", phone_walls,
               "the same floor (no phone check)", floors, None),
        figure(f"bulk export, {rows} accounts (CSV)", export_walls,
               "sqlite3 -csv, same columns", export_floors, 2.0),
        figure("  the same, net of its fixed cost", net, "the same floor", export_floors, None),
    ]  # fmt: skip
    if pg_walls:
        results.append(
            figure(
                f"bulk import, {rows} accounts (PostgreSQL)",
                pg_walls,
                "the SQLite import above",
                walls,
                2.0,
            )
        )
    memory = [
        memory_figure("bulk import peak memory", max(peaks), small_peak),
        memory_figure("bulk export peak memory", max(export_peaks), small_export_peak),
    ]
    print_figures(results)
    print()
    print_memory(memory, rows + " MB", f"{options.small:,} MB")
    over = [r["name"] for r in results + memory if not r["ok"]]
    return report(
        options.out,
        over,
        {
            "rows": options.rows,
            "small": options.small,
            "runs": options.runs,
            "results": results,
            "memory": memory,
            "all_runs": {
                "import": walls,
                "floor": floors,
                "phones": phone_walls,
                "export": export_walls,
                "export_floor": export_floors,
                "export_fixed_cost": empty_export,
                "postgresql": pg_walls,
            },
        },
    )


def per_row(name: str, small: list[float], big: list[float], rows: int, scale: int,
            goal: float, fixed: float = 0.0) -> dict:  # fmt: skip
    """The big run's cost per row against the small one's, round by round (each pair run
    side by side), net of ``fixed`` seconds (the command's own, whatever the rows)."""
    ratios = [((b - fixed) / scale) / ((s - fixed) / rows) for s, b in zip(small, big, strict=True)]
    ratio = median(ratios)
    return {
        "name": name,
        "small_seconds": round(median(small), 2),
        "big_seconds": round(median(big), 2),
        "small_us_per_row": round((median(small) - fixed) / rows * 1e6, 1),
        "big_us_per_row": round((median(big) - fixed) / scale * 1e6, 1),
        "ratio": round(ratio, 3),
        "goal": goal,
        "ok": ratio <= goal,
    }


def peak(name: str, small: list[int], big: list[int]) -> dict:
    return memory_figure(name, max(big), max(small))


def verdict(row: dict) -> str:
    return "ok" if row["ok"] else "OVER"


def scale(options: argparse.Namespace) -> int:
    """The scale run: ``--scale`` rows against ``--rows``, per row and in memory (see the
    module's doc)."""
    import time

    rows, big_rows = options.rows, options.scale
    out = options.out or HERE / "results-bulk-million.json"
    if not Path(CHORUS).exists():
        raise SystemExit(f"{CHORUS} not found: run `make bench` (it installs chorus first)")
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="chorus-bulk-scale-"))
    engines: dict[str, tuple[Store, Store]] = {}
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        small_flow = generate(tmp / "small.csv", rows, phones=False)
        big_flow = generate(tmp / "big.csv", big_rows, phones=False)
        one_flow = generate(tmp / "one.csv", 1, phones=False)
        if options.sqlite:
            engines["SQLite"] = (Store(tmp, "sqlite-small"), Store(tmp, "sqlite-big"))
        if options.postgresql:
            base, admin = cleanup.enter_context(postgresql())
            pair = []
            for name in ("small", "big"):
                with admin.connect() as conn:
                    conn.exec_driver_sql(f"CREATE DATABASE bench_{name}")
                url = f"{base}/bench_{name}"
                pair.append(Store(tmp, f"pg-{name}", url, (admin, f"bench_{name}")))
            engines["PostgreSQL"] = (pair[0], pair[1])
        export = [CHORUS, "bulk", "export", "accounts"]
        runs: dict[str, dict[str, list]] = {}
        for engine, (small, _big) in engines.items():
            small.restore()
            fixed = median([run_measured(export, small.env)[0] for _ in range(3)])
            one = median([import_run(small, one_flow)[0] for _ in range(3)])
            runs[engine] = {"export_fixed": [fixed], "import_fixed": [one]}
        for n in range(options.runs):
            for engine, (small, big) in engines.items():
                got = runs[engine]
                for label, store, flow in (("small", small, small_flow), ("big", big, big_flow)):
                    wall, peak_kib = import_run(store, flow)
                    got.setdefault(f"import_{label}", []).append(wall)
                    got.setdefault(f"import_{label}_peak", []).append(peak_kib)
                    print(f"  round {n + 1}, {engine} import of {label}: {wall:.1f} s,"
                          f" {peak_kib / 1024:.0f} MB", flush=True)  # fmt: skip
        for n in range(options.runs):  # each store holds its last import
            for engine, (small, big) in engines.items():
                got = runs[engine]
                for label, store in (("small", small), ("big", big)):
                    wall, peak_kib, _ = run_measured(export, store.env)
                    got.setdefault(f"export_{label}", []).append(wall)
                    got.setdefault(f"export_{label}_peak", []).append(peak_kib)
                    print(f"  round {n + 1}, {engine} export of {label}: {wall:.1f} s,"
                          f" {peak_kib / 1024:.0f} MB", flush=True)  # fmt: skip

    results, memory = [], []
    for engine, got in runs.items():
        for flow in ("import", "export"):
            small, big = got[f"{flow}_small"], got[f"{flow}_big"]
            results.append(per_row(f"bulk {flow} per row ({engine})", small, big, rows,
                                   big_rows, 1.15))  # fmt: skip
            results.append(per_row("  the same, net of its fixed cost", small, big, rows,
                                   big_rows, 1.15, got[f"{flow}_fixed"][0]))  # fmt: skip
            memory.append(peak(f"bulk {flow} peak memory ({engine})", got[f"{flow}_small_peak"],
                               got[f"{flow}_big_peak"]))  # fmt: skip
    small_name, big_name = f"{rows:,}", f"{big_rows:,}"
    header = (f"{'figure':<38} {small_name + ' s':>10} {big_name + ' s':>12} {'us/row':>7}"
              f" {'us/row':>7} {'ratio':>6} {'goal':>5}  verdict")  # fmt: skip
    print(header)
    print("-" * len(header))
    for row in results:
        print(f"{row['name']:<38} {row['small_seconds']:>10.2f} {row['big_seconds']:>12.2f}"
              f" {row['small_us_per_row']:>7.1f} {row['big_us_per_row']:>7.1f}"
              f" {row['ratio']:>5.2f}x {row['goal']:>4.2f}x  {verdict(row)}")  # fmt: skip
    print()
    print(
        f"{'memory':<38} {small_name + ' MB':>10} {big_name + ' MB':>12} {'ratio':>6} {'goal':>5}"
    )
    for row in memory:
        print(f"{row['name']:<38} {row['small_mb']:>10.1f} {row['big_mb']:>12.1f}"
              f" {row['ratio']:>5.2f}x {row['goal']:>4.1f}x  {verdict(row)}")  # fmt: skip
    minutes = (time.perf_counter() - started) / 60
    print(f"the scale run took {minutes:.1f} min")
    over = [r["name"] for r in results + memory if not r["ok"]]
    return report(
        out,
        over,
        {
            "rows": rows,
            "scale": big_rows,
            "runs": options.runs,
            "minutes": round(minutes, 1),
            "results": results,
            "memory": memory,
            "all_runs": runs,
        },
    )


if __name__ == "__main__":
    sys.exit(main())
