"""The CLI contract (SPEC), proved on the real `chorus` executable in subprocesses:
exit codes 0-6, stdout for data and stderr for messages, JSON and CSV output, errors as
one sentence (JSON with --format json), never a traceback, prompts answered from a pipe,
and the language switches.

One store serves the module; each "terminal" has its own keyring (XDG_DATA_HOME), so an
admin and a user can be logged in side by side.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

CHORUS = Path(sys.executable).parent / "chorus"
PASSWORD = "Vr4i-Mot2Passe!"
MARIE = "marie.curie@example.fr"
ADMIN = "ada.admin@example.fr"
LINK = re.compile(r"https?://\S+\?token=\S+")
CODE = re.compile(r"\b\d{6}\b")


@dataclass
class Terminal:
    """Someone at a shell: the shared store, their own keyring and data dir."""

    store: Path
    home: Path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CHORUS_", "PYTHON_KEYRING", "XDG_")) and k != "COLUMNS"
        }
        env.update(
            {
                "CHORUS_DATABASE_URL": f"sqlite:///{self.store}",
                "CHORUS_DATA_DIR": str(self.home),
                "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
                "XDG_DATA_HOME": str(self.home),
                "COLUMNS": "200",
            }
        )
        env.update(extra or {})
        return env

    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(CHORUS), *args],
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,  # a pipe, never a tty
            capture_output=True,
            text=True,
            env=self.env(env),
            timeout=60,
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def mails(self, to: str) -> list[dict]:
        result = self("mail", "list", "--to", to, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def login(self, email: str) -> None:
        """Password piped, then the mailed code read from `mail list --json`."""
        first = self("login", email, "--password-stdin", input=PASSWORD + "\n")
        assert first.returncode == 0, first.stderr
        code = CODE.search(self.mails(email)[0]["body"]).group(0)
        second = self("login", email, "--code", code)
        assert second.returncode == 0, second.stderr


def one_sentence(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def json_error(result: subprocess.CompletedProcess, code: int) -> dict:
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    error = json.loads(one_sentence(result.stderr))["error"]
    assert error["code"] == code and error["message"]
    return error


@dataclass
class World:
    marie: Terminal  # logged in as Marie, an ordinary account
    admin: Terminal  # logged in as the first admin
    stranger: Terminal  # nobody logged in
    marie_link: str  # Marie's activation link, already used


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("contract")
    store = root / "chorus.db"
    marie, admin, stranger = (Terminal(store, root / n) for n in ("marie", "admin", "nobody"))

    def user_flow() -> str:
        """The user's full flow: create -> activate (piped password) -> login."""
        created = marie(
            "account",
            "create",
            "--email",
            MARIE,
            "--last-name",
            "Curie",
            "--first-name",
            "Marie",
            "--json",
        )
        assert created.returncode == 0, created.stderr
        assert json.loads(created.stdout)["status"] == "pending"
        link = LINK.search(marie.mails(MARIE)[0]["body"]).group(0)
        activated = marie("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
        assert activated.returncode == 0, activated.stderr
        marie.login(MARIE)
        return link

    def admin_flow() -> None:
        booted = admin(
            "admin", "bootstrap", "--email", ADMIN, "--last-name", "Admin", "--first-name", "Ada"
        )
        assert booted.returncode == 0, booted.stderr
        admin_link = LINK.search(admin.mails(ADMIN)[0]["body"]).group(0)
        # Without --password-stdin the prompts read one line each from the pipe.
        typed = admin("account", "activate", admin_link, input=f"{PASSWORD}\n{PASSWORD}\n")
        assert typed.returncode == 0, typed.stderr
        admin.login(ADMIN)

    # Two terminals at once on one store (OPS-5), which also halves the set-up time.
    with ThreadPoolExecutor(2) as pool:
        user, boot = pool.submit(user_flow), pool.submit(admin_flow)
        link = user.result()
        boot.result()
    return World(marie, admin, stranger, link)


# --- exit codes ------------------------------------------------------------------------------


def test_contract_exit_code_0_create_activate_login_whoami(world):
    who = world.marie("whoami", "--json")

    assert who.returncode == 0, who.stderr
    data = json.loads(who.stdout)  # JSON alone on stdout
    assert data["login_email"] == MARIE and data["status"] == "active"
    assert data["roles"] == [] and data["structures"] == []
    assert PASSWORD not in who.stdout + who.stderr
    assert "AUTH-5" in who.stderr  # the no-structure hint goes to stderr, not into the JSON


def test_contract_exit_code_1_duplicate_account(world):
    text = world.stranger(
        "account", "create", "--email", MARIE.upper(), "--last-name", "C", "--first-name", "M"
    )
    as_json = world.stranger(
        "account",
        "create",
        "--email",
        MARIE,
        "--last-name",
        "C",
        "--first-name",
        "M",
        "--format",
        "json",
    )

    assert text.returncode == 1 and text.stdout == ""
    assert "ACC-2" in one_sentence(text.stderr)
    assert "forgot-password" in json_error(as_json, 1)["message"]


def test_contract_exit_code_2_bad_email_and_unknown_option(world):
    bad_email = world.stranger(
        "account", "create", "--email", "pas-une-adresse", "--last-name", "C", "--first-name", "M"
    )
    unknown = world.stranger("mail", "list", "--bogus")
    unknown_json = world.stranger("mail", "list", "--json", "--bogus")

    assert bad_email.returncode == 2 and bad_email.stdout == ""
    assert "ACC-1" in one_sentence(bad_email.stderr)
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert "Option inconnue : --bogus" in unknown.stderr  # SET-5: French by default
    assert "--bogus" in json_error(unknown_json, 2)["message"]


def test_contract_exit_code_3_unknown_account(world):
    result = world.admin("admin", "grant-role", "unknown@x.fr", "support")

    assert result.returncode == 3
    assert "unknown@x.fr" in one_sentence(result.stderr)


def test_contract_exit_code_4_not_an_admin(world):
    result = world.marie("admin", "grant-role", MARIE, "support")

    assert result.returncode == 4 and result.stdout == ""
    assert "HAB-6" in one_sentence(result.stderr)


def test_contract_exit_code_5_no_session(world):
    text = world.stranger("whoami")
    as_json = world.stranger("whoami", "--format", "json")

    assert text.returncode == 5 and text.stdout == ""
    assert "AUTH-3" in one_sentence(text.stderr)
    assert "AUTH-3" in json_error(as_json, 5)["message"]


def test_contract_exit_code_6_reused_activation_link(world):
    result = world.stranger(
        "account", "activate", world.marie_link, "--password-stdin", input=PASSWORD + "\n"
    )

    assert result.returncode == 6 and result.stdout == ""
    assert "déjà été utilisé" in one_sentence(result.stderr)


def test_contract_store_that_is_not_a_database_is_exit_2(world, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("not a database, just notes " * 40)

    result = world.stranger("--db", f"sqlite:///{other}", "mail", "list", "--json")

    assert "file is not a database" in json_error(result, 2)["message"]


def test_contract_unexpected_error_is_one_sentence_without_traceback(world, tmp_path):
    # A bug stands in through sitecustomize: its message holds a secret, as SQL
    # parameters in a database error would.
    (tmp_path / "sitecustomize.py").write_text(
        "import chorus_cli.domain.accounts as a\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('secret-token-123')\n"
        "a.create = broken\n"
    )
    env = {"PYTHONPATH": str(tmp_path)}
    args = (
        "account",
        "create",
        "--email",
        "bug@example.fr",
        "--last-name",
        "B",
        "--first-name",
        "B",
    )

    quiet = world.stranger(*args, env=env)
    as_json = world.stranger(*args, "--json", env=env)

    assert quiet.returncode == 1 and quiet.stdout == ""
    assert "RuntimeError" in one_sentence(quiet.stderr) and "CHORUS_DEBUG" in quiet.stderr
    assert "secret-token-123" not in quiet.stderr + as_json.stderr
    assert json_error(as_json, 1)["kind"] == "internal"
    debug = subprocess.run(
        [str(CHORUS), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=world.stranger.env({**env, "CHORUS_DEBUG": "1"}),
        timeout=60,
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr


# --- output formats and language -------------------------------------------------------------


def test_contract_csv_output_parses(world):
    result = world.stranger("mail", "list", "--format", "csv")

    assert result.returncode == 0 and result.stderr == ""
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    # SPEC's fields, in order, then SEC-8's (added, never renamed).
    assert list(rows[0])[:7] == ["id", "to", "sender", "subject", "body", "created_at", "status"]
    assert list(rows[0])[7:] == ["attempts", "last_error", "message_id", "next_attempt_at"]
    assert {MARIE, ADMIN} <= {r["to"] for r in rows}
    assert any(LINK.search(r["body"]) for r in rows)  # multi-line bodies survive quoting


def test_contract_lang_option_and_chorus_lang_switch_messages(world):
    french = world.stranger("whoami")
    by_option = world.stranger("--lang", "en", "whoami")
    by_env = world.stranger("whoami", env={"CHORUS_LANG": "en"})
    json_en = world.stranger("whoami", "--json", env={"CHORUS_LANG": "en"})

    assert one_sentence(french.stderr).startswith("Vous n'êtes pas connecté")
    assert one_sentence(by_option.stderr).startswith("You are not logged in")
    assert by_env.stderr == by_option.stderr
    # JSON keys and exit codes never change with the language.
    assert by_option.returncode == by_env.returncode == french.returncode == 5
    assert json_error(json_en, 5)["message"].startswith("You are not logged in")


# --- help ---------------------------------------------------------------------------------------


def commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def test_contract_every_command_has_help_with_an_example():
    from chorus_cli.cli import app

    root = typer.main.get_command(app)
    found = dict(commands(root))

    assert {"account create", "login", "mail list", "audit list", "db backup"} <= set(found)
    for group in root.commands.values():
        assert (group.help or "").strip(), group.name
    for path, command in found.items():
        lines = [line.strip() for line in (command.help or "").splitlines()]
        assert lines and lines[0], f"{path}: no help"
        at = [i for i, line in enumerate(lines) if line.startswith("Example:")]
        assert at and "chorus " in lines[at[0]], f"{path}: no example"
        # Click rewraps each paragraph: an example glued to the text above it would be
        # shown in the middle of a sentence in --help.
        assert lines[at[0] - 1] == "", f"{path}: the example must start its own paragraph"


def test_contract_help_shows_the_example_on_its_own_line(world):
    result = world.stranger("login", "--help")

    assert result.returncode == 0 and result.stderr == ""
    assert re.search(r"^\s*Exemple\s: chorus login ", result.stdout, re.M), result.stdout


def test_acc8_the_executable_hashes_passwords_at_the_production_cost(tmp_path):
    """In process the tests hash cheaply by replacing ``secrets.hasher`` (tests/conftest.py);
    ``chorus`` itself, started as a user starts it, hashes at ASVS 5's minimum."""
    import sqlite3

    me = Terminal(tmp_path / "chorus.db", tmp_path / "home")
    names = ("--last-name", "Curie", "--first-name", "Marie")
    assert me("account", "create", "--email", MARIE, *names).returncode == 0
    link = LINK.search(me.mails(MARIE)[0]["body"]).group(0)
    activated = me("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    assert activated.returncode == 0, activated.stderr
    with sqlite3.connect(tmp_path / "chorus.db") as conn:
        (stored,) = conn.execute("SELECT password_hash FROM account").fetchone()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
