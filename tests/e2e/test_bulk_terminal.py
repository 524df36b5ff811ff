"""OPS-1, PUB-1, SEC-4 at a real terminal: the real `chorus` executable in a
pseudo-terminal (pexpect), where the in-process runner, which always pipes, cannot go.

- `bulk import` draws a progress bar on stderr at a terminal, and none in accessible
  mode (NO_COLOR) or when stderr is a pipe;
- `account delete` asks for confirmation at a terminal, and holds no lock meanwhile:
  another process writes to the store while the question waits (SEC-4).
"""

from __future__ import annotations

import json
import sys

import pexpect
import pytest

from tests.e2e.test_cli_contract import ADMIN, CODE, LINK, PASSWORD, Terminal

CHORUS = str(__import__("pathlib").Path(sys.executable).parent / "chorus")


@pytest.fixture(scope="module")
def admin(tmp_path_factory) -> Terminal:
    """A store whose first admin is logged in, in their own terminal."""
    root = tmp_path_factory.mktemp("bulk-terminal")
    terminal = Terminal(root / "chorus.db", root / "admin")
    booted = terminal(
        "admin", "bootstrap", "--email", ADMIN, "--last-name", "Admin", "--first-name", "Ada"
    )
    assert booted.returncode == 0, booted.stderr
    link = LINK.search(terminal.mails(ADMIN)[0]["body"]).group(0)
    activated = terminal("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    assert activated.returncode == 0, activated.stderr
    terminal.login(ADMIN)
    assert CODE  # the login read its code from the outbox
    return terminal


def flow(tmp_path, count: int) -> str:
    path = tmp_path / "agents.csv"
    lines = ["Nom;Prénom;Adresse e-mail"]
    team = "".join(c for c in tmp_path.name.lower() if c.isalnum())
    lines += [f"Nom{i};Prénom;agent{i}@{team}.example.fr" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def spawn(terminal: Terminal, *args: str, env: dict[str, str] | None = None) -> pexpect.spawn:
    return pexpect.spawn(
        CHORUS,
        list(args),
        env=terminal.env(env),
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 120),
    )


def test_ops1_a_progress_bar_is_drawn_at_a_terminal(admin, tmp_path):
    child = spawn(admin, "bulk", "import", flow(tmp_path, 300), "--kind", "accounts")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "Lignes du flux" in child.before and "100%" in child.before
    assert "créés 300" in child.before


def test_ops1_no_progress_bar_in_accessible_mode(admin, tmp_path):
    child = spawn(admin, "bulk", "import", flow(tmp_path, 30), "--kind", "accounts",
                  env={"NO_COLOR": "1"})  # fmt: skip
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "Lignes du flux" not in child.before and "créés 30" in child.before


def test_pub1_delete_asks_at_a_terminal_and_locks_nothing_while_it_waits(admin, tmp_path):
    doomed = "doomed.agent@example.fr"
    made = admin("account", "create", "--email", doomed, "--last-name", "D", "--first-name", "A")
    assert made.returncode == 0, made.stderr
    child = spawn(admin, "account", "delete", doomed)
    child.expect(r"Supprimer définitivement le compte doomed\.agent@example\.fr .*\[o/N\]")
    # While the question waits, another process writes to the store at once (SEC-4).
    other = admin("account", "create", "--email", "meanwhile@example.fr", "--last-name", "M",
                  "--first-name", "W", env={"CHORUS_LANG": "fr"})  # fmt: skip
    assert other.returncode == 0, other.stderr
    child.sendline("o")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    exported = admin("bulk", "export", "accounts", "--format", "jsonl")
    logins = {json.loads(line)["login_email"] for line in exported.stdout.splitlines()}
    assert doomed not in logins and "meanwhile@example.fr" in logins


def test_an_empty_listing_says_nothing_found_at_a_terminal(admin):
    child = spawn(admin, "account", "list", "--search", "nobody-by-that-name")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Aucun résultat." in child.before
