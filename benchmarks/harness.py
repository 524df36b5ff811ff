"""What the import benchmarks share: chorus in a fresh process, its time and peak memory,
and a store with an operator logged in (through the CLI, as a user would)."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PY = sys.executable
CHORUS = str(Path(PY).parent / "chorus")
PASSWORD = "Vr4i-Mot2Passe!"


def clean_env(tmp: Path, store_url: str, pycache: Path | None = None) -> dict[str, str]:
    """The environment of a headless user: no keyring backend named, no session bus, the
    store and data dir in ``tmp``; bytecode cached (in ``pycache``, else in ``tmp``), as
    for an installed chorus."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHORUS_", "PYTHON_KEYRING", "DBUS_SESSION", "PYTHONDONTWRITE"))
    }
    env.update(
        CHORUS_DATABASE_URL=store_url,
        CHORUS_DATA_DIR=str(tmp / "home"),
        XDG_DATA_HOME=str(tmp / "xdg"),
        PYTHONPYCACHEPREFIX=str(pycache or tmp / "pycache"),
    )
    return env


def run_measured(argv: list[str], env: dict[str, str], stdout=subprocess.DEVNULL):  # type: ignore[no-untyped-def]
    """Wall seconds, peak memory (KiB) and stderr of one command in a fresh process.

    Reaped with wait4: the peak is the largest of that process and the children it
    waited for (the import's checking workers)."""
    wall, usage, err = run_usage(argv, env, stdout)
    return wall, usage.ru_maxrss, err


def run_usage(argv: list[str], env: dict[str, str], stdout=subprocess.DEVNULL):  # type: ignore[no-untyped-def]
    """``run_measured`` with the whole resource usage of the command (``os.wait4``'s):
    its CPU time (``ru_utime + ru_stime``, its waited-for children included) is the
    figure that holds on a shared machine, where wall time measures the neighbours too."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE
    )
    err = process.stderr.read() if process.stderr else b""
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{' '.join(argv[:4])}...: exit {code}\n{err.decode()[-2000:]}")
    return wall, usage, err.decode()


def chorus(env: dict[str, str], *args: str, input: str | None = None) -> str:
    result = subprocess.run(
        [CHORUS, *args], env=env, input=input, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"chorus {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
    return result.stdout


def last_mail(env: dict[str, str], to: str) -> str:
    return json.loads(chorus(env, "mail", "list", "--json", "--to", to))[0]["body"]


def operator_session(env: dict[str, str], email: str) -> None:
    """A fresh store whose first admin is logged in (imports are operator tasks)."""
    chorus(env, "db", "upgrade")
    chorus(env, "admin", "bootstrap", "--email", email, "--last-name", "Bench", "--first-name", "A")
    link = re.search(r"https?://\S+token=\S+", last_mail(env, email)).group(0)
    chorus(env, "account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    chorus(env, "login", email, "--password-stdin", input=PASSWORD + "\n")
    code = re.search(r"\b\d{6}\b", last_mail(env, email)).group(0)
    chorus(env, "login", email, "--code", code)


@contextmanager
def postgresql() -> Iterator[tuple[str, Any]]:
    """A throwaway PostgreSQL cluster, as the tests start one: its base URL and an
    AUTOCOMMIT engine on its ``postgres`` database (to create and drop databases)."""
    from sqlalchemy import create_engine

    from tests.pg import Cluster

    cluster = Cluster()
    base = cluster.start()
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        yield base, admin
    finally:
        admin.dispose()
        cluster.stop()


def median(values: list[float]) -> float:
    return statistics.median(values)


def figure(
    name: str,
    runs: list[float],
    floor_name: str,
    floors: list[float],
    goal: float | None,
    paired: bool = True,
) -> dict:
    """Medians, and the ratio: pair by pair when the runs were interleaved with their
    floor's (the machine's speed drifts between pairs, not within one), else of the
    medians."""
    if paired:
        ratio = median([run / floor for run, floor in zip(runs, floors, strict=True)])
    else:
        ratio = median(runs) / median(floors)
    return {
        "name": name,
        "seconds": round(median(runs), 2),
        "floor": floor_name,
        "floor_seconds": round(median(floors), 2),
        "ratio": round(ratio, 2),
        "goal": goal,
        "ok": goal is None or ratio <= goal,
    }


def memory_figure(name: str, big_kib: int, small_kib: int, goal: float | None = 1.3) -> dict:
    """A peak (KiB, as ``run_measured`` gives it) against another: ``goal`` None is a
    figure reported without a goal."""
    ratio = big_kib / small_kib
    return {
        "name": name,
        "big_mb": round(big_kib / 1024, 1),
        "small_mb": round(small_kib / 1024, 1),
        "ratio": round(ratio, 2),
        "goal": goal,
        "ok": goal is None or ratio <= goal,
    }


def _verdict(row: dict) -> tuple[str, str]:
    if not row["goal"]:
        return "    -", "(report)"
    return f"{row['goal']:>4.1f}x", "ok" if row["ok"] else "OVER"


def print_figures(results: list[dict]) -> None:
    """The table of ``figure``s, then what each was measured against."""
    header = f"{'figure':<46} {'s':>7} {'floor s':>8} {'ratio':>6} {'goal':>5}  verdict"
    print(header)
    print("-" * len(header))
    for row in results:
        goal, verdict = _verdict(row)
        print(f"{row['name']:<46} {row['seconds']:>7.2f} {row['floor_seconds']:>8.2f} "
              f"{row['ratio']:>5.2f}x {goal}  {verdict}")  # fmt: skip
    print(f"  floors: {'; '.join(r['floor'] for r in results)}")


def print_memory(memory: list[dict], big: str = "MB", small: str = "against MB") -> None:
    """The table of ``memory_figure``s; ``big`` and ``small`` head their columns."""
    print(f"{'memory':<46} {big:>12} {small:>11} {'ratio':>6} {'goal':>5}")
    for row in memory:
        goal, verdict = _verdict(row)
        print(f"{row['name']:<46} {row['big_mb']:>12.1f} {row['small_mb']:>11.1f} "
              f"{row['ratio']:>5.2f}x {goal}  {verdict}")  # fmt: skip


def report(out: Path, over: list[str], figures: dict[str, Any]) -> int:
    """The end of every benchmark: the verdict line, then ``figures`` written to ``out``
    as JSON with the machine they were measured on (``figures`` may say it otherwise)
    and the figures over their goals. Returns 0: a report, never a failure."""
    print(f"OVER GOAL: {', '.join(over)}" if over else "all figures within their goals")
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
    }
    out.write_text(json.dumps({**machine, **figures, "over_goal": over}, indent=2) + "\n")
    print(f"written: {out}")
    return 0
