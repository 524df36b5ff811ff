"""`chorus serve` under load (issue 22, Speed): rechercherStructure by SIRET and by name
at 50 concurrent clients, p50/p99 and throughput, on SQLite and on PostgreSQL; the
server's start-up time.

    .venv/bin/python benchmarks/serve.py [--structures 100000] [--seconds 10] [--rounds 2]
        [--no-postgresql] [--cache DIR] [--out benchmarks/results-serve.json]

- The store: ``chorus seed`` of ``--structures`` structures (as many accounts), a technical
  account each (``--technical-accounts``), one API client. Seeding 100,000 takes a while:
  the seeded SQLite file is kept in ``--cache`` (default ``$TMPDIR/chorus-bench-serve``),
  named by its size and the store's revision (a store of an older revision there is
  migrated rather than seeded again), and each run works on a copy of it. The
  PostgreSQL store is a throwaway cluster (``harness.postgresql``), filled from that copy
  by ``chorus db copy``.
- The load: ``wrk`` (Debian's package, `make bench-deps` installs it), one thread, 50
  connections kept alive, ``--seconds`` per figure; its Lua script sends the request and
  prints p50/p90/p99 and the count of non-2xx answers.
- Each round, on each store, side by side in one server: the server's own floor (a 404,
  which goes through the HTTP stack, the log line and the error envelope, and nothing
  else), ``health-check`` (the same with the bearer token, the ``cpro-account`` check and
  a unit of work), ``rechercher`` by SIRET, then by a raison sociale. Medians over rounds.
- Start-up: from the process's start to its «listening» line, and to its first 200 (a
  search by SIRET, Argon2 verification included), median of ``--starts`` starts.

The machine is shared: compare figures of one run (the ratios to the floor), not runs.
Exits 0 even when a figure is over its goal: this is a report.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.harness import CHORUS, PY, clean_env, postgresql, report  # noqa: E402

TECH_PASSWORD = "Techn1que-Bench-Pass!"
CLIENT_ID, SECRET = "bench-client", "bench-secret-0123456789abcdef0123456789"
CONCURRENCY = 50
GOAL_P99_MS = 50.0
STRUCTURES = "/cpro/structures/v1"

# wrk's script: the request from the environment, and the figures as one JSON line.
WRK_SCRIPT = """
wrk.method = os.getenv("BENCH_METHOD")
local body = os.getenv("BENCH_BODY")
if body ~= "" then wrk.body = body end
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth ~= "" then wrk.headers["Authorization"] = auth end
local account = os.getenv("BENCH_ACCOUNT")
if account ~= "" then wrk.headers["cpro-account"] = account end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "micros": %d, "non_2xx": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def seeded_store(cache: Path, structures: int) -> Path:
    """The seeded SQLite store, made once per size and store revision (then reused)."""
    revision = subprocess.run(  # the installed chorus' (PYTHONPATH may name another tree)
        [PY, "-c", "from chorus_cli.store.engine import HEAD_REVISION as r; print(r)"],
        capture_output=True, text=True, check=True, cwd=cache.anchor,
    ).stdout.strip()  # fmt: skip
    path = cache / f"serve-{structures}-r{revision}.db"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="seeding-", dir=cache))
    try:
        url = f"sqlite:///{work / 'chorus.db'}"
        env = clean_env(work, url)
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        older = sorted(p for p in cache.glob(f"serve-{structures}-r*.db") if p.stem < path.stem)
        if older:  # the same store at an older revision: migrating it takes seconds
            print(f"migrating {older[-1].name} to {path.name} (once)...", flush=True)
            shutil.copyfile(older[-1], work / "chorus.db")
            subprocess.run([CHORUS, "db", "upgrade"], env=env, check=True, capture_output=True)
            with sqlite3.connect(work / "chorus.db") as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            os.replace(work / "chorus.db", path)
            os.chmod(path, 0o600)  # a store: its owner's only (SEC-2), as the seeded one
            return path
        print(f"seeding {structures:,} structures into {path} (once)...", flush=True)
        subprocess.run([CHORUS, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run(
            [CHORUS, "seed", "--accounts", str(structures), "--structures", str(structures),
             "--technical-accounts", "--technical-password-stdin"],
            env=env, input=TECH_PASSWORD + "\n", text=True, check=True, capture_output=True,
        )  # fmt: skip
        code = f"""
from chorus_cli.config import Settings
from chorus_cli.domain.secrets import token_hash
from chorus_cli.kernel.clock import SystemClock
from chorus_cli.store.models import ApiClient
from chorus_cli.store.uow import UnitOfWork
with UnitOfWork(Settings.from_env({url!r}), SystemClock()) as uow:
    uow.session.add(ApiClient(name="bench", client_id={CLIENT_ID!r},
        secret_hash=token_hash({SECRET!r}), created_at=uow.clock.now(), created_by="bench"))
    uow.commit()
"""
        subprocess.run([PY, "-c", code], env=env, check=True)
        with sqlite3.connect(work / "chorus.db") as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        os.replace(work / "chorus.db", path)
        os.chmod(path, 0o600)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def targets(store: Path) -> tuple[str, str]:
    """A SIRET and a raison sociale to search for (a structure in the middle)."""
    with sqlite3.connect(store) as db:
        ident, name = db.execute(
            "SELECT identifier, raison_sociale FROM structure WHERE status = 'active' "
            "ORDER BY id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM structure)"
        ).fetchone()
    return ident, name


class Running:
    """A `chorus serve` subprocess: its URL, the seconds to its «listening» line; its
    stderr drained (one line per request) so that it never blocks."""

    def __init__(self, env: dict[str, str]) -> None:
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [CHORUS, "serve", "--port", "0", "--rate", "100000"],
            env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        seen = ""
        while not (found := re.search(r"https?://\S+:\d+", seen)):
            line = self.process.stderr.readline()
            if not line:
                raise SystemExit("chorus serve did not start: " + seen)
            seen += line
        self.began = began
        self.listening = time.perf_counter() - began
        self.url = found.group(0)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for _line in self.process.stderr:
            pass

    def stop(self) -> None:
        import signal

        self.process.send_signal(signal.SIGINT)
        if self.process.wait(timeout=120) != 0:
            raise SystemExit(f"chorus serve ended with {self.process.returncode}")


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    try:
        with urlopen(Request(url, data=body, headers=headers), timeout=60) as answer:
            return answer.status, answer.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()


def grant(url: str) -> str:
    form = f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}"
    status, text = post(
        url + "/api/oauth/token",
        form.encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, text
    return json.loads(text)["access_token"]


def account_of(ident: str) -> str:
    return base64.b64encode(f"TECH_1_{ident}@cpro.fr:{TECH_PASSWORD}".encode()).decode()


def wrk(
    url: str, method: str, body: str, headers: dict[str, str], seconds: float, script: Path
) -> dict:
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_BODY": body,
        "BENCH_AUTH": headers.get("Authorization", ""),
        "BENCH_ACCOUNT": headers.get("cpro-account", ""),
    }
    ran = subprocess.run(
        ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
         "-s", str(script), url],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if ran.returncode:
        raise SystemExit(f"wrk: exit {ran.returncode}\n{ran.stdout[-1000:]}{ran.stderr[-1000:]}")
    line = ran.stdout.strip().splitlines()[-1]
    raw = json.loads(line)
    return {
        "requests": raw["requests"],
        "per_second": round(raw["requests"] / (raw["micros"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "non_2xx": raw["non_2xx"],
        "socket_errors": raw["socket_errors"],
    }


def startup(env: dict[str, str], ident: str) -> tuple[float, float]:
    """Seconds from the process's start to its «listening» line and to its first 200."""
    server = Running(env)
    try:
        token = grant(server.url)
        headers = {
            "Authorization": f"Bearer {token}",
            "cpro-account": account_of(ident),
            "Content-Type": "application/json",
        }
        body = json.dumps({"structure": {"identifiantStructure": ident}}).encode()
        status, text = post(server.url + f"{STRUCTURES}/rechercher", body, headers)
        first = time.perf_counter() - server.began
        assert status == 200, text
    finally:
        server.stop()
    return server.listening, first


def one_round(env: dict[str, str], ident: str, name: str, seconds: float, script: Path) -> dict:
    """The four figures, side by side in one server."""
    server = Running(env)
    try:
        headers = {
            "Authorization": f"Bearer {grant(server.url)}",
            "cpro-account": account_of(ident),
        }
        search = server.url + f"{STRUCTURES}/rechercher"
        by_siret = json.dumps({"structure": {"identifiantStructure": ident}})
        by_name = json.dumps({"structure": {"raisonSocialeStructure": name}})
        for body in (by_siret, by_name):  # both answer, and find the structure
            status, text = post(
                search, body.encode(), {**headers, "Content-Type": "application/json"}
            )
            found = json.loads(text)
            assert status == 200 and ident in text, text[:500]
            assert found["parametresRetour"]["total"] >= 1
        return {
            "floor_404": wrk(server.url + "/no/such/path", "GET", "", {}, seconds, script),
            "health_check": wrk(
                server.url + "/cpro/transverses/v1/health-check",
                "GET",
                "",
                headers,
                seconds,
                script,
            ),
            "by_siret": wrk(search, "POST", by_siret, headers, seconds, script),
            "by_name": wrk(search, "POST", by_name, headers, seconds, script),
        }
    finally:
        server.stop()


def medians(rounds: list[dict]) -> dict:
    figures = {}
    for key in rounds[0]:
        runs = [r[key] for r in rounds]
        figures[key] = {
            field: round(statistics.median(run[field] for run in runs), 2) for field in runs[0]
        }
        figures[key]["p99_ms_each_round"] = [run["p99_ms"] for run in runs]
        figures[key]["per_second_each_round"] = [run["per_second"] for run in runs]
    floor = figures["floor_404"]["per_second"]
    for key in ("health_check", "by_siret", "by_name"):
        figures[key]["throughput_vs_floor"] = round(figures[key]["per_second"] / floor, 2)
    for key in ("by_siret", "by_name"):
        figures[key]["goal_p99_ms"] = GOAL_P99_MS
        figures[key]["ok"] = figures[key]["p99_ms"] < GOAL_P99_MS and not figures[key]["non_2xx"]
    return figures


def print_store(name: str, figures: dict) -> None:
    print(f"\n{name}: {CONCURRENCY} concurrent clients (wrk)")
    print(f"{'request':<16} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'vs floor':>9} {'non-2xx':>8}  verdict")  # fmt: skip
    for key, row in figures.items():
        if not isinstance(row, dict) or "per_second" not in row:
            continue
        ratio = row.get("throughput_vs_floor")
        verdict = "" if "ok" not in row else ("ok" if row["ok"] else "OVER")
        print(f"{key:<16} {row['per_second']:>8.0f} {row['p50_ms']:>8.1f} {row['p90_ms']:>8.1f} "
              f"{row['p99_ms']:>8.1f} {(f'{ratio:.2f}x' if ratio else '-'):>9} "
              f"{row['non_2xx']:>8}  {verdict}")  # fmt: skip
    for label, lines in figures.get("plans", {}).items():
        print(f"plan {label}: " + " | ".join(line for line in lines if line != "--")[:400])
    start = figures["startup"]
    print(f"start-up: listening after {start['listening_s']:.2f} s, "
          f"first 200 after {start['first_200_s']:.2f} s")  # fmt: skip


class _NoJournal:
    """Where ``plans`` records the uses: nowhere."""

    def record(self, use: object) -> None:
        pass


def plans(url: str, ident: str, name: str) -> dict[str, list[str]]:
    """The store's plan of each statement a search by SIRET and by name runs (as the
    domain builds them, caught on their way to the driver): index-backed or not."""
    from sqlalchemy import event

    from chorus_cli.config import Settings
    from chorus_cli.domain import integration
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.engine import get_engine
    from chorus_cli.store.models import TechnicalAccount
    from chorus_cli.store.uow import UnitOfWork

    engine = get_engine(url)
    sqlite = url.startswith("sqlite")
    found: dict[str, list[str]] = {}
    for label, wanted in (("by_siret", {"identifiantStructure": ident}),
                          ("by_name", {"raisonSocialeStructure": name})):  # fmt: skip
        caught: list[tuple[str, object]] = []

        def catch(_conn, _cursor, statement, parameters, _context, _many, caught=caught):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("SELECT"):
                caught.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", catch)
        try:
            with UnitOfWork(Settings.from_env(url), SystemClock(), journal=_NoJournal()) as uow:
                uow.reading()
                caller = uow.session.get(TechnicalAccount, 1)
                integration.search_structures(uow, caller, {"structure": wanted})
        finally:
            event.remove(engine, "before_cursor_execute", catch)
        lines: list[str] = []
        with engine.connect() as conn:
            for statement, parameters in caught:
                if "structure" not in statement:
                    continue
                explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
                rows = conn.exec_driver_sql(explain + statement, parameters).all()  # type: ignore[arg-type]
                lines += [str(r[-1]) for r in rows] + ["--"]
        found[label] = lines
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--no-postgresql", dest="postgresql", action="store_false")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "chorus-bench-serve",
        help="where the seeded SQLite store is kept between runs",
    )
    parser.add_argument("--no-plans", dest="plans", action="store_false",
                        help="skip the queries' plans (a tree without migration 0015)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=HERE / "results-serve.json")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: `make bench-deps` installs it")
    if not Path(CHORUS).exists():
        raise SystemExit(f"{CHORUS} not found: run `make bench` (it installs chorus first)")

    seeded = seeded_store(options.cache, options.structures)
    ident, name = targets(seeded)
    results: dict = {"structures": options.structures, "concurrency": CONCURRENCY,
                     "seconds_per_figure": options.seconds, "rounds": options.rounds,
                     "siret": ident, "name": name}  # fmt: skip
    over: list[str] = []
    with ExitStack() as cleanup:
        tmp = Path(tempfile.mkdtemp(prefix="chorus-serve-bench-"))
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        script = tmp / "bench.lua"
        script.write_text(WRK_SCRIPT)
        store = tmp / "chorus.db"
        shutil.copyfile(seeded, store)
        os.chmod(store, 0o600)
        envs = {"sqlite": clean_env(tmp, f"sqlite:///{store}", tmp / "pycache")}
        if options.postgresql:
            base, admin = cleanup.enter_context(postgresql())
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text("CREATE DATABASE serve_bench"))
            pg_url = base + "/serve_bench"
            copied = subprocess.run(
                [CHORUS, "db", "copy", "--to", pg_url], env=envs["sqlite"],
                capture_output=True, text=True,
            )  # fmt: skip
            if copied.returncode:
                raise SystemExit("chorus db copy: " + copied.stderr[-2000:])
            envs["postgresql"] = clean_env(tmp, pg_url, tmp / "pycache")
        for env in envs.values():
            env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        rounds: dict[str, list[dict]] = {kind: [] for kind in envs}
        for number in range(options.rounds):
            for kind, env in envs.items():
                print(f"round {number + 1}/{options.rounds}, {kind}...", flush=True)
                rounds[kind].append(one_round(env, ident, name, options.seconds, script))
        for kind, env in envs.items():
            starts = [startup(env, ident) for _ in range(options.starts)]
            figures = medians(rounds[kind])
            figures["startup"] = {
                "listening_s": round(statistics.median(s[0] for s in starts), 2),
                "first_200_s": round(statistics.median(s[1] for s in starts), 2),
            }
            if options.plans:
                figures["plans"] = plans(env["CHORUS_DATABASE_URL"], ident, name)
            results[kind] = figures
            over += [f"{kind} {key}" for key in ("by_siret", "by_name") if not figures[key]["ok"]]
            print_store(kind, figures)
    return report(options.out, over, results)


if __name__ == "__main__":
    sys.exit(main())
