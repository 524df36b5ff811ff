"""OPS-6: `chorus batch FILE|-`, many command lines in one process; on SQLite and
PostgreSQL. Marie is logged in; the lines act as her."""

from __future__ import annotations

import json

import pytest

MARIE = "marie.curie@example.fr"


@pytest.fixture
def marie(cli):
    """Marie, logged in, the store's first admin (so that `account delete` gets as far as
    its question)."""
    cli.logged_in(MARIE)
    assert cli("admin", "bootstrap", "--email", MARIE, "--last-name", "C", "--first-name",
               "M").exit_code == 0  # fmt: skip
    return cli


def batch(cli, text: str, *options: str):
    return cli("batch", "-", *options, input=text)


def created(n: int) -> str:
    return f"account create --email agent{n}@example.fr --last-name Agent --first-name N{n}\n"


def test_ops6_lines_run_in_order_each_output_as_if_alone(marie):
    alone = marie("account", "show", "--json").stdout
    result = batch(marie, "# Marie's account\n\nchorus account show --json\nwhoami --json\n")
    assert result.exit_code == 0, result.stderr
    first, second = result.stdout[: len(alone)], result.stdout[len(alone) :]
    assert first == alone
    assert json.loads(second)["login_email"] == MARIE


def test_ops6_a_batch_stops_at_its_first_failing_line(marie):
    text = created(1) + created(2) + "structure show 00000000000000\n" + created(4)
    result = batch(marie, text)
    assert result.exit_code == 3  # the third line's code: not found
    assert "ligne 3" in result.stderr
    listed = {m["to"] for m in marie.mails()}
    assert {"agent1@example.fr", "agent2@example.fr"} <= listed
    assert "agent4@example.fr" not in listed  # nothing ran after it


def test_ops6_keep_going_runs_the_rest_and_exits_with_the_first_failure(marie):
    text = created(1) + "structure show 00000000000000\n" + created(3) + "whoami --bogus\n"
    result = batch(marie, text, "--keep-going")
    assert result.exit_code == 3
    assert "agent3@example.fr" in {m["to"] for m in marie.mails()}
    assert "ligne 2" in result.stderr and "ligne 4" in result.stderr
    assert "4 lignes exécutées, 2 en échec (première : ligne 2)" in result.stderr


def test_ops6_keep_going_with_no_failure_says_none_failed(marie):
    result = batch(marie, created(1) + created(2), "--keep-going")
    assert result.exit_code == 0, result.stderr
    assert "2 lignes exécutées, aucune en échec (OPS-6)." in result.stderr
    assert "première" not in result.stderr and "ligne 0" not in result.stderr
    one = marie("--lang", "en", "batch", "-", "--keep-going", input="whoami\n")
    assert "1 line run, none failed (OPS-6)." in one.stderr


def test_ops6_atomic_a_failure_at_line_40_of_50_leaves_the_store_as_before(marie, unchanged):
    lines = [created(n) for n in range(1, 51)]
    lines[39] = created(1)  # line 40: the login exists (ACC-2)
    with unchanged():
        result = batch(marie, "".join(lines), "--atomic")
    assert result.exit_code == 1
    assert "ligne 40" in result.stderr and "annulé" in result.stderr
    assert not [m for m in marie.mails() if m["to"].startswith("agent")]


def test_ops6_atomic_commits_every_line_at_the_end(marie):
    result = batch(marie, created(1) + created(2) + "account show --json\n", "--atomic")
    assert result.exit_code == 0, result.stderr
    assert {"agent1@example.fr", "agent2@example.fr"} <= {m["to"] for m in marie.mails()}
    shown = result.stdout[result.stdout.rindex("{\n") :]  # the last line's JSON
    assert json.loads(shown)["login_email"] == MARIE


