"""What the import benchmarks share: chorus in a fresh process, its time and peak memory,
and a store with an operator logged in (through the CLI, as a user would)."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
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
    return wall, usage.ru_maxrss, err.decode()


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
