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