@pytest.mark.parametrize(
    "line",
    [
        "login marie.curie@example.fr",
        "logout",
        "batch other.txt",
        "demo",
        "--lang en login x@example.fr",
        "mfa key add",
        "account password",  # asks for the current password
        "account delete agent1@example.fr",  # asks for confirmation
        "account activate some-token --password-stdin",  # reads a password
        "account reactivate marie.curie@example.fr --code 123456",  # a log-in (SET-4)
        "login-address change marie@nouveau.fr",  # asks the password again (SEC-5)
        "--db sqlite:///other.db whoami",
    ],
)
def test_ops6_a_line_that_waits_for_a_person_is_refused_with_its_number(marie, unchanged, line):
    marie(*created(1).split())
    with unchanged():
        result = batch(marie, f"# one\n{line}\nwhoami\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("ligne 2 :"), result.stderr
    assert result.stdout == ""  # whoami, after it, did not run


def test_ops6_a_line_that_does_not_split_stops_the_batch(marie, unchanged):
    result = batch(marie, created(1) + 'account show "unbalanced\n' + created(3))
    assert result.exit_code == 2 and "ligne 2" in result.stderr
    assert "agent3@example.fr" not in {m["to"] for m in marie.mails()}
    with unchanged():
        atomic = batch(marie, created(5) + 'account show "unbalanced\n', "--atomic")
    assert atomic.exit_code == 2  # nothing at all with --atomic


def test_ops6_an_unknown_command_is_exit_2(marie):
    result = batch(marie, "account frobnicate\n")
    assert result.exit_code == 2 and "ligne 1" in result.stderr


def test_ops6_json_errors_carry_their_line(marie):
    result = batch(marie, "whoami --json\nstructure show 00000000000000 --json\n")
    error = json.loads(result.stderr.strip().splitlines()[-1])["error"]
    assert error["line"] == 2 and error["code"] == 3


def test_ops6_a_batch_from_a_file(marie, tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text(created(1) + "whoami\n", encoding="utf-8")
    assert marie("batch", str(path)).exit_code == 0
    assert marie("batch", str(tmp_path / "missing.txt")).exit_code == 2
    (tmp_path / "latin.txt").write_bytes("account show # \xe9t\xe9\n".encode("cp1252"))
    assert marie("batch", str(tmp_path / "latin.txt")).exit_code == 2


def test_ops6_atomic_and_keep_going_exclude_each_other(marie):
    assert batch(marie, "whoami\n", "--atomic", "--keep-going").exit_code == 2


def test_ops6_sessions_and_language_stay_those_of_the_batch(marie):
    twice = "--lang en structure show 00000000000000\nstructure show 00000000000000\n"
    result = batch(marie, twice, "--keep-going")
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("ligne 1 : No structure")
    assert lines[1].startswith("ligne 2 : Aucune structure")


# --- SEC-12: a batch never says "nothing was saved" after its lines saved something ------

NOT_UTF8 = created(1) + "mail list\n" + "whoami \udcff\n" + created(4)


def batch_bytes() -> bytes:
    return NOT_UTF8.encode("utf-8", "surrogateescape")  # the third line holds a bare \xff


def test_sec12_a_batch_file_line_that_is_not_utf8_is_named_after_the_lines_before_ran(
    marie, tmp_path
):
    path = tmp_path / "lines.txt"
    path.write_bytes(batch_bytes())
    result = marie("batch", str(path))
    assert result.exit_code == 2, result.stderr
    assert "ligne 3" in result.stderr and "SEC-3" in result.stderr and "0xff" in result.stderr
    assert "l'est resté" in result.stderr and "rien n'a été enregistré" not in result.stderr
    listed = {m["to"] for m in marie.mails()}
    assert "agent1@example.fr" in listed and "agent4@example.fr" not in listed


def test_sec12_a_batch_on_strict_stdin_says_what_its_lines_saved(marie, tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_DEBUG")}
    env.update(marie.env, PYTHONIOENCODING="utf-8:strict")
    done = subprocess.run(
        [sys.executable, "-m", "chorus_cli", "batch", "-"],
        input=batch_bytes(), env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == 2, stderr
    assert "ligne 3" in stderr and "SEC-3" in stderr
    assert "l'est resté" in stderr and "rien n'a été enregistré" not in stderr
    assert marie("account", "show", "agent1@example.fr", "--json").exit_code == 0
    assert marie("account", "show", "agent4@example.fr").exit_code == 3


def test_sec12_a_line_failing_after_earlier_lines_saved_does_not_say_nothing_was(
    marie, monkeypatch
):
    # An unexpected error on line 2 (injected: no command fails so on purpose), after line
    # 1 saved an account: the batch's commits are counted across its lines.
    from chorus_cli.domain import accounts

    def broken(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(accounts, "unlock", broken)
    monkeypatch.delenv("CHORUS_DEBUG")
    result = batch(marie, created(1) + f"account unlock {MARIE}\n")
    assert result.exit_code == 1, result.stderr
    assert "ligne 2" in result.stderr and "RuntimeError" in result.stderr
    assert "l'est resté" in result.stderr and "rien n'a été enregistré" not in result.stderr
