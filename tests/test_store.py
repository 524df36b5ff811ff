"""OPS-5: migrations, SQLite in WAL mode with a busy timeout and foreign keys on, online
backups, and concurrent processes that never lose data."""

from __future__ import annotations

import multiprocessing
import sqlite3
import uuid
from contextlib import closing

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from chorus_cli.store import engine as engine_module
from chorus_cli.store.engine import HEAD_REVISION
from tests.conftest import Runner

MARIE = "marie.curie@example.fr"
PAUL = "paul.martin@example.fr"

sqlite_only = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
postgresql_only = pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)


def revision(url: str) -> str | None:
    engine = create_engine(engine_module.normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty store that was never migrated: a SQLite path, or an empty database."""
    if request.param == "sqlite":
        (tmp_path / "fresh").mkdir()
        yield f"sqlite:///{tmp_path / 'fresh' / 'chorus.db'}"
        engine_module.dispose_all()
        return
    base, admin = request.getfixturevalue("pg_base")
    name = "f_" + uuid.uuid4().hex[:12]
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield f"{base}/{name}"
    engine_module.dispose_all()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


# --- migrations ----------------------------------------------------------------------------


def test_ops5_db_upgrade_migrates_a_fresh_store(fresh_url, tmp_path, clock):
    cli = Runner(fresh_url, tmp_path, clock)

    first = cli("db", "upgrade")
    again = cli("db", "upgrade")

    assert first.exit_code == 0, first.stderr
    assert f"révision {HEAD_REVISION}" in first.stderr and first.stdout == ""
    assert again.exit_code == 0
    assert revision(fresh_url) == HEAD_REVISION
    assert cli.create(MARIE).exit_code == 0
    assert [m["to"] for m in cli.mails()] == [MARIE]


def test_ops5_the_head_revision_is_the_migrations_one_head():
    """What a store is checked against (``HEAD_REVISION``) is the last migration, the only
    head."""
    from alembic.script import ScriptDirectory

    migrations = engine_module.migrations()
    assert ScriptDirectory.from_config(migrations).get_heads() == [HEAD_REVISION]


def test_api3_ops5_a_store_the_first_0013_migrated_loses_its_stored_tokens(
    fresh_url, tmp_path, clock
):
    """Migration 0013 first stored bearer tokens (``api_token``) and a client's last use;
    tokens are now signed, never stored (API-3): a store that ran the first 0013 has both
    dropped by the next upgrade, its clients kept."""
    from sqlalchemy import inspect

    cli = Runner(fresh_url, tmp_path, clock)
    assert cli("db", "upgrade").exit_code == 0
    engine = create_engine(engine_module.normalise_url(fresh_url))
    with engine.begin() as conn:  # what the first 0013 created, with a token in it
        conn.execute(text("ALTER TABLE api_client ADD COLUMN last_used_at TIMESTAMP"))
        conn.execute(text(
            "CREATE TABLE api_token (id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL"
            " REFERENCES api_client (id) ON DELETE CASCADE, token_hash VARCHAR(64) NOT NULL"
            " UNIQUE, issued_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO api_client (id, name, client_id, secret_hash, created_at, created_by)"
            " VALUES (1, 'ERP', 'erp-id', :h, :t, 'ada@example.fr')"
        ), {"h": "0" * 64, "t": clock.now()})  # fmt: skip
        conn.execute(text(
            "INSERT INTO api_token VALUES (1, 1, :h, :t, :t)"
        ), {"h": "1" * 64, "t": clock.now()})  # fmt: skip
        conn.execute(text("UPDATE alembic_version SET version_num = '0015'"))
    engine.dispose()
    engine_module.dispose_all()  # as a new process would: the store is read afresh

    upgraded = cli("db", "upgrade")

    assert upgraded.exit_code == 0, upgraded.stderr
    engine = create_engine(engine_module.normalise_url(fresh_url))
    try:
        found = inspect(engine)
        assert not found.has_table("api_token")
        assert "last_used_at" not in {c["name"] for c in found.get_columns("api_client")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT client_id FROM api_client")).scalars().all() == [
                "erp-id"
            ]
    finally:
        engine.dispose()
    assert revision(fresh_url) == HEAD_REVISION


def test_ops5_first_use_of_a_new_sqlite_path_creates_and_migrates_it(tmp_path, clock):
    # In a folder that exists: a missing folder is a mistyped path (SEC-6, test_hardening).
    path = tmp_path / "there.db"
    cli = Runner(f"sqlite:///{path}", tmp_path, clock)

    created = cli.create(MARIE)

    assert created.exit_code == 0, created.stderr
    assert path.exists()
    assert revision(f"sqlite:///{path}") == HEAD_REVISION
    engine_module.dispose_all()


def test_ops5_default_store_is_sqlite_in_the_user_data_dir(tmp_path, clock):
    cli = Runner("unused", tmp_path / "data", clock)
    del cli.env["CHORUS_DATABASE_URL"]

    created = cli.create(MARIE)

    assert created.exit_code == 0, created.stderr
    assert (tmp_path / "data" / "chorus.db").exists()
    assert revision(f"sqlite:///{tmp_path / 'data' / 'chorus.db'}") == HEAD_REVISION
    engine_module.dispose_all()


# --- SQLite settings -------------------------------------------------------------------------


@sqlite_only
def test_ops5_sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout(cli):
    cli.create(MARIE)

    raw = sqlite3.connect(sqlite_path(cli.url))  # WAL is a property of the file itself
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
    engine = engine_module.get_engine(cli.url)  # what every command uses
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        with pytest.raises(IntegrityError):
            conn.execute(
                text(
                    "INSERT INTO password_history (account_id, password_hash, created_at)"
                    " VALUES (999, 'x', '2026-01-01 00:00:00')"
                )
            )


# --- backups ---------------------------------------------------------------------------------


@sqlite_only
def test_ops5_backup_is_a_usable_copy(cli, tmp_path):
    cli.create(MARIE)
    cli.create(PAUL, last="Martin", first="Paul")
    path = tmp_path / "backup.db"

    result = cli("db", "backup", str(path))

    assert result.exit_code == 0, result.stderr
    assert str(path) in result.stderr and result.stdout == ""
    copy = cli("--db", f"sqlite:///{path}", "mail", "list", "--json")
    assert copy.exit_code == 0, copy.stderr
    assert copy.json() == cli.mails()
    cli.create("jeanne.dupont@example.fr", last="Dupont", first="Jeanne")
    assert len(cli("--db", f"sqlite:///{path}", "mail", "list", "--json").json()) == 2


@sqlite_only
def test_ops5_backup_while_another_process_writes(cli, tmp_path):
    cli.create(MARIE)
    writer = sqlite3.connect(sqlite_path(cli.url), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO throttle_event (key, at) VALUES ('uncommitted', '2026-01-01 00:00:00')"
    )
    try:
        result = cli("db", "backup", str(tmp_path / "backup.db"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert result.exit_code == 0, result.stderr
    copy = sqlite3.connect(tmp_path / "backup.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM account").fetchone()[0] == 1
        assert (
            copy.execute("SELECT count(*) FROM throttle_event WHERE key='uncommitted'").fetchone()[
                0
            ]
            == 0
        )
    finally:
        copy.close()


@postgresql_only
def test_ops5_backup_is_refused_on_postgresql(cli, tmp_path):
    result = cli("db", "backup", str(tmp_path / "backup.db"))

    assert result.exit_code == 2
    assert "pg_dump" in result.stderr
    assert not (tmp_path / "backup.db").exists()


@sqlite_only
def test_ops5_backup_never_overwrites_a_file(cli, tmp_path):
    path = tmp_path / "precious.db"
    path.write_bytes(b"keep me")

    result = cli("db", "backup", str(path))

    assert result.exit_code == 2
    assert result.stderr.strip() == f"{path} existe déjà : choisissez un autre fichier."
    assert path.read_bytes() == b"keep me"


@sqlite_only
def test_ops5_backup_into_a_missing_folder_is_bad_input(cli, tmp_path):
    result = cli("db", "backup", str(tmp_path / "no" / "such" / "backup.db"))

    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "n'existe pas" in result.stderr


def test_ops5_backup_of_an_in_memory_store_is_bad_input(tmp_path, clock):
    cli = Runner("sqlite://", tmp_path, clock)

    result = cli("db", "backup", str(tmp_path / "backup.db"))

    assert result.exit_code == 2
    assert "mémoire" in result.stderr
    engine_module.dispose_all()


# --- concurrency -------------------------------------------------------------------------------


def _create_accounts(url: str, worker: int, count: int, start, results) -> None:
    """One chorus process: ``chorus account create`` ``count`` times, as the console script."""
    import io
    import os
    import sys

    from chorus_cli.cli import main

    os.environ["CHORUS_DATABASE_URL"] = url
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    names = ["--last-name", "Martin", "--first-name", "Paul"]
    codes: list = []
    try:
        start.wait()
        for n in range(count):
            try:
                main(["account", "create", "--email", f"agent{worker}.n{n}@example.fr", *names])
            except SystemExit as exc:
                codes.append(exc.code)
    except BaseException as exc:  # report it rather than leave the parent waiting
        codes.append(repr(exc))
    results.put((worker, codes, sys.stderr.getvalue()))


def test_ops5_concurrent_processes_lose_nothing(tmp_path, clock):
    """8 processes create 5 accounts each, at once, on a brand-new SQLite file."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    workers, count = 8, 5
    # fork: each child is a separate process with its own SQLite connections, without
    # paying the 1 s import of a fresh interpreter; the parent never opened this file.
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=_create_accounts, args=(url, w, count, start, results))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)

    for worker, codes, stderr in outcomes:
        assert codes == [0] * count, (worker, stderr)
    cli = Runner(url, tmp_path, clock)
    mails = cli.mails()
    expected = {f"agent{w}.n{n}@example.fr" for w in range(workers) for n in range(count)}
    assert {m["to"] for m in mails} == expected and len(mails) == workers * count
    raw_count = None
    with closing(sqlite3.connect(sqlite_path(url))) as db:
        raw_count = db.execute(
            "SELECT count(*) FROM audit_entry WHERE action = 'account.create'"
        ).fetchone()[0]
    assert raw_count == workers * count
    raw = sqlite3.connect(sqlite_path(url))
    try:
        assert raw.execute("SELECT count(*) FROM account").fetchone()[0] == workers * count
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()
    engine_module.dispose_all()
