"""`chorus serve` under load (issue 22, Speed): rechercherStructure by SIRET and by name
at 50 concurrent clients, p50/p99 and throughput; the server's start-up time.

A store seeded with ``--structures`` structures (100,000 by default) and a technical
account each, one API client; the real `chorus serve` on a loopback port; the load from
an asyncio client (httpx), 50 connections kept alive, for ``--seconds`` per query.
The machine is shared: compare runs side by side, not absolute figures.

    .venv/bin/python benchmarks/serve.py [--structures 100000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import CHORUS, PY, clean_env

TECH_PASSWORD = "Techn1que-Bench-Pass!"
CLIENT_ID, SECRET = "bench-client", "bench-secret-0123456789abcdef0123456789"
CONCURRENCY = 50


def prepare(tmp: Path, structures: int) -> tuple[dict[str, str], str]:
    url = f"sqlite:///{tmp / 'chorus.db'}"
    env = clean_env(tmp, url)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    subprocess.run([CHORUS, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [CHORUS, "seed", "--accounts", str(structures * 2), "--structures", str(structures),
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
    return env, url


def first_structure(url: str) -> tuple[str, str]:
    import sqlite3

    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    ident, name = db.execute(
        "SELECT identifier, raison_sociale FROM structure ORDER BY id LIMIT 1"
    ).fetchone()
    db.close()
    return ident, name


async def load(base: str, headers: dict, body: dict, seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < end:
            start = time.perf_counter()
            answer = await client.post("/cpro/structures/v1/rechercher", json=body)
            latencies.append(time.perf_counter() - start)
            if answer.status_code != 200:
                errors += 1

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        took = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "per_second": round(len(latencies) / took, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--structures", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    import httpx

    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        tmp = Path(folder)
        env, url = prepare(tmp, args.structures)
        began = time.perf_counter()
        server = subprocess.Popen(
            [CHORUS, "serve", "--port", "0", "--rate", "100000"],
            env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        seen = ""
        while not (found := re.search(r"https?://\S+:\d+", seen)):
            line = server.stderr.readline()
            if not line:
                raise SystemExit("chorus serve did not start: " + seen)
            seen += line
        startup = time.perf_counter() - began
        base = found.group(0)
        subprocess.Popen(["cat"], stdin=server.stderr, stdout=subprocess.DEVNULL)  # drain
        try:
            grant = httpx.post(
                base + "/api/oauth/token",
                data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                      "client_secret": SECRET},
            ).json()  # fmt: skip
            ident, name = first_structure(url)
            account = base64.b64encode(f"TECH_1_{ident}@cpro.fr:{TECH_PASSWORD}".encode())
            headers = {
                "Authorization": f"Bearer {grant['access_token']}",
                "cpro-account": account.decode(),
            }
            figures = {
                "structures": args.structures,
                "concurrency": CONCURRENCY,
                "startup_s": round(startup, 2),
                "by_siret": asyncio.run(
                    load(
                        base, headers, {"structure": {"identifiantStructure": ident}}, args.seconds
                    )
                ),
                "by_name": asyncio.run(
                    load(
                        base,
                        headers,
                        {"structure": {"raisonSocialeStructure": name.split()[0]}},
                        args.seconds,
                    )
                ),
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
