"""Streaming listings benchmark (OUT-2): `chorus mail list --all --format jsonl` and
`chorus audit list --all --format jsonl` at 100,000 rows, their peak memory a ratio to
the same at 1,000 rows (goal: 1.3x, memory flat).

    .venv/bin/python benchmarks/listings.py [--rows 100000] [--small 1000] [--runs 3]
                                            [--out benchmarks/results-listings.json]

- The stores: SQLite files, migrated, an admin logged in (through the CLI), then
  ``--rows`` (or ``--small``) mails and audit entries written set-based (one recursive
  INSERT ... SELECT each), as chorus writes them.
- Each figure: the whole command in a fresh process, stdout to /dev/null; the peak
  resident memory (``ru_maxrss`` of the process), the median of ``--runs``; wall time
  reported alongside, with no goal.

Exits 0 even when a figure is over its goal: this is a report.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.harness import CHORUS, clean_env, operator_session, report, run_measured  # noqa: E402

EMAIL = "bench.listings@example.fr"
GOAL = 1.3
COMMANDS = {
    "mail list --all --format jsonl": ["mail", "list", "--all", "--format", "jsonl"],
    "audit list --all --format jsonl": ["audit", "list", "--all", "--format", "jsonl"],
}

MAILS = """
INSERT INTO mail ("to", sender, subject, body, body_redacted, kind, created_at, status,
                  attempts, sent_at, message_id)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
SELECT 'person' || i || '@example.fr', 'chorus@example.fr',
       'Votre compte Chorus Pro ' || i,
       'Bonjour,' || char(10) || 'Votre compte est ouvert : https://chorus.example/a?token='
           || hex(randomblob(16)) || char(10) || 'Cordialement',
       'Bonjour,' || char(10) || 'Votre compte est ouvert : [lien]' || char(10) || 'Cordialement',
       'activation', datetime('2026-11-01', '+' || i || ' seconds'), 'sent', 1,
       datetime('2026-11-01', '+' || i || ' seconds'), '<' || i || '@chorus.example>'
FROM n
"""
AUDIT = """
INSERT INTO audit_entry (at, actor, action, target, details)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
SELECT datetime('2026-11-01', '+' || i || ' seconds'), :actor, 'account.update',
       'person' || i || '@example.fr', '{"fields": ["phone"], "source": "bench"}'
FROM n
"""


def store(tmp: Path, rows: int) -> dict[str, str]:
    """A store with an admin logged in, then ``rows`` mails and audit entries."""
    path = tmp / "chorus.db"
    env = clean_env(tmp, f"sqlite:///{path}")
    operator_session(env, EMAIL)
    with sqlite3.connect(path) as db:
        db.execute(MAILS, {"rows": rows})
        db.execute(AUDIT, {"rows": rows, "actor": EMAIL})
    return env


def measure(env: dict[str, str], argv: list[str], runs: int) -> tuple[float, float]:
    """Median peak memory (MiB) and wall seconds of ``chorus argv`` over ``runs``."""
    peaks, walls = [], []
    for _ in range(runs):
        wall, peak_kib, _err = run_measured([CHORUS, *argv], env, stdout=subprocess.DEVNULL)
        peaks.append(peak_kib / 1024)
        walls.append(wall)
    return statistics.median(peaks), statistics.median(walls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results-listings.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="chorus-bench-listings-"))
    figures: dict[str, dict[str, float]] = {}
    over: list[str] = []
    try:
        envs = {}
        for rows in (args.small, args.rows):
            (root / str(rows)).mkdir()
            envs[rows] = store(root / str(rows), rows)
        print(f"{'command':36} {'rows':>8} {'peak MiB':>9} {'wall s':>7} {'ratio':>6}")
        for name, argv in COMMANDS.items():
            small_peak, small_wall = measure(envs[args.small], argv, args.runs)
            peak, wall = measure(envs[args.rows], argv, args.runs)
            ratio = peak / small_peak
            print(f"{name:36} {args.small:>8} {small_peak:>9.1f} {small_wall:>7.2f}")
            print(f"{name:36} {args.rows:>8} {peak:>9.1f} {wall:>7.2f} {ratio:>5.2f}x")
            figures[name] = {
                "rows": args.rows,
                "small_rows": args.small,
                "peak_mib": round(peak, 1),
                "small_peak_mib": round(small_peak, 1),
                "wall_s": round(wall, 2),
                "small_wall_s": round(small_wall, 2),
                "memory_ratio": round(ratio, 3),
                "goal": GOAL,
            }
            if ratio > GOAL:
                over.append(name)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return report(args.out, over, {"memory": figures})


if __name__ == "__main__":
    sys.exit(main())
