"""LA-1, SEC-5, SET-4 and SEC-4 at a real terminal (pexpect): `login-address change`
asks the password (hidden) and then the new address a second time, `account
deactivate` asks before it acts, and neither holds a lock on the store while it waits."""

from __future__ import annotations

import pexpect
import pytest

from tests.e2e.test_bulk_terminal import spawn
from tests.e2e.test_cli_contract import LINK, PASSWORD, Terminal

MARIE = "marie.terminal@example.fr"
NEW = "marie.terminal@nouveau.fr"


@pytest.fixture
def marie(tmp_path) -> Terminal:
    terminal = Terminal(tmp_path / "chorus.db", tmp_path / "marie")
    made = terminal("account", "create", "--email", MARIE, "--last-name", "T", "--first-name", "M")
    assert made.returncode == 0, made.stderr
    link = LINK.search(terminal.mails(MARIE)[0]["body"]).group(0)
    done = terminal("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    terminal.login(MARIE)
    return terminal


def test_la1_sec5_the_change_asks_the_password_hidden_then_the_address_again(marie):
    child = spawn(marie, "login-address", "change", NEW)
    child.expect("Mot de passe : ")
    # While the person types, another process writes to the store at once (SEC-4).
    other = marie("account", "create", "--email", "meanwhile@example.fr", "--last-name", "M",
                  "--first-name", "W")  # fmt: skip
    assert other.returncode == 0, other.stderr
    child.sendline(PASSWORD)
    child.expect("Confirmez la nouvelle adresse de connexion : ")
    assert PASSWORD not in child.before
    child.sendline(NEW)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert PASSWORD not in child.before
    mails = marie.mails(NEW)
    assert mails and mails[0]["subject"].startswith("Chorus Pro : confirmez")


def test_set4_deactivate_asks_at_a_terminal_and_no_keeps_the_account(marie):
    child = spawn(marie, "account", "deactivate")
    child.expect(r"Désactiver le compte marie\.terminal@example\.fr \?.*\[o/N\]")
    other = marie("account", "update", "--biography", "Toujours là")  # SEC-4: no lock held
    assert other.returncode == 0, other.stderr
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert marie("whoami").returncode == 0
    child = spawn(marie, "account", "deactivate")
    child.expect(r"\[o/N\]")
    child.sendline("o")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert marie("whoami").returncode == 5


def test_sec4_a_wrong_totp_code_at_enrolment_holds_no_lock_while_asking_again(marie):
    import re

    from tests.test_mfa import oathtool

    child = spawn(marie, "mfa", "totp", "add", "--name", "Pixel")
    child.expect("Mot de passe : ")  # SEC-5: the password first
    child.sendline(PASSWORD)
    child.expect(r"Code à 6 chiffres de votre application d'authentification : ")
    secret = re.search(r"(?m)^((?:[A-Z2-7]{4} ){7}[A-Z2-7]{4})\r?$", child.before).group(1)
    child.sendline("000000" if oathtool(secret.replace(" ", "")) != "000000" else "111111")
    child.expect(r"Code incorrect \(MFA-2\)")
    child.expect(r"Code à 6 chiffres de votre application d'authentification : ")
    # The person is reading the app again: another process writes at once (SEC-4); with
    # the lock held it would wait SQLite's 30-second busy timeout, then fail.
    import time

    started = time.monotonic()
    other = marie("account", "create", "--email", "other@example.fr", "--last-name", "O",
                  "--first-name", "W")  # fmt: skip
    assert time.monotonic() - started < 15
    assert other.returncode == 0, other.stderr
    child.sendline(oathtool(secret.replace(" ", "")))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
