"""SEC-12, SEC-10, SEC-3 (issue 17 items 7, 8, 11, 12, 13): files chorus keeps for itself
are 0600 and never written through a link, a damaged one is moved aside, the TOTP seed
key has a file of its own, a failing keyring falls back to the file, PostgreSQL never
waits without end, and no outcome lies or ends as an internal error.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from chorus_cli.i18n import message
from tests.conftest import PASSWORD
from tests.test_mfa import EMAIL, enrol, oathtool, totp_login

FILE_KEYRING = "keyring.backends.fail.Keyring"  # no keyring: chorus' own 0600 files


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def on_files(cli) -> None:
    """This machine has no keyring: sessions and seed keys go to chorus' files."""
    cli.env["PYTHON_KEYRING_BACKEND"] = FILE_KEYRING


def session_file(cli):
    return cli.home / "session-keyring.json"


def seed_file(cli):
    return cli.home / "seed-keys.json"


def seed_entries(path) -> dict[str, str]:
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in entries.items() if k.startswith("chorus-cli/seed-key:")}


def login_with_app(cli, secret: str):
    cli("logout")
    cli.clock.advance(seconds=30)
    return totp_login(cli, oathtool(secret, cli.clock.now()))


# --- item 7: a keyring that fails falls back to the file ------------------------------


def test_sec3_a_keyring_that_cannot_be_unlocked_falls_back_to_the_0600_file(cli):
    cli.active_account()
    cli.env["PYTHON_KEYRING_BACKEND"] = "tests.locked_keyring.LockedKeyring"
    first = cli("login", EMAIL, "--password-stdin", input=PASSWORD + "\n")
    assert first.exit_code == 0, first.stderr
    warning = message("keyring.unusable", lang="fr", error="InitError",
                      path=str(session_file(cli)))  # fmt: skip
    assert warning in first.stderr and "interne" not in first.stderr
    second = cli("login", EMAIL, "--code", cli.last_code(EMAIL))
    assert second.exit_code == 0, second.stderr
    who = cli("whoami", "--json")
    assert who.exit_code == 0, who.stderr
    assert who.json()["login_email"] == EMAIL
    assert warning not in second.stderr + who.stderr  # said once
    assert mode(session_file(cli)) == 0o600
    logout = cli("logout")  # delete meets the backend's own (non-keyring) error type
    assert logout.exit_code == 0, logout.stderr
    assert cli("whoami").exit_code == 5


# --- item 7, SEC-12: the seed key's own file, damaged files moved aside ----------------


def test_sec12_the_seed_key_never_shares_the_session_file(cli):
    on_files(cli)
    cli.logged_in()
    secret = enrol(cli)
    assert seed_entries(seed_file(cli))  # the key, in its own file
    assert not seed_entries(session_file(cli))
    assert mode(seed_file(cli)) == 0o600 and mode(session_file(cli)) == 0o600
    logged = login_with_app(cli, secret)
    assert logged.exit_code == 0, logged.stderr


@pytest.mark.parametrize("damage", ["{not json", "[1, 2]"], ids=["bad-json", "a-list"])
def test_sec12_a_damaged_session_file_is_moved_aside_and_the_seed_key_survives(cli, damage):
    on_files(cli)
    cli.logged_in()
    secret = enrol(cli)
    key_before = seed_entries(seed_file(cli))
    session_file(cli).write_text(damage, encoding="utf-8")
    who = cli("whoami")
    assert who.exit_code == 5, who.stderr  # the session went with the file: not logged in
    assert "interne" not in who.stderr and "SEC-12" in who.stderr
    [aside] = cli.home.glob("session-keyring.json.damaged-*")
    assert aside.read_text(encoding="utf-8") == damage  # kept for the user, not overwritten
    assert str(aside) in who.stderr
    logged = login_with_app(cli, secret)  # the TOTP app still opens: its key is intact
    assert logged.exit_code == 0, logged.stderr
    assert seed_entries(seed_file(cli)) == key_before
    assert json.loads(session_file(cli).read_text(encoding="utf-8"))  # a new session file


