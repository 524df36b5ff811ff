"""Scripting and seeding benchmark (OPS-3, OPS-6, OPS-7), each figure a ratio to a
floor measured in the same run.

    .venv/bin/python benchmarks/scripting.py [--lines 1000] [--processes 200]
        [--accounts 100000] [--structures 10000] [--runs 3] [--no-postgresql]
        [--out benchmarks/results-scripting.json]

- `chorus batch` of ``--lines`` `account show --json` lines against the same lines run
  as separate `chorus` processes: ``--processes`` of them are run and the time scaled
  to ``--lines`` (said in the report). Goal: at least 20x faster.
- `chorus seed --accounts 100000 --structures 10000` on an empty store: at most 10 s,
  and within 3x of a floor writing as many rows into the same tables with raw `sqlite3`
  `executemany` (rows of similar width, made by the floor itself); peak memory within
  1.3x of the same seed at a tenth of the size.
- `chorus db copy` of that seeded store to PostgreSQL (a throwaway cluster): at least
  20,000 rows/s over all tables, peak memory within 1.3x of the tenth-size copy.

The scale run (opt-in, `make bench-million`, about 15 minutes at --runs 2 on 2 loaded
cores) is the
seed figure alone at ``--scale`` accounts (a tenth as many structures, at most 100,000),
against its floor and, in memory, against a tenth of that size:

    .venv/bin/python benchmarks/scripting.py --scale 1000000 [--runs 2]

written to benchmarks/results-scripting-million.json.

Every chorus figure is a whole command in a fresh process. Exits 0 even when a figure is
over its goal: this is a report.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
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
    median,
    memory_figure,
    operator_session,
    postgresql,
    report,
    run_measured,
)

ADMIN = "bench.scripting@example.fr"

FLOOR = r"""
import json, sqlite3, sys
counts = json.loads(sys.argv[2])
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA foreign_keys=OFF")
db.execute("BEGIN IMMEDIATE")
at = "2026-01-05 08:00:00.000000"
tables = {
    "account": ("id login_email contact_email first_name last_name phone workplace_address"
                " language accessibility survey_consent status password_hash failed_logins"
                " created_at activated_at to_complete",
                lambda i: (i, f"prenom.nom.{i}@domaine{i % 997}.fr", f"p.n.{i}@domaine.fr",
                           "Prénom", "Nom", "+33612345678", None, "fr", 0, 0, "active",
                           "x" * 97, 0, at, at, 0)),
    "structure": ("id id_type identifier raison_sociale label status non_diffusible address"
                  " postal_code commune public helios created_at search_text",
                  lambda i: (i, "SIRET", f"{i:014d}", f"RAISON SOCIALE {i}", None, "active", 0,
                             f"{i} RUE DE LA PAIX", "38350", "VILLE", 0, 0, at,
                             f" raison sociale {i} ")),
    "attachment": ("id account_id structure_id created_at", lambda i: (i, i, 1 + i % 10, at)),
    "habilitation": ("id account_id structure_id service_id application level granted_at",
                     lambda i: (i, 1 + i // 9, 1 + i % 10, None, f"application_{i % 9}",
                                "modification", at)),
    "service": ("id structure_id code label active created_at",
                lambda i: (i, 1 + i % 10, f"CODE{i}", "Libellé du service", 1, at)),
    "sirene_establishment": ("siret raison_sociale enseigne categorie_juridique active"
                             " non_diffusible siege address postal_code commune",
                             lambda i: (10**13 + i, f"RAISON SOCIALE {i}", None, "5710", 1, 0,
                                        1, f"{i} RUE DE LA PAIX", "38350", "VILLE")),
    "sirene_unit": ("siren raison_sociale categorie_juridique non_diffusible",
                    lambda i: (10**8 + i, f"RAISON SOCIALE {i}", "5710", 0)),
    "link_token": ("id token_hash purpose account_id created_at expires_at",
                   lambda i: (i, f"{i:064d}", "activate", 1 + i, at, at)),
    "mail": ('id "to" sender subject body body_redacted kind created_at status',
             lambda i: (i, f"p.n.{i}@domaine.fr", "ne-pas-repondre@chorus-pro.gouv.fr",
                        "Chorus Pro : activez votre compte", "x" * 520, "x" * 500,
                        "activation", at, "pending")),
    "attachment_request": ("id account_id structure_id type status comment approver_id"
                           " created_at",
                           lambda i: (i, 1 + i, 1 + i % 10, "structure", "pending",
                                      "Je rejoins le service comptable", 1, at)),
}
for table, count in counts.items():
    if table not in tables or not count:
        continue
    columns, make = tables[table]
    names = ", ".join(columns.split())
    marks = ", ".join("?" * len(columns.split()))
    for start in range(0, count, 5000):
        db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                       [make(i) for i in range(start + 1, min(start + 5000, count) + 1)])
