"""AUTH-1..5: log-in with a second factor, lockout, sessions, refused accounts, hints.

Each test runs on SQLite and on PostgreSQL (the ``cli`` fixture). The headless-keyring
test runs the real ``chorus`` executable; the races fork processes that each run the
console script's entry point at the same moment.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from chorus_cli.i18n import message
from chorus_cli.kernel.clock import FrozenClock
from chorus_cli.store import engine as engine_module
from chorus_cli.store import keychain
from chorus_cli.store.keychain import SERVICE, store_id
from tests.conftest import PASSWORD, Runner, snapshot
from tests.memory_keyring import MemoryKeyring
from tests.processes import concurrently

EMAIL = "marie.curie@example.fr"
CHORUS = Path(sys.executable).with_name("chorus")
REFUSED = message("auth2.refused", lang="fr")


# --- helpers ------------------------------------------------------------------------


def rows(cli, sql: str, **params) -> list[dict]:
    """Read (or write) the store directly, as an operator with the database would."""
    from sqlalchemy import text

    with engine_module.get_engine(cli.url).begin() as conn:
        result = conn.execute(text(sql), params)
        return [dict(r._mapping) for r in result] if result.returns_rows else []


def account_row(cli, email: str = EMAIL) -> dict:
    return rows(cli, "SELECT * FROM account WHERE login_email = :e", e=email)[0]


def session_entry(cli) -> str | None:
    return MemoryKeyring.entries.get((SERVICE, f"session:{store_id(cli.url)}"))


def code_mails(cli, to: str) -> list[dict]:
    return [m for m in cli.mails(to) if "code d'authentification" in m["subject"]]


def start(cli, email: str = EMAIL, password: str = PASSWORD, *args: str):
    """First half of a login: the password; the code is mailed."""
    return cli("login", email, "--password-stdin", *args, input=password + "\n")


def finish(cli, email: str = EMAIL, code: str | None = None):
    """Second half: the code from the outbox, or the one given."""
    return cli("login", email, "--code", code or cli.last_code(email))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def fail_password(cli, times: int, email: str = EMAIL) -> None:
    for _ in range(times):
        result = start(cli, email, "Pas-le-bon-mot2passe!")
        assert result.exit_code == 5, result.stderr
        assert REFUSED in result.stderr


def subprocess_env(home: Path, **extra: str) -> dict[str, str]:
    """The real executable's environment: no test keyring, no D-Bus, a private home."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHORUS_", "XDG_"))
        and k not in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS")
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "xdg-data"),
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        XDG_CACHE_HOME=str(home / "xdg-cache"),
        XDG_RUNTIME_DIR=str(home / "xdg-run"),
        CHORUS_LANG="fr",
        **extra,
    )
    return env


def run(env: dict[str, str], *args: str, input: str | None = None):
    return subprocess.run(
        [str(CHORUS), *args], input=input, env=env, capture_output=True, text=True, timeout=60
    )