def test_sec12_a_seed_key_kept_by_an_older_chorus_in_the_session_file_moves_to_its_own(cli):
    on_files(cli)
    cli.logged_in()
    secret = enrol(cli)
    # As chorus wrote it before: the seed key among the session entries, no seed file.
    entries = json.loads(session_file(cli).read_text(encoding="utf-8"))
    keys = seed_entries(seed_file(cli))
    session_file(cli).write_text(json.dumps({**entries, **keys}), encoding="utf-8")
    seed_file(cli).unlink()
    logged = login_with_app(cli, secret)
    assert logged.exit_code == 0, logged.stderr
    assert seed_entries(seed_file(cli)) == keys
    assert not seed_entries(session_file(cli))
    assert mode(seed_file(cli)) == 0o600


# --- item 8: files chorus writes for itself --------------------------------------------


def test_sec12_db_backup_is_readable_by_the_user_alone(tmp_path):
    from tests.test_hardening import run

    old = os.umask(0o022)
    try:
        made = run(tmp_path, "db", "backup", str(tmp_path / "backup.db"))
    finally:
        os.umask(old)
    assert made.exit_code == 0, made.stderr
    assert mode(tmp_path / "backup.db") == 0o600


def test_sec12_db_backup_never_follows_a_link_at_its_path(tmp_path):
    from tests.test_hardening import run

    elsewhere = tmp_path / "elsewhere.db"
    (tmp_path / "backup.db").symlink_to(elsewhere)  # dangling: exists() says False
    refused = run(tmp_path, "db", "backup", str(tmp_path / "backup.db"))
    assert refused.exit_code == 2
    assert "SEC-12" in refused.stderr and "interne" not in refused.stderr
    assert not elsewhere.exists()
    assert (tmp_path / "backup.db").is_symlink()


@pytest.fixture
def sqlite_cli(tmp_path, sqlite_template, clock):
    """The ``cli`` of a SQLite store alone (a SIRENE import's lock file is SQLite's:
    PostgreSQL takes an advisory lock)."""
    import shutil

    from chorus_cli.store import engine as engine_module
    from tests.conftest import Runner
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries = {}
    shutil.copy(sqlite_template, tmp_path / "chorus.db")
    (tmp_path / "home").mkdir()
    yield Runner(f"sqlite:///{tmp_path / 'chorus.db'}", tmp_path / "home", clock)
    engine_module.dispose_all()


def test_sec12_sirene_import_never_truncates_what_its_lock_file_links_to(sqlite_cli, tmp_path):
    from tests.conftest import load_sample

    cli = sqlite_cli

    store = cli.url.removeprefix("sqlite:///")
    victim = tmp_path / "precious.txt"
    victim.write_text("do not truncate", encoding="utf-8")
    os.symlink(victim, f"{store}.sirene-import.lock")
    with pytest.raises(AssertionError, match="SEC-12"):
        load_sample(cli)
    assert victim.read_text(encoding="utf-8") == "do not truncate"
    os.unlink(f"{store}.sirene-import.lock")
    load_sample(cli)
    assert mode(f"{store}.sirene-import.lock") == 0o600


# --- item 11 (SEC-10): PostgreSQL never waits without end ------------------------------