db.execute("COMMIT")
"""


def figure(name: str, seconds: float, floor_name: str, floor: float, goal: float | None,
           better: str = "lower") -> dict:  # fmt: skip
    ratio = seconds / floor if floor else float("inf")
    ok = goal is None or (ratio <= goal if better == "lower" else ratio >= goal)
    return {
        "name": name,
        "seconds": round(seconds, 3),
        "floor": floor_name,
        "floor_seconds": round(floor, 3),
        "ratio": round(ratio, 2),
        "goal": goal,
        "ok": ok,
    }


def counts_of(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'sirene_name_fts%' AND name <> 'alembic_version'")]  # fmt: skip
        return {n: connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        connection.close()


def batch_figure(options: argparse.Namespace, tmp: Path, cache: Path) -> dict:
    """`chorus batch` of ``--lines`` lines against as many processes (scaled)."""
    store = tmp / "batch" / "chorus.db"
    store.parent.mkdir()
    env = clean_env(tmp / "batch-user", f"sqlite:///{store}", cache)
    operator_session(env, ADMIN)
    lines = tmp / "lines.txt"
    lines.write_text("account show --json\n" * options.lines, encoding="utf-8")
    batch_walls, process_walls = [], []
    for _ in range(options.runs):
        batch_walls.append(run_measured([CHORUS, "batch", str(lines)], env)[0])
        started = __import__("time").perf_counter()
        for _ in range(options.processes):
            subprocess.run([CHORUS, "account", "show", "--json"], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        elapsed = __import__("time").perf_counter() - started
        process_walls.append(elapsed * options.lines / options.processes)
    speedup = median(process_walls) / median(batch_walls)
    return {
        "name": f"chorus batch, {options.lines} `account show --json` lines",
        "seconds": round(median(batch_walls), 2),
        "floor": f"{options.lines} processes (measured {options.processes}, scaled)",
        "floor_seconds": round(median(process_walls), 2),
        "ratio": round(speedup, 1),
        "goal": 20.0,
        "ok": speedup >= 20,
        "note": "ratio = how many times faster",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--structures", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=None, help="3 (the scale run: 2)")
    parser.add_argument("--scale", type=int, default=0, help="the seed alone, this many accounts")
    parser.add_argument("--no-postgresql", dest="postgresql", action="store_false")
    parser.add_argument("--out", type=Path, default=None)
    options = parser.parse_args()
    if options.scale:
        options.accounts = options.scale
        options.structures = min(options.scale // 10, 100_000)
        options.postgresql = False  # the copy is not part of the scale run
    options.runs = options.runs or (2 if options.scale else 3)
    name = "results-scripting-million.json" if options.scale else "results-scripting.json"
    options.out = options.out or HERE / name
    if not Path(CHORUS).exists():
        raise SystemExit(f"{CHORUS} not found: run `make bench` (it installs chorus first)")

    tmp = Path(tempfile.mkdtemp(prefix="chorus-scripting-bench-"))
    cache = tmp / "pycache"  # one bytecode cache for every run, warm after the first
    results, memory = [], []
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        # --- batch against processes -----------------------------------------------
        if not options.scale:
            results.append(batch_figure(options, tmp, cache))

        # --- seed: the whole size and a tenth of it ----------------------------------
        template = tmp / "empty.db"
        upgrade_env = clean_env(tmp / "t", f"sqlite:///{template}", cache)
        subprocess.run([CHORUS, "db", "upgrade"], env=upgrade_env, check=True, capture_output=True)
        size = ["--accounts", str(options.accounts), "--structures", str(options.structures)]
        tenth = ["--accounts", str(options.accounts // 10), "--structures",
                 str(max(options.structures // 10, 1))]  # fmt: skip
        # A tenth of the size first, twice: the first run warms the bytecode cache up.
        small = tmp / "small" / "chorus.db"
        small.parent.mkdir()
        small_env = clean_env(tmp / "small-user", f"sqlite:///{small}", cache)
        small_peak = 0
        for _ in range(2):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{small}{suffix}").unlink(missing_ok=True)
            shutil.copy(template, small)
            small_peak = run_measured([CHORUS, "seed", *tenth, "--seed", "7"], small_env)[1]
        seed_walls, floors, peaks = [], [], []
        big = tmp / "seed" / "chorus.db"
        big.parent.mkdir()
        seed_env = clean_env(tmp / "seed-user", f"sqlite:///{big}", cache)
        floor_script = tmp / "floor.py"
        floor_script.write_text(FLOOR)
        counts: dict[str, int] = {}
        for _ in range(options.runs):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{big}{suffix}").unlink(missing_ok=True)
            shutil.copy(template, big)
            wall, peak, _ = run_measured([CHORUS, "seed", *size, "--seed", "7"], seed_env)
            seed_walls.append(wall)
            peaks.append(peak)
            counts = counts_of(big)
            target = tmp / "floor.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copy(template, target)
            floor = [PY, str(floor_script), str(target), json.dumps(counts)]
            floors.append(run_measured(floor, os.environ.copy())[0])
        rows = sum(counts.values())
        results.append(
            figure(
                f"chorus seed {' '.join(size)} ({rows:,} rows)",
                median(seed_walls),
                "raw sqlite3 executemany of as many rows",
                median(floors),
                3.0,
            )  # fmt: skip
        )
        if not options.scale:
            results.append(
                {
                    "name": "  the same, in seconds",
                    "seconds": round(median(seed_walls), 2),
                    "floor": "10 s",
                    "floor_seconds": 10.0,
                    "ratio": round(median(seed_walls) / 10, 2),
                    "goal": 1.0,
                    "ok": median(seed_walls) <= 10,
                }
            )
        memory.append(memory_figure("chorus seed peak memory", max(peaks), small_peak))

        # --- db copy to PostgreSQL -----------------------------------------------------
        if options.postgresql:
            base, admin = cleanup.enter_context(postgresql())
            copy_walls, copy_peaks = [], []
            for n, (source_env, source_rows) in enumerate(
                [(seed_env, rows)] * options.runs + [(small_env, None)]
            ):
                with admin.connect() as conn:
                    conn.exec_driver_sql(f"CREATE DATABASE copy{n}")
                wall, peak, _ = run_measured([CHORUS, "db", "copy", "--to", f"{base}/copy{n}"],
                                             source_env)  # fmt: skip
                if source_rows is not None:
                    copy_walls.append(wall)
                    copy_peaks.append(peak)
                else:
                    small_copy_peak = peak
            rate = rows / median(copy_walls)
            results.append(
                {
                    "name": f"chorus db copy to PostgreSQL ({rows:,} rows)",
                    "seconds": round(median(copy_walls), 2),
                    "floor": "20,000 rows/s",
                    "floor_seconds": round(rows / 20_000, 2),
                    "ratio": round(rate / 20_000, 2),
                    "goal": 1.0,
                    "ok": rate >= 20_000,
                    "note": f"{rate:,.0f} rows/s",
                }
            )
            memory.append(
                memory_figure("chorus db copy peak memory", max(copy_peaks), small_copy_peak)
            )
    header = f"{'figure':<58} {'s':>7} {'floor s':>8} {'ratio':>7}  goal   verdict"
    print(header)
    print("-" * len(header))
    for row in results:
        verdict = "ok" if row["ok"] else "OVER"
        note = row.get("note", "")
        print(f"{row['name']:<58} {row['seconds']:>7.2f} {row['floor_seconds']:>8.2f} "
              f"{row['ratio']:>6.2f}x {row['goal']:>5}  {verdict}  {note}")  # fmt: skip
    for row in results:
        print(f"  {row['name'].strip()}: floor = {row['floor']}")
    print()
    for row in memory:
        verdict = "ok" if row["ok"] else "OVER"
        print(f"{row['name']:<58} {row['big_mb']:>7.1f} MB vs {row['small_mb']:.1f} MB "
              f"{row['ratio']:>5.2f}x  goal {row['goal']}x  {verdict}")  # fmt: skip
    over = [row["name"] for row in results + memory if not row["ok"]]
    return report(
        options.out,
        over,
        {
            "results": results,
            "memory": memory,
        },
    )


if __name__ == "__main__":
    sys.exit(main())