def stored_token(env: dict[str, str], url: str) -> str | None:
    """The session token as a fresh process finds it, whatever the fallback's file format."""
    script = (
        "import sys; from chorus_cli.store import keychain; "
        "print(keychain.get('session', sys.argv[1]) or '')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, url], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the one-time warning is not shown again
    return result.stdout.strip() or None


@pytest.fixture
def fixed_code(monkeypatch):
    """The mailed code is known in advance, so a test can pipe it with the password."""
    from chorus_cli.domain.factors import email_code

    monkeypatch.setattr(email_code, "new_code", lambda digits=6: "424242")
    return "424242"


# --- AUTH-1: a second factor at every login -----------------------------------------


def test_auth1_code_mailed_to_login_address_not_contact_at_every_login(cli):
    created = cli(
        "account",
        "create",
        "--email",
        EMAIL,
        "--last-name",
        "Curie",
        "--first-name",
        "Marie",
        "--contact-email",
        "bureau@example.fr",
    )
    assert created.exit_code == 0, created.stderr
    activated = cli(
        "account", "activate", cli.last_link(EMAIL), "--password-stdin", input=PASSWORD + "\n"
    )
    assert activated.exit_code == 0, activated.stderr

    first = start(cli)
    assert first.exit_code == 0, first.stderr
    assert EMAIL in first.stderr and "10 minutes" in first.stderr
    assert session_entry(cli) is None  # the password alone opens nothing
    assert re.fullmatch(r"\d{6}", cli.last_code(EMAIL))
    assert finish(cli).exit_code == 0
    assert cli("logout").exit_code == 0
    assert cli.login(EMAIL).exit_code == 0

    assert len(code_mails(cli, EMAIL)) == 2
    assert code_mails(cli, "bureau@example.fr") == []


def test_auth1_code_valid_10_minutes(cli, clock):
    cli.active_account()
    assert start(cli).exit_code == 0
    clock.advance(minutes=10)
    late = finish(cli)
    assert late.exit_code == 6
    assert "AUTH-1" in late.stderr and "expiré" in late.stderr
    assert session_entry(cli) is None

    assert start(cli).exit_code == 0
    clock.advance(minutes=9, seconds=59)
    assert finish(cli).exit_code == 0
    assert session_entry(cli)


def test_auth1_code_is_single_use(cli):
    cli.active_account()
    assert start(cli).exit_code == 0
    code = cli.last_code(EMAIL)
    attempt_key = (SERVICE, f"attempt:{store_id(cli.url)}")
    attempt = MemoryKeyring.entries[attempt_key]
    assert finish(cli, code=code).exit_code == 0
    assert attempt_key not in MemoryKeyring.entries  # the client forgets the attempt

    # Replaying the same attempt and code (a copied keyring, a second process) is refused.
    MemoryKeyring.entries[attempt_key] = attempt
    again = finish(cli, code=code)
    assert again.exit_code == 6
    assert "AUTH-1" in again.stderr and "déjà servi" in again.stderr
    assert len(rows(cli, "SELECT id FROM auth_session")) == 1


def test_auth1_five_wrong_tries_kill_the_code(cli):
    cli.active_account()
    assert start(cli).exit_code == 0
    code = cli.last_code(EMAIL)
    for left in (4, 3, 2, 1, 0):
        result = finish(cli, code=wrong(code))
        assert result.exit_code == 5
        assert f"AUTH-1) : {left} essai{'s' if left > 1 else ''}" in result.stderr
    dead = finish(cli, code=code)
    assert dead.exit_code == 6
    assert "AUTH-1" in dead.stderr and "Trop d'essais" in dead.stderr
    assert session_entry(cli) is None


def test_auth1_password_and_code_piped_log_in_in_one_call(cli, fixed_code):
    cli.active_account()
    result = cli("login", EMAIL, input=f"{PASSWORD}\n{fixed_code}\n")
    assert result.exit_code == 0, result.stderr
    assert f"Connecté en tant que {EMAIL}" in result.stderr
    assert cli.last_code(EMAIL) == fixed_code
    assert session_entry(cli)
    assert cli("whoami", "--json").json()["login_email"] == EMAIL


def test_auth1_piped_wrong_code_fails_at_once(cli, fixed_code):
    cli.active_account()
    result = cli("login", EMAIL, input=f"{PASSWORD}\n{wrong(fixed_code)}\n{fixed_code}\n")
    assert result.exit_code == 5
    assert "AUTH-1" in result.stderr
    assert session_entry(cli) is None


def test_auth1_method_email_accepted(cli):
    cli.active_account()
    assert start(cli, EMAIL, PASSWORD, "--method", "email").exit_code == 0
    assert len(code_mails(cli, EMAIL)) == 1
    assert finish(cli).exit_code == 0


def test_auth1_method_totp_refused_without_an_app(cli, unchanged):
    cli.active_account()
    with unchanged():
        result = start(cli, EMAIL, PASSWORD, "--method", "totp")
    assert result.exit_code == 1
    assert "AUTH-1" in result.stderr and "--method email" in result.stderr
    assert code_mails(cli, EMAIL) == []


def test_auth1_unknown_method_is_bad_input(cli, unchanged):
    cli.active_account()
    with unchanged():
        result = start(cli, EMAIL, PASSWORD, "--method", "sms")
    assert result.exit_code == 2
    assert "AUTH-1" in result.stderr and "sms" in result.stderr


def test_auth1_login_in_two_steps_with_json_for_scripts(cli, clock):
    cli.active_account()
    first = cli("login", EMAIL, "--password-stdin", "--json", input=PASSWORD + "\n")
    assert first.exit_code == 0, first.stderr
    pending = first.json()
    assert pending["status"] == "code_sent"
    assert (pending["login_email"], pending["method"]) == (EMAIL, "email")
    expires = datetime.fromisoformat(pending["expires_at"].replace("Z", "+00:00"))
    assert expires == clock.now() + timedelta(minutes=10)
    done = cli("login", EMAIL, "--code", cli.last_code(EMAIL), "--json")
    assert done.exit_code == 0
    assert (done.json()["status"], done.json()["login_email"]) == ("logged_in", EMAIL)

    refused = cli("login", EMAIL, "--password-stdin", "--json", input="Pas-le-bon-1!\n")
    assert refused.exit_code == 5
    assert refused.stdout == ""
    error = json.loads(refused.stderr)["error"]
    assert (error["code"], error["message"]) == (5, REFUSED)


def test_auth1_new_code_does_not_reset_failure_count(cli):
    cli.active_account()
    assert start(cli).exit_code == 0
    for _ in range(3):
        assert finish(cli, code=wrong(cli.last_code(EMAIL))).exit_code == 5
    assert start(cli).exit_code == 0  # a fresh code, 5 fresh tries, but the same count
    code = cli.last_code(EMAIL)
    for _ in range(2):
        assert finish(cli, code=wrong(code)).exit_code == 5
    locked = finish(cli, code=code)
    assert locked.exit_code == 5
    assert REFUSED in locked.stderr
    assert session_entry(cli) is None


# --- AUTH-2: generic refusal and lockout --------------------------------------------


def test_auth2_wrong_password_and_unknown_address_say_the_same(cli, unchanged):
    cli.active_account()
    wrong_password = start(cli, EMAIL, "Pas-le-bon-mot2passe!")
    with unchanged():
        unknown = start(cli, "personne@example.fr", PASSWORD)
    assert wrong_password.exit_code == unknown.exit_code == 5
    assert wrong_password.stderr == unknown.stderr == REFUSED + "\n"
    assert "AUTH-2" in REFUSED
    assert code_mails(cli, EMAIL) == []


def test_auth2_five_failures_lock_for_15_minutes(cli, clock, unchanged):
    cli.active_account()
    fail_password(cli, 4)
    assert account_row(cli)["locked_until"] is None
    fail_password(cli, 1)
    assert account_row(cli)["locked_until"] is not None
    assert cli("mail", "list").exit_code == 0
    with unchanged():
        right = start(cli)
    assert right.exit_code == 5
    assert right.stderr == REFUSED + "\n"  # the right password cannot be told apart
    assert code_mails(cli, EMAIL) == []

    clock.advance(minutes=14, seconds=59)
    assert start(cli).exit_code == 5
    clock.advance(seconds=1)
    assert cli.login(EMAIL).exit_code == 0


def test_auth2_attempts_while_locked_do_not_extend_the_lock(cli, clock, unchanged):
    cli.active_account()
    fail_password(cli, 5)
    clock.advance(minutes=10)
    with unchanged():  # neither the count nor the lock moves
        fail_password(cli, 5)
        assert start(cli).exit_code == 5
    clock.advance(minutes=5)
    assert cli.login(EMAIL).exit_code == 0


def test_auth2_one_success_resets_the_count(cli):
    cli.active_account()
    fail_password(cli, 4)
    assert cli.login(EMAIL).exit_code == 0
    assert account_row(cli)["failed_logins"] == 0
    fail_password(cli, 4)
    assert cli.login(EMAIL).exit_code == 0


def test_auth2_login_in_other_case_counts_against_the_same_account(cli):
    cli.active_account()
    fail_password(cli, 5, "Marie.CURIE@Example.FR")
    assert account_row(cli)["locked_until"] is not None
    assert start(cli).exit_code == 5


def test_auth2_login_in_other_case_logs_in(cli):
    cli.active_account()
    assert cli.login("MARIE.Curie@example.FR").exit_code == 0
    assert cli("whoami", "--json").json()["login_email"] == EMAIL


def test_auth2_wrong_codes_count_toward_the_lockout(cli):
    cli.active_account()
    fail_password(cli, 3)
    assert start(cli).exit_code == 0
    code = cli.last_code(EMAIL)
    assert finish(cli, code=wrong(code)).exit_code == 5
    assert account_row(cli)["locked_until"] is None
    assert finish(cli, code=wrong(code)).exit_code == 5
    assert account_row(cli)["locked_until"] is not None
    assert finish(cli, code=code).exit_code == 5
    assert start(cli).stderr == REFUSED + "\n"


def test_auth2_unknown_address_costs_one_password_check(cli, monkeypatch):
    """SECURITY.md idea 6: no timing oracle. Every ``chorus`` command is a new process, so
    whatever a process caches must not make an unknown address cost more than a known one."""
    from chorus_cli.domain import secrets

    cli.active_account()
    real = secrets.hasher()
    calls: list[str] = []

    class Counting:
        def __getattr__(self, name):
            attr = getattr(real, name)
            if name not in ("hash", "verify"):
                return attr

            def counted(*args, **kwargs):
                calls.append(name)
                return attr(*args, **kwargs)

            return counted

    def argon2_calls(*args: str) -> list[str]:
        for value in vars(secrets).values():  # forget per-process caches: a new process
            if hasattr(value, "cache_clear"):
                value.cache_clear()
        calls.clear()
        with monkeypatch.context() as patch:
            patch.setattr(secrets, "hasher", Counting)
            assert start(cli, *args).exit_code == 5
        return list(calls)

    assert not secrets.needs_rehash(secrets.DUMMY_HASH)  # same cost as a real hash
    assert argon2_calls("personne@example.fr", PASSWORD) == ["verify"]
    assert argon2_calls(EMAIL, "Pas-le-bon-mot2passe!") == ["verify"]


def test_auth2_concurrent_wrong_passwords_all_count(cli):
    """Guessing in parallel must not lose failures (SECURITY.md: lost updates)."""
    cli.active_account()
    outcomes = concurrently(cli, 5, ["login", EMAIL, "--password-stdin"], "Pas-le-bon-1!\n")
    assert [code for code, _ in outcomes] == [5] * 5
    assert account_row(cli)["locked_until"] is not None
    assert start(cli).exit_code == 5


def bootstrap_admin(cli, admin: str = "ada.admin@example.fr") -> str:
    """The first admin, activated (``admin bootstrap`` needs no session)."""
    names = ("--last-name", "Lovelace", "--first-name", "Ada")
    boot = cli("admin", "bootstrap", "--email", admin, *names)
    assert boot.exit_code == 0, boot.stderr
    link = cli.last_link(admin)
    activated = cli("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    assert activated.exit_code == 0, activated.stderr
    return admin


def logged_in_support(cli, support: str = "sam.support@example.fr") -> str:
    """The admin grants support to a second account, who then logs in."""
    admin = bootstrap_admin(cli)
    cli.active_account(support)
    assert cli.login(admin).exit_code == 0
    granted = cli("admin", "grant-role", support, "support")
    assert granted.exit_code == 0, granted.stderr
    assert cli.login(support).exit_code == 0
    return support


def test_auth2_support_unlocks(cli):
    cli.active_account()
    fail_password(cli, 5)
    support = logged_in_support(cli)
    assert cli("whoami", "--json").json()["roles"] == ["support"]
    unlocked = cli("account", "unlock", EMAIL)
    assert unlocked.exit_code == 0, unlocked.stderr
    assert account_row(cli)["locked_until"] is None
    audit = "SELECT actor FROM audit_entry WHERE action = 'account.unlock' AND target = :t"
    assert rows(cli, audit, t=EMAIL) == [{"actor": support}]
    assert cli.login(EMAIL).exit_code == 0


def test_auth2_support_may_not_unlock_a_platform_role_holder(cli, unchanged):
    # Unlocking again and again would let support guess an admin's password (PUB-1).
    from tests.test_structures import grant_role

    logged_in_support(cli)
    ada = "ada.admin@example.fr"
    fail_password(cli, 5, ada)
    with unchanged():
        refused = cli("account", "unlock", ada)
    assert refused.exit_code == 4, refused.stderr
    assert "AUTH-2" in refused.stderr
    cli.active_account(EMAIL)
    grant_role(cli, EMAIL, "admin")
    assert cli.login(EMAIL).exit_code == 0
    unlocked = cli("account", "unlock", ada)
    assert unlocked.exit_code == 0, unlocked.stderr


def test_auth2_plain_user_cannot_unlock(cli, unchanged):
    cli.active_account()
    fail_password(cli, 5)
    cli.logged_in("paul.durand@example.fr")
    with unchanged():
        refused = cli("account", "unlock", EMAIL)
    assert refused.exit_code == 4
    assert "support" in refused.stderr
    assert start(cli).exit_code == 5


# --- AUTH-3: sessions ---------------------------------------------------------------


def test_auth3_token_in_keyring_and_only_its_hash_in_store(cli):
    cli.logged_in()
    token = session_entry(cli)
    assert token and len(token) >= 32
    assert set(MemoryKeyring.entries) == {(SERVICE, f"session:{store_id(cli.url)}")}
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert [r["token_hash"] for r in rows(cli, "SELECT token_hash FROM auth_session")] == [digest]
    everything = repr(snapshot(cli.url))
    assert token not in everything


def test_auth3_idle_timeout_30_minutes(cli, clock):
    cli.logged_in()
    for _ in range(3):  # each command is activity: 87 minutes after login, still open
        clock.advance(minutes=29)
        assert cli("whoami").exit_code == 0
    clock.advance(minutes=30)
    expired = cli("whoami")
    assert expired.exit_code == 5
    assert "AUTH-3" in expired.stderr and "expiré" in expired.stderr


def test_auth3_absolute_timeout_10_hours_despite_activity(cli, clock):
    cli.logged_in()
    for _ in range(20):  # 9 h 40 of steady activity
        clock.advance(minutes=29)
        assert cli("whoami").exit_code == 0
    clock.advance(minutes=20)  # only 20 minutes idle, but 10 hours since login
    expired = cli("whoami")
    assert expired.exit_code == 5
    assert "AUTH-3" in expired.stderr


def test_auth3_logout_revokes_server_side_and_clears_keyring(cli):
    cli.logged_in()
    token = session_entry(cli)
    out = cli("logout")
    assert out.exit_code == 0
    assert EMAIL in out.stderr
    assert session_entry(cli) is None
    assert rows(cli, "SELECT revoked_at FROM auth_session")[0]["revoked_at"] is not None

    MemoryKeyring.entries[(SERVICE, f"session:{store_id(cli.url)}")] = token
    stale = cli("whoami")
    assert stale.exit_code == 5
    assert "AUTH-3" in stale.stderr
    assert cli("logout").stderr.strip() == message("done.not_logged_in", lang="fr")


def test_auth3_no_keyring_backend_uses_0600_file_and_warns_once(tmp_path):
    data = tmp_path / "chorus-data"
    env = subprocess_env(tmp_path, CHORUS_DATA_DIR=str(data))
    errors = []

    def chorus(*args: str, input: str | None = None):
        result = run(env, *args, input=input)
        errors.append(result.stderr)
        return result

    url = f"sqlite:///{data / 'chorus.db'}"
    data.mkdir(mode=0o700)  # an explicit store path: its folder must exist (SEC-6)
    Runner(url, data, FrozenClock()).active_account()  # in process: it needs no keyring
    engine_module._engines.pop(url).dispose()

    first = chorus("login", EMAIL, "--password-stdin", input=PASSWORD + "\n")
    assert first.returncode == 0, first.stderr
    body = json.loads(chorus("mail", "list", "--to", EMAIL, "--json").stdout)[0]["body"]
    code = re.search(r"\b\d{6}\b", body).group(0)
    second = chorus("login", EMAIL, "--code", code)
    assert second.returncode == 0, second.stderr
    who = chorus("whoami", "--json")
    assert who.returncode == 0, who.stderr
    assert '"login_email": "marie.curie@example.fr"' in who.stdout

    path = data / keychain.FALLBACK_FILE
    warning = message("keyring.fallback", lang="fr", path=str(path))
    assert sum(err.count(warning) for err in errors) == 1
    assert warning in first.stderr
    assert path.stat().st_mode & 0o777 == 0o600

    token = stored_token(env, url)  # read back through chorus' own keychain, in a new process
    assert token
    with closing(sqlite3.connect(data / "chorus.db")) as db:
        hashes = [h for (h,) in db.execute("SELECT token_hash FROM auth_session")]
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
    for part in data.glob("chorus.db*"):  # the database and its WAL
        assert token.encode() not in part.read_bytes()
    # keyrings.alt's own plaintext file in the home directory is not used.
    assert not list(tmp_path.glob("xdg-*/**/keyring_pass.cfg"))

    assert chorus("logout").returncode == 0
    assert stored_token(env, url) is None
    assert path.stat().st_mode & 0o777 == 0o600
    assert sum(err.count(warning) for err in errors) == 1


# --- AUTH-4: refused accounts -------------------------------------------------------


def test_auth4_pending_account_cannot_log_in(cli, unchanged):
    assert cli.create().exit_code == 0
    with unchanged():
        result = start(cli)
    assert result.exit_code == 5
    assert result.stderr == REFUSED + "\n"
    assert code_mails(cli, EMAIL) == []


def test_auth4_locked_account_cannot_log_in(cli, unchanged):
    cli.active_account()
    fail_password(cli, 5)
    with unchanged():
        result = start(cli)
    assert result.exit_code == 5
    assert result.stderr == REFUSED + "\n"


def test_auth4_deactivated_account_cannot_log_in(cli, unchanged):
    cli.logged_in()
    rows(cli, "UPDATE account SET status = 'deactivated' WHERE login_email = :e", e=EMAIL)
    assert cli("whoami").exit_code == 5  # the open session dies with the account
    with unchanged():
        result = start(cli)
    assert result.exit_code == 5
    assert result.stderr == REFUSED + "\n"


def test_auth4_account_deactivated_between_password_and_code(cli):
    cli.active_account()
    assert start(cli).exit_code == 0
    rows(cli, "UPDATE account SET status = 'deactivated' WHERE login_email = :e", e=EMAIL)
    result = finish(cli)
    assert result.exit_code == 5
    assert result.stderr == REFUSED + "\n"
    assert session_entry(cli) is None


# --- AUTH-5: no structure yet -------------------------------------------------------


def test_auth5_login_and_whoami_suggest_a_structure(cli):
    hint = message("hint.no_structure", lang="fr")
    assert "AUTH-5" in hint
    cli.active_account()
    assert start(cli).exit_code == 0
    logged = finish(cli)
    assert logged.exit_code == 0
    assert hint in logged.stderr
    who = cli("whoami", "--json")
    assert who.exit_code == 0
    assert hint in who.stderr
    assert hint not in who.stdout  # JSON stays alone on stdout
    assert who.json()["structures"] == []
    assert who.json()["roles"] == []


def test_auth5_whoami_shows_roles(cli):
    admin = bootstrap_admin(cli)
    assert cli.login(admin).exit_code == 0
    assert cli("whoami", "--json").json()["roles"] == ["admin"]
    table = cli("whoami")
    assert table.exit_code == 0
    assert "admin" in table.stdout and admin in table.stdout


# --- races (SECURITY.md idea 11) ----------------------------------------------------


def test_acc3_link_single_use_across_eight_concurrent_processes(cli):
    """SECURITY.md idea 11: 8 processes consume the same link at once; one wins."""
    assert cli.create().exit_code == 0
    link = cli.last_link(EMAIL)
    outcomes = concurrently(
        cli, 8, ["account", "activate", link, "--password-stdin"], PASSWORD + "\n"
    )
    assert sorted(code for code, _ in outcomes) == [0] + [6] * 7, outcomes
    assert all("ACC-3" in err for code, err in outcomes if code == 6)
    assert account_row(cli)["status"] == "active"
    assert len(rows(cli, "SELECT id FROM password_history")) == 1
    notices = [m for m in cli.mails(EMAIL) if "activé" in m["subject"]]
    assert len(notices) == 1
    assert cli.login(EMAIL).exit_code == 0


def test_auth1_code_single_use_across_eight_concurrent_processes(cli):
    cli.active_account()
    assert start(cli).exit_code == 0
    outcomes = concurrently(cli, 8, ["login", EMAIL, "--code", cli.last_code(EMAIL)], "")
    assert sorted(code for code, _ in outcomes) == [0] + [6] * 7, outcomes
    assert all("AUTH-1" in err for code, err in outcomes if code == 6)
    assert len(rows(cli, "SELECT id FROM auth_session")) == 1


def test_auth4_lockout_stops_new_logins_but_not_the_owners_open_session(cli):
    cli.logged_in()
    fail_password(cli, 5)
    assert account_row(cli)["locked_until"] is not None
    # Whoever typed the wrong passwords cannot end the owner's session (AUTH-4: "open").
    who = cli("whoami", "--json")
    assert who.exit_code == 0, who.stderr
    assert who.json()["status"] == "locked"
    assert start(cli).exit_code == 5


def test_auth1_unknown_method_is_refused_before_the_password_is_checked(cli, unchanged):
    cli.active_account()
    with unchanged():
        result = cli("login", EMAIL, "--password-stdin", "--method", "sms", input="wrong\n")
    assert result.exit_code == 2
    assert "AUTH-1" in result.stderr
    assert account_row(cli)["failed_logins"] == 0


def test_auth1_login_codes_are_rate_limited_per_address(cli, clock):
    cli.active_account()
    for _ in range(5):
        assert start(cli).exit_code == 0
    with_sixth = start(cli)
    assert with_sixth.exit_code == 1
    assert "ACC-7" in with_sixth.stderr
    assert len(code_mails(cli, EMAIL)) == 5
    clock.advance(minutes=15)
    assert start(cli).exit_code == 0


# --- the login use case (domain/login.py): typed errors a terminal loops on ------------


def uow_for(cli):
    from chorus_cli.config import Settings
    from chorus_cli.store.uow import UnitOfWork

    return UnitOfWork(Settings.from_env(cli.url), cli.clock)


def never_asked() -> str:
    raise AssertionError("the password was asked")


def test_auth1_a_wrong_code_is_a_wrong_code_with_the_tries_left_and_counts(cli):
    from chorus_cli.domain import login
    from chorus_cli.kernel.errors import NotAuthenticated, WrongCode

    cli.active_account()
    with uow_for(cli) as uow:
        attempt = login.begin(uow, EMAIL.upper(), lambda: PASSWORD)
        assert (attempt.method, attempt.email, attempt.resumed) == ("email", EMAIL, False)
        code = cli.last_code(EMAIL)
        for left in (4, 3):
            with pytest.raises(WrongCode) as refused:
                login.answer(uow, attempt, wrong(code))
            error = refused.value
            assert isinstance(error, NotAuthenticated) and error.exit_code == 5
            assert (error.key, error.tries_left, error.params) == (
                "auth1.code_wrong",
                left,
                {"left": left},
            )
        assert account_row(cli)["failed_logins"] == 2  # committed, though the answer failed
        opened = login.answer(uow, attempt, code)
    assert opened.account.login_email == EMAIL and opened.summary["login_email"] == EMAIL
    assert account_row(cli)["failed_logins"] == 0


def test_auth1_the_fifth_wrong_code_leaves_no_tries_then_the_attempt_is_spent(cli):
    from chorus_cli.domain import login
    from chorus_cli.kernel.errors import LinkExpired, WrongCode

    cli.active_account()
    with uow_for(cli) as uow:
        attempt = login.begin(uow, EMAIL, lambda: PASSWORD)
        code = cli.last_code(EMAIL)
        lefts = []
        for _ in range(5):
            with pytest.raises(WrongCode) as refused:
                login.answer(uow, attempt, wrong(code))
            lefts.append(refused.value.tries_left)
        assert lefts == [4, 3, 2, 1, 0]
        with pytest.raises(LinkExpired):  # the lock (AUTH-2) or the spent attempt
            login.answer(uow, attempt, code)


@pytest.mark.parametrize("kept", [None, "someone.else@example.fr\nsecret"])
def test_sec7_a_bare_code_with_no_attempt_kept_for_the_address_reads_no_password(
    cli, kept, unchanged
):
    from chorus_cli.domain import login
    from chorus_cli.kernel.errors import LinkExpired

    cli.active_account()
    with unchanged(), uow_for(cli) as uow, pytest.raises(LinkExpired) as refused:
        login.begin(uow, EMAIL, never_asked, code="123456", kept=kept)
    assert (refused.value.key, refused.value.exit_code) == ("sec7.no_attempt", 6)


def test_auth1_a_code_kept_by_an_earlier_process_is_finished_without_the_password(cli):
    from chorus_cli.domain import login

    cli.active_account()
    with uow_for(cli) as uow:
        started = login.begin(uow, EMAIL, lambda: PASSWORD)
    with uow_for(cli) as uow:
        resumed = login.begin(uow, EMAIL, never_asked, code="1", kept=started.kept)
        assert resumed.resumed and resumed.secret == started.secret
        assert login.answer(uow, resumed, cli.last_code(EMAIL)).account.login_email == EMAIL


def test_sec4_no_write_lock_is_held_after_a_wrong_code(cli):
    """While the person types the next code, another process can write (SEC-4)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from chorus_cli.domain import login
    from chorus_cli.kernel.errors import WrongCode

    cli.active_account()
    with uow_for(cli) as uow:
        attempt = login.begin(uow, EMAIL, lambda: PASSWORD)
        with pytest.raises(WrongCode):
            login.answer(uow, attempt, wrong(cli.last_code(EMAIL)))
        if cli.url.startswith("sqlite"):  # one write lock for the whole file
            other = sqlite3.connect(make_url(cli.url).database, timeout=0.2, isolation_level=None)
            with closing(other):
                other.execute("BEGIN IMMEDIATE")  # OperationalError if a writer holds it
                other.execute("ROLLBACK")
            return
        # PostgreSQL locks rows: the account and its login challenge are free (NOWAIT
        # raises at once on a row another transaction holds).
        engine = create_engine(cli.url)
        try:
            with engine.connect() as other:
                for table in ("account", "login_challenge"):
                    locked = other.execute(text(f"SELECT 1 FROM {table} FOR UPDATE NOWAIT"))
                    assert locked.all()
                other.rollback()
        finally:
            engine.dispose()


def test_auth3_login_json_gives_the_session_apart_from_the_account(cli):
    """Scripts already read the top level: it stays as they know it ("status": "logged_in" over the
    account's fields); `session` and `account` say each one's status apart."""
    cli.active_account()
    first = cli("login", EMAIL, "--password-stdin", "--json", input=PASSWORD + "\n").json()
    assert first["session"] == {
        "status": "code_sent",
        "method": "email",
        "expires_at": first["expires_at"],
    }
    assert first["status"] == "code_sent" and "account" not in first
    done = cli("login", EMAIL, "--code", cli.last_code(EMAIL), "--json").json()
    assert (done["status"], done["login_email"]) == ("logged_in", EMAIL)
    assert done["session"] == {"status": "logged_in"}
    assert done["account"]["status"] == "active"
    whoami = cli("whoami", "--json").json()
    assert done["account"] == whoami
    assert {k: v for k, v in done.items() if k not in ("session", "account")} == {
        **whoami,
        "status": "logged_in",
    }