@pytest.fixture
def silent_host():
    """A port that accepts TCP connections (the kernel completes them) and never says a
    word: a PostgreSQL host that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"postgresql://chorus@127.0.0.1:{listener.getsockname()[1]}/chorus"
    listener.close()


def chorus(tmp_path, *args: str, url: str | None = None, **extra: str):
    """The real command line, in its own process (a hang is caught by the timeout)."""
    env = {
        **os.environ,
        "CHORUS_DATA_DIR": str(tmp_path / "data"),
        "CHORUS_DATABASE_URL": url or f"sqlite:///{tmp_path / 'store.db'}",
        "PYTHON_KEYRING_BACKEND": "tests.memory_keyring.MemoryKeyring",
        "CHORUS_LANG": "fr",
        **extra,
    }
    env.pop("CHORUS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "chorus_cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_sec10_a_postgresql_host_that_never_answers_is_one_sentence(tmp_path, silent_host):
    url = silent_host + "?connect_timeout=1"
    done = chorus(tmp_path, "mail", "list", url=url)
    assert done.returncode == 2
    from chorus_cli.store.keychain import store_id

    said = message("sec10.connect_timeout", lang="fr", url=store_id(url), seconds=1)
    assert done.stderr.strip() == said


def test_sec10_db_copy_to_a_host_that_never_answers_names_the_target(tmp_path, silent_host):
    assert chorus(tmp_path, "mail", "list").returncode == 0  # the source: a SQLite store
    target = silent_host + "?connect_timeout=1"
    done = chorus(tmp_path, "db", "copy", "--to", target)
    assert done.returncode == 2
    from chorus_cli.store.keychain import store_id

    said = message("sec10.connect_timeout", lang="fr", url=store_id(target), seconds=1)
    assert done.stderr.strip() == said


@pytest.fixture
def pg_url(pg_base):
    """A migrated, empty store on the test cluster (PostgreSQL alone)."""
    import uuid

    from sqlalchemy import text

    from chorus_cli.store import engine as engine_module

    base, admin = pg_base
    name = "t_" + uuid.uuid4().hex[:12]
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE chorus_template"))
    yield f"{base}/{name}", name
    engine_module.dispose_all()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


def test_sec10_postgresql_sessions_carry_a_lock_timeout_and_an_idle_timeout(pg_url):
    from sqlalchemy import text

    from chorus_cli.store.engine import get_engine

    with get_engine(pg_url[0]).connect() as conn:
        # libpq's own view of the connection: chorus asked for a 10 s connect timeout
        assert "connect_timeout=10" in conn.connection.driver_connection.info.dsn
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "30s"
        idle = conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar()
        assert idle == "10min"


def test_sec10_a_lock_held_past_the_lock_timeout_is_one_sentence(pg_url, tmp_path, clock):
    from sqlalchemy import text

    from chorus_cli.store.engine import get_engine
    from tests.conftest import Runner

    url = pg_url[0] + "?options=-c%20lock_timeout%3D1000"  # 1 s here instead of 30
    (tmp_path / "home").mkdir()
    cli = Runner(url, tmp_path / "home", clock)
    holder = get_engine(pg_url[0]).connect()
    try:
        holder.execute(text("LOCK TABLE account IN ACCESS EXCLUSIVE MODE"))
        refused = cli.create("marie.curie@example.fr")
    finally:
        holder.rollback()
        holder.close()
    assert refused.exit_code == 1
    assert "SEC-10" in refused.stderr and "interne" not in refused.stderr
    assert "rien n'a été enregistré" in refused.stderr  # true: the command had saved nothing
    assert cli.create("marie.curie@example.fr").exit_code == 0  # the lock gone, it works


# --- item 12 (SEC-12, SEC-3): outcomes that neither lie nor crash ------------------------


def test_sec12_an_account_saved_under_an_ascii_terminal_is_said_saved(tmp_path):
    done = chorus(tmp_path, "account", "create", "--email", "electre@example.fr",
                  "--last-name", "Électre", "--first-name", "Zoé",
                  PYTHONIOENCODING="ascii")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "rien n'a" not in done.stderr and "interne" not in done.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "store.db") as db:
        names = db.execute("SELECT last_name FROM account").fetchall()
    assert names == [("Électre",)]


@pytest.fixture
def read_only(pg_url, pg_base):
    """The store's URL for a role that may read every table and write none."""
    from sqlalchemy import create_engine, text

    url, name = pg_url
    base, admin = pg_base
    with admin.connect() as conn:
        conn.execute(text("DO $$ BEGIN CREATE ROLE chorus_ro LOGIN; "
                          "EXCEPTION WHEN duplicate_object THEN NULL; END $$"))  # fmt: skip
    owner = create_engine(url, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(f"GRANT CONNECT ON DATABASE {name} TO chorus_ro"))
        conn.execute(text("GRANT USAGE ON SCHEMA public TO chorus_ro"))
        conn.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO chorus_ro"))
    owner.dispose()
    yield url.replace("://postgres@", "://chorus_ro@")
    with admin.connect() as conn:  # the role owns nothing: its grants go with the database
        conn.execute(text(f"REVOKE CONNECT ON DATABASE {name} FROM chorus_ro"))


