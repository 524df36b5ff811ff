"""SEC-2, SEC-3, SEC-6, SEC-7 (issue 11): the store's files are the user's alone, a
mistyped --db is refused rather than created, no bad input ends as an internal error,
passwords in a store URL are never shown."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from chorus_cli.inprocess import invoke
from chorus_cli.kernel.clock import FrozenClock
from chorus_cli.store import engine as engine_module


def run(tmp_path, *args: str, url: str | None = None, input: str | None = None):
    env = {
        "CHORUS_DATA_DIR": str(tmp_path / "data"),
        "CHORUS_DATABASE_URL": url or f"sqlite:///{tmp_path / 'store.db'}",
        "PYTHON_KEYRING_BACKEND": "tests.memory_keyring.MemoryKeyring",
    }
    try:
        return invoke(list(args), env=env, clock=FrozenClock(), input=input)
    finally:
        engine_module.dispose_all()


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sec6_a_mistyped_db_directory_is_refused_not_created(tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    result = run(tmp_path, "mail", "list", url=f"sqlite:///{missing / 'x.db'}")
    assert result.exit_code == 2
    assert "SEC-6" in result.stderr and str(missing) in result.stderr
    assert not (tmp_path / "no").exists()


def test_sec2_a_new_store_and_its_wal_and_shm_are_readable_by_the_user_alone(tmp_path):
    os.umask(0o022)  # the usual umask: files would be 0644
    made = run(tmp_path, "account", "create", "--email", "m@example.fr", "--last-name", "C",
               "--first-name", "M")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    store = tmp_path / "store.db"
    assert mode(store) == 0o600
    # Keep a connection open so SQLite's -wal and -shm files exist, then look at them.
    import sqlite3

    conn = sqlite3.connect(store)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("SELECT count(*) FROM account").fetchone()
    try:
        for suffix in ("-wal", "-shm"):
            side = store.with_name(store.name + suffix)
            assert side.exists() and mode(side) == 0o600, suffix
    finally:
        conn.close()


def test_sec2_a_store_others_can_read_is_named_with_the_fix(tmp_path):
    assert run(tmp_path, "mail", "list").exit_code == 0
    store = tmp_path / "store.db"
    store.chmod(0o644)
    engine_module._warned.clear()
    result = run(tmp_path, "mail", "list")
    assert result.exit_code == 0
    assert "SEC-2" in result.stderr and f"chmod 600 {store}" in result.stderr


def test_sec2_a_store_of_the_user_alone_gets_no_warning(tmp_path):
    assert run(tmp_path, "mail", "list").exit_code == 0
    engine_module._warned.clear()
    assert "SEC-2" not in run(tmp_path, "mail", "list").stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://chorus:S3cret-pw@127.0.0.1:1/chorus",
        "postgresql://chorus@127.0.0.1:1/chorus?password=S3cret-pw",
        "postgresql://chorus@127.0.0.1:1/chorus?sslmode=disable&password=S3cret-pw",
    ],
)
def test_sec3_a_password_in_the_store_url_is_never_shown(tmp_path, url):
    result = run(tmp_path, "whoami", url=url)
    assert result.exit_code == 2
    assert "S3cret-pw" not in result.stderr + result.stdout
    assert "127.0.0.1" in result.stderr  # the store is still named
    from chorus_cli.store.keychain import store_id

    assert "S3cret-pw" not in store_id(url)  # nor in the keyring entry's name


def test_sec3_a_store_whose_driver_is_missing_names_the_module(tmp_path, monkeypatch):
    monkeypatch.delenv("CHORUS_DEBUG", raising=False)
    result = run(tmp_path, "whoami", url="mysql://chorus@localhost/chorus")
    assert result.exit_code == 2
    assert "SEC-3" in result.stderr and "MySQLdb" in result.stderr
    assert "interne" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("mail", "list", "--offset", "99999999999999999999"),
        ("mail", "show", "99999999999999999999"),
    ],
)
def test_sec3_an_overflowing_number_is_bad_input_not_an_internal_error(tmp_path, monkeypatch, args):
    monkeypatch.delenv("CHORUS_DEBUG", raising=False)
    result = run(tmp_path, *args)
    assert result.exit_code == 2, result.stderr
    assert "SEC-3" in result.stderr and "interne" not in result.stderr


# --- SEC-7, AUTH-2, ACC-1, ACC-5: what a script pipes in ----------------------------------

MARIE = "marie.curie@example.fr"


def failures(cli) -> int:
    from sqlmodel import col, select

    from chorus_cli.store.models import Account
    from tests.test_structures import store_session

    with store_session(cli) as s:
        return s.exec(select(Account.failed_logins).where(col(Account.login_email) == MARIE)).one()


def test_sec7_login_code_with_no_attempt_pending_reads_no_password(cli, unchanged):
    cli.active_account(MARIE)
    for _ in range(6):  # more than the lockout's five
        with unchanged():
            refused = cli("login", MARIE, "--code", "123456", input="\n")
        assert refused.exit_code == 6
        assert "SEC-7" in refused.stderr
    assert cli.login(MARIE).exit_code == 0  # not locked


def test_sec7_a_used_attempt_then_a_bare_code_is_exit_6(cli):
    cli.active_account(MARIE)
    assert cli.login(MARIE).exit_code == 0
    again = cli("login", MARIE, "--code", "123456", input="\n")
    assert again.exit_code == 6 and "SEC-7" in again.stderr


def test_sec7_an_empty_password_is_bad_input_never_a_failure(cli):
    cli.active_account(MARIE)
    for _ in range(6):
        refused = cli("login", MARIE, "--password-stdin", input="\n")
        assert refused.exit_code == 2
        assert "SEC-7" in refused.stderr
    assert failures(cli) == 0
    assert cli.login(MARIE).exit_code == 0


def test_acc5_a_password_with_a_nul_byte_is_refused(cli, unchanged):
    cli.create(MARIE)
    link = cli.last_link(MARIE)
    with unchanged():
        refused = cli("account", "activate", link, "--password-stdin",
                      input="Vr4i-Mot2\x00Passe!\n")  # fmt: skip
    assert refused.exit_code == 2
    assert "caractère de contrôle" in refused.stderr


def test_acc1_a_local_part_over_64_bytes_is_refused(cli, unchanged):
    with unchanged():
        refused = cli.create("a" * 65 + "@example.fr")
    assert refused.exit_code == 2
    assert "64 octets" in refused.stderr
    assert cli.create("a" * 64 + "@example.fr").exit_code == 0


# --- SEC-6: a SIRENE file with no rows does not wipe the index ---------------------------


def test_sec6_a_header_only_sirene_file_leaves_the_index_as_it_was(cli, tmp_path):
    from chorus_cli.sirene import sample_files
    from tests.conftest import SAMPLE_SIRETS, SIRENE_OPERATOR, load_sample

    load_sample(cli)
    establishments, _units = sample_files()
    header = establishments.read_text(encoding="utf-8").splitlines()[0]
    empty = tmp_path / "StockEtablissement_vide.csv"
    empty.write_text(header + "\n", encoding="utf-8")
    assert cli.login(SIRENE_OPERATOR).exit_code == 0
    refused = cli("sirene", "import", str(empty))
    assert refused.exit_code == 2
    assert "SEC-6" in refused.stderr and "--allow-empty" in refused.stderr
    found = cli("sirene", "lookup", SAMPLE_SIRETS["bakery"], "--json")
    assert found.exit_code == 0 and found.json()["siret"] == SAMPLE_SIRETS["bakery"]
    emptied = cli("sirene", "import", str(empty), "--allow-empty", "--json")
    assert emptied.exit_code == 0, emptied.stderr
    assert emptied.json()["establishments"] == 0
    assert cli("sirene", "lookup", SAMPLE_SIRETS["bakery"]).exit_code != 0


# --- the session file under concurrency (AUTH-3, issue 11 item 5) -----------------------


def _write_many(path: str, worker: int, count: int) -> None:
    from pathlib import Path

    from chorus_cli.store.keychain import FileKeyring

    ring = FileKeyring(Path(path))
    for i in range(count):
        ring.set_password("chorus-cli", f"session:store-{worker}-{i}", f"token-{worker}-{i}")


def test_auth3_eight_processes_writing_the_session_file_lose_no_entry(tmp_path):
    import multiprocessing

    path = tmp_path / "session-keyring.json"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(str(path), n, 20)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    import json

    entries = json.loads(path.read_text(encoding="utf-8"))
    assert len(entries) == 8 * 20
    assert mode(path) == 0o600
    assert not list(tmp_path.glob("*.tmp"))


# --- SEC-1: terminal escapes from other users ------------------------------------------

ESCAPES = "Siège\x1b[2J\x1b]52;c;Y2F0\x1b\\ \u202eevil\u200b"
RAW = ("\x1b", "\u202e", "\u200b")


def test_sec1_control_characters_are_refused_in_labels_comments_and_names(cli, unchanged):
    from tests.test_attachments import MARIE, PIERRE, cast, open_bakery

    world = open_bakery(cast(cli))
    for who, args in (
        (MARIE, ("structure", "update", RIDET_ID, "--label", "Siège\x1b[2J")),
        (MARIE, ("structure", "service", "add", RIDET_ID, "--code", "X", "--label", "a\u202eb")),
        (PIERRE, ("attach", "request", "--structure", RIDET_ID, "--comment", "hi\x1b]0;x\x07")),
        (MARIE, ("mfa", "totp", "add", "--name", "Pixel\u200b", "--json")),
    ):
        with unchanged():
            refused = world(who, *args, input="Vr4i-Mot2Passe!\n")
        assert refused.exit_code == 2, (args, refused.stderr)
        assert "SEC-1" in refused.stderr
        assert not any(c in refused.stderr for c in RAW)


RIDET_ID = "1234567001"


def test_sec1_stored_escapes_never_reach_the_terminal_raw(cli):
    from sqlalchemy import text

    from tests.test_attachments import MARIE, cast, open_bakery
    from tests.test_structures import store_session

    world = open_bakery(cast(cli))
    with store_session(cli) as s:  # a row written before SEC-1, or by another tool
        s.exec(text("UPDATE structure SET label = :label WHERE identifier = :id"),
               params={"label": ESCAPES, "id": RIDET_ID})  # fmt: skip
        s.commit()
    for fmt in ("table", "json", "csv"):
        shown = world(MARIE, "structure", "show", RIDET_ID, "--format", fmt)
        assert shown.exit_code == 0, shown.stderr
        assert not any(c in shown.stdout for c in RAW), fmt
        assert "Siège" in shown.stdout
    data = world(MARIE, "structure", "show", RIDET_ID, "--json").json()
    assert data["label"] == ESCAPES  # JSON escapes are the same data for a parser
    listed = world(MARIE, "structure", "list", "--format", "csv")
    assert not any(c in listed.stdout for c in RAW)


def test_sec1_rich_markup_in_stored_text_is_shown_as_text(cli):
    from sqlalchemy import text

    from tests.test_attachments import MARIE, cast, open_bakery
    from tests.test_structures import store_session

    world = open_bakery(cast(cli))
    with store_session(cli) as s:
        s.exec(text("UPDATE service SET label = :label WHERE code = 'RH'"),
               params={"label": "[bold red]Ressources[/]"})  # fmt: skip
        s.commit()
    shown = world(MARIE, "structure", "service", "list", RIDET_ID)
    flat = "".join(shown.stdout.split())  # the cell may fold at 80 columns
    assert "RH[bold" in flat and "red]Ressources[/]" in flat


def test_sec3_the_fail_keyring_backend_falls_back_to_the_0600_file(tmp_path):
    import subprocess

    from tests.test_auth import CHORUS, subprocess_env

    data = tmp_path / "data"
    env = subprocess_env(tmp_path, CHORUS_DATA_DIR=str(data),
                         PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")  # fmt: skip
    made = subprocess.run([str(CHORUS), "account", "create", "--email", "k@example.fr",
                           "--last-name", "K", "--first-name", "K"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert made.returncode == 0, made.stderr
    who = subprocess.run([str(CHORUS), "whoami"], env=env, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert who.returncode == 5  # not logged in: said, not an internal error
    assert "NoKeyringError" not in who.stderr and "interne" not in who.stderr


# --- SEC-1: look-alike addresses (issue 11 item 3) -----------------------------------------


@pytest.mark.parametrize(
    "address",
    ["\u0430dmin@example.fr", "marie@ex\u0430mple.fr", "p\u0430ypal.support@example.fr"],
    ids=["cyrillic-a-in-local-part", "cyrillic-a-in-domain", "cyrillic-a-mid-word"],
)
def test_sec1_a_mixed_script_address_is_refused(cli, unchanged, address):
    with unchanged():
        refused = cli.create(address)
    assert refused.exit_code == 2
    assert "SEC-1" in refused.stderr and "CYRILLIC" in refused.stderr


def test_sec1_an_address_in_one_script_is_welcome(cli):
    for address in ("\u0430\u0434\u043c\u0438\u043d@example.fr", "h\u00e9l\u00e8ne@example.fr"):
        made = cli.create(address)
        assert made.exit_code == 0, made.stderr


def test_sec1_a_flow_refuses_a_look_alike_address_by_its_line(cli, tmp_path, unchanged):
    from tests.test_bulk import COMMUNE, CORINNE, imported, public_world, write

    world = public_world(cli, tmp_path)
    rows = [
        ("Durand", "Élise", "elise.durand@mairie-valdebriane.fr", "", COMMUNE),
        ("Faux", "Agent", "\u0430gent@mairie-valdebriane.fr", "", COMMUNE),  # line 3
    ]
    path = write(tmp_path, "agents.csv", rows, encoding="utf-8")
    with unchanged():
        result = imported(world, CORINNE, path)
    assert result.exit_code == 2
    assert [(e["line"], e["rule"]) for e in result.json()["errors"]] == [(3, "SEC-1")]


# --- SEC-3: bytes that are not UTF-8 (issue 11 item 6) -------------------------------------


def test_sec3_an_argument_that_is_not_utf8_is_named_and_nothing_runs(cli, unchanged):
    with unchanged():
        refused = cli("account", "create", "--email", "a\udcff@example.fr", "--last-name",
                      "C", "--first-name", "M")  # fmt: skip
    assert refused.exit_code == 2
    assert "SEC-3" in refused.stderr and "a\\xff@example.fr" in refused.stderr
    assert "interne" not in refused.stderr


def test_sec3_an_argument_that_is_not_utf8_in_english(cli):
    refused = cli("structure", "update", "1234567001", "--label", "\udcffX", "--lang", "en")
    assert refused.exit_code == 2
    assert "is not valid UTF-8" in refused.stderr


def test_sec3_a_password_that_is_not_utf8_is_bad_input_never_counted(cli):
    cli.active_account(MARIE)
    for _ in range(6):  # more than the lockout's five
        refused = cli("login", MARIE, "--password-stdin", input="Vr4i\udcff\n")
        assert refused.exit_code == 2
        assert "SEC-3" in refused.stderr and "interne" not in refused.stderr
    assert failures(cli) == 0
    assert cli.login(MARIE).exit_code == 0


def test_sec3_real_argv_bytes_that_are_not_utf8_reach_the_same_sentence(tmp_path):
    import subprocess
    import sys

    env = {
        **os.environ,
        "CHORUS_DATA_DIR": str(tmp_path / "data"),
        "CHORUS_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "CHORUS_LANG": "fr",
    }
    done = subprocess.run(
        [sys.executable, "-m", "chorus_cli", "login", b"a\xff@ex.fr"],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert b"SEC-3" in done.stderr and b"a\\xff@ex.fr" in done.stderr
    assert not (tmp_path / "store.db").exists()


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_sec3_a_reader_that_closes_the_pipe_ends_chorus_quietly(tmp_path, fmt):
    """``chorus … | head -1``: the reader is gone before chorus writes (its read end is
    closed at once), so every write meets EPIPE; chorus exits 0 and says nothing."""
    import subprocess
    import sys

    env = {
        **os.environ,
        "CHORUS_DATA_DIR": str(tmp_path / "data"),
        "CHORUS_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "PYTHON_KEYRING_BACKEND": "tests.memory_keyring.MemoryKeyring",
    }
    made = subprocess.run(
        [sys.executable, "-m", "chorus_cli", "account", "create", "--email", "m@example.fr",
         "--last-name", "C", "--first-name", "M"],
        env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "chorus_cli", "mail", "list", "--format", fmt],
            env=env, stdout=write, stderr=subprocess.PIPE, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode == 0
    assert done.stderr == b""


def test_sec3_a_store_link_to_nothing_is_refused_and_nothing_is_created(tmp_path):
    victim = tmp_path / "x" / "victim.db"
    link = tmp_path / "link.db"
    link.symlink_to(victim)
    result = run(tmp_path, "mail", "list", url=f"sqlite:///{link}")
    assert result.exit_code == 2, result.stderr
    assert "SEC-3" in result.stderr and str(victim) in result.stderr
    assert "interne" not in result.stderr
    (tmp_path / "x").mkdir()
    assert run(tmp_path, "mail", "list", url=f"sqlite:///{link}").exit_code == 2
    assert not victim.exists()


def test_sec3_a_store_link_to_a_store_is_followed(tmp_path):
    """A guard (it passes before SEC-3's link check too): refusing links to nothing must
    not refuse a link to a real store, and the store read is the one linked to."""
    assert run(tmp_path, "mail", "list").exit_code == 0
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "store.db")
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute(
            'INSERT INTO mail ("to", sender, subject, body, body_redacted, kind, created_at,'
            " status, attempts) VALUES ('marie@example.fr', 'chorus@example.fr', 'Bonjour',"
            " 'b', 'b', 'test', '2026-01-01 00:00:00', 'pending', 0)"
        )
    db.close()
    result = run(tmp_path, "mail", "list", "--json", url=f"sqlite:///{link}")
    assert result.exit_code == 0, result.stderr
    # The store the link names is the one read, and the link stays a link.
    assert [m["to"] for m in json.loads(result.stdout)] == ["marie@example.fr"]
    assert link.is_symlink()


def test_sec2_an_empty_file_made_a_store_is_the_users_alone(tmp_path):
    os.umask(0o022)
    empty = tmp_path / "c.db"
    empty.touch()
    assert mode(empty) == 0o644
    engine_module._warned.clear()
    result = run(tmp_path, "mail", "list", url=f"sqlite:///{empty}")
    assert result.exit_code == 0, result.stderr
    assert mode(empty) == 0o600 and empty.read_bytes().startswith(b"SQLite format 3\x00")