def test_sec3_a_read_only_postgresql_role_is_told_the_missing_privilege(
    read_only, pg_url, tmp_path, clock, monkeypatch
):
    from tests.conftest import Runner

    monkeypatch.delenv("CHORUS_DEBUG")
    (tmp_path / "home").mkdir()
    owner = Runner(pg_url[0], tmp_path / "home", clock)
    owner.active_account()
    cli = Runner(read_only, tmp_path / "home", clock)
    for args, input in (
        (("account", "create", "--email", "m2@example.fr", "--last-name", "C",
          "--first-name", "M"), None),
        (("login", EMAIL, "--password-stdin"), PASSWORD + "\n"),
        (("db", "upgrade"), None),
    ):  # fmt: skip
        refused = cli(*args, input=input)
        assert refused.exit_code == 4, (args, refused.stderr)
        assert "SEC-3" in refused.stderr and "permission denied" in refused.stderr
        assert "interne" not in refused.stderr
        assert refused.stdout == ""  # db upgrade never says "up to date" first


def test_sec3_an_audit_date_beyond_year_9999_is_bad_input(cli):
    cli.logged_in()
    refused = cli("audit", "list", "--since", "9999-12-31T23:59:59-14:00")
    assert refused.exit_code == 2
    said = message("sec3.date_out_of_range", lang="fr", value="9999-12-31T23:59:59-14:00")
    assert refused.stderr.strip() == said


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/store.db?timeout=abc",
        "postgresql://chorus@127.0.0.1:1/chorus?timeout=abc",
        "postgresql://chorus@127.0.0.1:1/chorus?connect_timeout=abc",
    ],
    ids=["sqlite-timeout", "postgresql-unknown", "postgresql-connect-timeout"],
)
def test_sec3_a_bad_store_url_parameter_is_bad_input(tmp_path, monkeypatch, url):
    from tests.test_hardening import run

    monkeypatch.delenv("CHORUS_DEBUG")
    refused = run(tmp_path, "mail", "list", url=url.format(tmp=tmp_path))
    assert refused.exit_code == 2, refused.stderr
    assert "SEC-3" in refused.stderr and "interne" not in refused.stderr
    assert "timeout" in refused.stderr


@pytest.mark.parametrize("value", ["0", "-1", "00"])
def test_sec10_a_connect_timeout_of_zero_or_less_is_refused(tmp_path, monkeypatch, value):
    from tests.test_hardening import run

    monkeypatch.delenv("CHORUS_DEBUG")
    url = f"postgresql://chorus@127.0.0.1:1/chorus?connect_timeout={value}"
    refused = run(tmp_path, "mail", "list", url=url)
    assert refused.exit_code == 2, refused.stderr
    assert "SEC-10" in refused.stderr and f"connect_timeout={value}" in refused.stderr
    assert "interne" not in refused.stderr


# --- item 13: db copy names the store whose driver is missing ----------------------------


def test_sec3_db_copy_to_a_store_without_its_driver_names_the_target(tmp_path, monkeypatch):
    from tests.test_hardening import run

    monkeypatch.delenv("CHORUS_DEBUG")
    assert run(tmp_path, "mail", "list").exit_code == 0
    refused = run(tmp_path, "db", "copy", "--to", "mysql://chorus@localhost/chorus")
    assert refused.exit_code == 2
    said = message("sec3.driver_missing", lang="fr", url="mysql://chorus@localhost/chorus",
                   module="MySQLdb")  # fmt: skip
    assert refused.stderr.strip() == said
