"""OUT-6: shell completion of option values, on SQLite and PostgreSQL.

Every test asks the real entry point (``cli.main``, or the console script in a
subprocess) through Click's own completion variables, as Typer's bash script does:
``_CHORUS_COMPLETE=complete_bash``, ``COMP_WORDS`` the line, ``COMP_CWORD`` the index of
the word being completed. The cast is test_members' world: Ada is the admin, Sam support,
Corinne the correspondent of Isère (38), Marie and Odile manage the bakery, Pierre and
Tom are plain members of it, Noël is attached nowhere, Léa manages the commune.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from chorus_cli.inprocess import invoke
from chorus_cli.store.keychain import store_id
from tests.memory_keyring import MemoryKeyring
from tests.test_members import _members_world
from tests.test_provisioning import ADA, BAKERY, COMMUNE, CORINNE, LEA, MARIE, SAM
from tests.test_structures import World, cloned

PIERRE = "pierre.curie@example.fr"
NOEL = "noel.dehors@example.fr"
HOSPITAL = "26389998100017"  # the sample's public hospital, of Isère


def completion_env(line: str) -> dict[str, str]:
    """What Typer's bash script sets when Tab is pressed at the end of ``line``."""
    return {
        "_CHORUS_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(line.split(" ")) - 1),
    }


def complete(cli, line: str) -> list[str]:
    """What chorus offers for the last word of ``line`` ("" after a final space)."""
    done = invoke([], env={**cli.env, **completion_env(line)}, clock=cli.clock)
    assert done.stderr == "", done.stderr
    assert done.exit_code == 0, done.exit_code
    return done.stdout.split()


def complete_as(world: World, who: str | None, line: str) -> list[str]:
    MemoryKeyring.entries = dict(world.sessions[who]) if who else {}
    return complete(world.cli, line)


@pytest.fixture
def world(cli, worlds) -> World:
    return cloned(worlds, cli, "members", _members_world)


# --- fixed choices ------------------------------------------------------------------------


def _tree():
    from typer.main import get_command

    from chorus_cli.cli import make_app
    from chorus_cli.ui import completion

    return list(completion.walk(get_command(make_app())))


def _line(path: str, command, param) -> str:
    """A line that leaves Tab on the parameter's value: the arguments before it given."""
    words = ["chorus", *path.split()]
    for other in command.params:
        if other is param:
            break
        if other.param_type_name == "argument":
            words.append("x@example.fr")
    if param.param_type_name == "option":
        words.append(max(param.opts, key=len))
    return " ".join(words) + " "


def test_out6_every_choice_of_the_tree_completes_from_its_own_type(cli):
    """--format, --lang, roles…: each option or argument typed as a choice offers its
    type's choices (a value another helper adds to the Enum appears by itself)."""
    from chorus_cli.ui import completion

    checked = 0
    for path, command, param in _tree():
        choices = getattr(param.type, "choices", None)
        if not choices or getattr(param, "is_flag", False):
            continue
        if path == "":  # the root's --lang: no command after it yet
            assert complete(cli, f"chorus {completion.name(param)} ") == list(choices)
            continue
        assert complete(cli, _line(path, command, param)) == list(choices), (path, param.name)
        checked += 1
    assert checked > 50


def _domain_values() -> dict[str, tuple[str, ...]]:
    """The oracle: each fixed kind of value, read where the domain defines it."""
    from chorus_cli.bulk import columns, export
    from chorus_cli.domain import accounts, catalogue, factors, identifiers, preferences, structures

    apps = tuple(app.code for app in catalogue.CATALOGUE)
    return {
        "--id-type": identifiers.TYPES,
        "account list --status": accounts.STATUSES,
        "structure members --status": accounts.STATUSES,
        "structure list --status": structures.STATUSES,
        "--level": catalogue.LEVELS,
        "--app": apps,
        "--application": apps,
        "--on": tuple(app.code for app in catalogue.NOTIFYING),
        "--off": tuple(app.code for app in catalogue.NOTIFYING),
        "--method": factors.METHODS,
        "--accessibility": tuple(preferences.SWITCH),
        "--surveys": tuple(preferences.SWITCH),
        "--service-code-required": tuple(preferences.SWITCH),
        "--engagement-number-required": tuple(preferences.SWITCH),
        "--language": preferences.LANGUAGES,
        "--kind": columns.KINDS,
        "bulk export kind": export.KINDS,
        "bulk export --format": export.FORMATS,
    }


def test_out6_every_plain_text_option_of_fixed_values_completes_the_domains_values(cli):
    """No option of fixed values offers file names: every parameter typed as plain text
    is either given its values (the domain's) or declared free in ui/completion.py, so
    a new one cannot be forgotten; and each one given fixed values offers them all."""
    from chorus_cli.ui import completion

    expected = _domain_values()
    fixed_seen, unclassified = set(), []
    for path, command, param in _tree():
        if getattr(param.type, "name", "") != "str":
            continue
        key = completion.name(param)
        found = completion.completer(path, param)
        if found is completion.TECHNICAL_LOGINS:
            continue  # from the store, as LOGINS (test_out6_technical_logins_complete…)
        if found is None:
            if key not in completion.FREE:
                unclassified.append(f"{path} {key}")
        elif found not in (completion.LOGINS, completion.STRUCTURES):
            wanted = expected.get(f"{path} {key}", expected.get(key))
            assert wanted is not None, f"{path} {key}: fixed values the test does not know"
            assert complete(cli, _line(path, command, param)) == list(wanted), (path, key)
            fixed_seen.add(f"{path} {key}")
    assert unclassified == [], "plain-text parameters neither completed nor declared free"
    assert {"account list --status", "structure list --status", "bulk import --kind",
            "bulk export kind", "habil grant --level", "attach request --id-type",
            "account preferences --language", "login --method",
            "structure update --service-code-required"} <= fixed_seen  # fmt: skip


def test_out6_fixed_values_complete_by_prefix_in_any_case(cli):
    assert complete(cli, "chorus structure list --status p") == ["pending"]
    assert complete(cli, "chorus account create --id-type si") == ["SIRET"]
    assert complete(cli, "chorus bulk export str") == ["structures"]
    assert complete(cli, "chorus account list --format j") == ["json", "jsonl"]
    assert complete(cli, "chorus admin grant-role x@example.fr s") == ["support"]
    assert complete(cli, "chorus account list --status nothing") == []


def test_out6_file_parameters_leave_file_names_to_the_shell(cli):
    """An empty answer: Typer's scripts then complete files (bash ``complete -o
    default``, zsh ``_files``, fish's condition); no typed word handed back as a value."""
    assert complete(cli, "chorus bulk import ") == []
    assert complete(cli, "chorus db backup back") == []
    assert complete(cli, "chorus batch lines") == []
    assert complete(cli, "chorus account photo ") == []


def test_out6_commands_and_options_still_complete(cli):
    assert complete(cli, "chorus login") == ["login", "login-address"]
    assert "--status" in complete(cli, "chorus account list --")


# --- from the store, as the logged-in account sees it ---------------------------------


def _logins(world: World) -> list[str]:
    listed = world(ADA, "account", "list", "--json", "--limit", "1000")
    assert listed.exit_code == 0, listed.stderr
    return sorted(row["login_email"] for row in listed.json())


@pytest.mark.parametrize("who", [SAM, ADA, CORINNE, MARIE, PIERRE, NOEL, LEA])
def test_out6_logins_offered_are_exactly_those_account_show_shows(world, who):
    """MEM-3 (``authz.seen_accounts``, the one definition): support and admin every
    account, a correspondent those of her scope, a manager her structures' members, a
    plain member only herself."""
    shown = [
        email for email in _logins(world) if world(who, "account", "show", email).exit_code == 0
    ]
    offered = complete_as(world, who, "chorus account show ")
    assert offered == shown
    assert who in offered
    if who == PIERRE:
        assert offered == [PIERRE]


def test_out6_logins_by_prefix_in_every_option_that_names_an_account(world):
    everyone = _logins(world)
    ma = [email for email in everyone if email.startswith("ma")]
    assert ma and complete_as(world, SAM, "chorus account show MA") == ma
    for line in (
        "chorus account unlock ma",
        "chorus admin grant-role ma",
        "chorus structure remove-member 44123456400017 ma",
        "chorus habil list --account ma",
        "chorus account deactivate --successor ma",
        "chorus login-address status --account ma",
        "chorus mail list --to ma",
        "chorus audit list --actor ma",
    ):
        assert complete_as(world, SAM, line) == ma, line


def test_out6_tech2_technical_logins_complete_for_those_who_see_them(world):
    made = world(MARIE, "account", "technical", "create", "--structure", "44123456400017",
                 "--json")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    login = made.json()["login"]
    for command in ("reset-password", "delete"):
        line = f"chorus account technical {command} tech"
        assert complete_as(world, MARIE, line) == [login]
        assert complete_as(world, SAM, line) == [login]
        assert complete_as(world, PIERRE, line) == []


def test_out6_anonymous_gets_nothing_from_the_store(world):
    assert complete_as(world, None, "chorus account show ") == []
    assert complete_as(world, None, "chorus structure show ") == []
    assert complete_as(world, None, "chorus login ") == []


def test_out6_at_most_fifty_values_from_the_store(world, monkeypatch):
    from chorus_cli.domain import suggestions

    assert suggestions.LIMIT == 50
    monkeypatch.setattr(suggestions, "LIMIT", 3)  # the cast is smaller than 50
    assert complete_as(world, SAM, "chorus account show ") == _logins(world)[:3]


def test_out6_structure_identifiers_as_search_finds_them(world):
    """STR-9 (``authz.findable_structures``): support every structure; anyone else the
    active ones and the pending ones she is attached to."""
    created = world(NOEL, "structure", "create", "--id-type", "SIRET", "--id", HOSPITAL, "--json")
    assert created.exit_code == 0, created.stderr
    assert created.json()["status"] == "pending"
    assert complete_as(world, SAM, "chorus structure show 2") == [COMMUNE, HOSPITAL]
    assert complete_as(world, NOEL, "chorus structure show 2") == [COMMUNE, HOSPITAL]
    assert complete_as(world, PIERRE, "chorus structure show 2") == [COMMUNE]
    assert complete_as(world, PIERRE, "chorus attach request --structure 44") == [BAKERY]
    assert complete_as(world, MARIE, "chorus structure members 441") == [BAKERY]
    assert complete_as(world, MARIE, "chorus bulk export accounts --structure 4412") == [BAKERY]
    assert complete_as(world, MARIE, "chorus structure show 9") == []


def test_out6_completion_writes_nothing_not_even_the_session_last_use(world, unchanged):
    """AUTH-3: Tab is no activity. Ten minutes on, a command would slide the session's
    last use to now (``authenticate``); completion reads it (``signed_in``) and leaves
    it: still within 30 minutes of the last command, not of the last Tab."""
    world.cli.clock.advance(minutes=10)
    with unchanged():
        assert complete_as(world, SAM, "chorus account show ")
        assert complete_as(world, SAM, "chorus structure show ")
    world.cli.clock.advance(minutes=25)  # 35 minutes after the last command
    assert complete_as(world, SAM, "chorus account show ") == []


def _lock(url: str):
    """Another process's lock that keeps readers out: SQLite's exclusive locking mode
    (its WAL index leaves shared memory), PostgreSQL's ACCESS EXCLUSIVE on account."""
    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        held = sqlite3.connect(make_url(url).database, isolation_level=None)
        held.execute("PRAGMA locking_mode=EXCLUSIVE")
        held.execute("BEGIN EXCLUSIVE")
        held.execute("UPDATE account SET first_name = first_name")
        return held
    import psycopg

    held = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    held.execute("LOCK TABLE account IN ACCESS EXCLUSIVE MODE")
    return held


def test_out6_a_locked_store_completes_nothing_and_says_nothing(world):
    held = _lock(world.cli.url)
    try:
        assert complete_as(world, SAM, "chorus account show ") == []
    finally:
        held.close()  # rolls back, lets go of the lock
    assert complete_as(world, SAM, "chorus account show sam") == [SAM]


def _console_script(
    line: str,
    url: str,
    data: Path,
    token: str,
    env_url: str | None = None,
    backend: str = "keyring.backends.fail.Keyring",
) -> tuple[str, str]:
    """Tab at the end of ``line``, pressed in a shell: the console script in a process
    of its own, its session in the keyring's 0600 file (a headless machine's)."""
    from chorus_cli.store.keychain import FALLBACK_FILE, SERVICE, FileKeyring

    # Written as a login writes it (a key the test made up would hide a reader's bug).
    (data / FALLBACK_FILE).unlink(missing_ok=True)
    FileKeyring(data / FALLBACK_FILE).set_password(SERVICE, f"session:{store_id(url)}", token)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CHORUS_DEBUG", "DBUS_SESSION_BUS_ADDRESS", "CHORUS_LANG")
    }
    env.update(
        completion_env(line),
        CHORUS_DATABASE_URL=env_url or url,
        CHORUS_DATA_DIR=str(data),
        PYTHON_KEYRING_BACKEND=backend,
    )
    chorus = Path(sys.executable).parent / "chorus"
    done = subprocess.run([str(chorus)], env=env, capture_output=True, text=True, check=False)
    return done.stdout, done.stderr


def test_out6_the_console_script_offers_the_login_of_the_session_it_finds(cli, tmp_path):
    marie = cli.logged_in(MARIE)
    [token] = MemoryKeyring.entries.values()
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    assert _console_script("chorus account show ma", cli.url, data, token) == (marie + "\n", "")
    assert _console_script("chorus account show zz", cli.url, data, token) == ("\n", "")
    assert _console_script("chorus account show ma", cli.url, data, "stale") == ("\n", "")
    # The store named on the line, as the command would use it.
    elsewhere = f"sqlite:///{tmp_path / 'other.db'}"
    line = f"chorus --db {cli.url} account show ma"
    assert _console_script(line, cli.url, data, token, env_url=elsewhere) == (marie + "\n", "")
    # A keyring that cannot even be loaded: `chorus login` kept the session in the file
    # (SEC-3), and completion finds it there too, saying nothing.
    broken = "no_such_module.Keyring"
    assert _console_script("chorus account show ma", cli.url, data, token, backend=broken) == (
        marie + "\n",
        "",
    )


def test_out6_a_missing_store_completes_nothing_creates_nothing_says_nothing(tmp_path):
    """A session in the keyring's file for a store that is not there: no value, no
    error, no store file made, and the file keyring's one-time warning kept for the
    next command."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    missing = tmp_path / "gone.db"
    url = f"sqlite:///{missing}"
    for line in ("chorus account show ", "chorus structure show 2"):
        assert _console_script(line, url, data, "a-token") == ("\n", ""), line
    assert not missing.exists()
    assert not (data / ".keyring-warning-shown").exists()


def test_out6_bash_completes_through_the_script_typer_installs(tmp_path):
    """The script ``chorus --install-completion`` writes for bash (Typer prints it for
    ``_CHORUS_COMPLETE=source_bash``), sourced by a real bash, Tab's function called as
    bash calls it."""
    chorus = Path(sys.executable).parent / "chorus"
    env = {**os.environ, "CHORUS_DATA_DIR": str(tmp_path), "PATH": f"{chorus.parent}:/usr/bin:/bin"}
    env.pop("CHORUS_DEBUG", None)
    script = subprocess.run(
        [str(chorus)], env={**env, "_CHORUS_COMPLETE": "source_bash"},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "complete -o default -F _chorus_completion chorus" in script
    press = (
        f"{script}\n"
        "COMP_WORDS=(chorus bulk export accounts --format ''); COMP_CWORD=5\n"
        "_chorus_completion chorus; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", press], env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    from chorus_cli.bulk.export import FORMATS

    assert (done.stdout.split(), done.stderr) == (list(FORMATS), "")


def test_out6_completion_builds_only_the_tree_of_the_command_on_the_line(tmp_path):
    """Start-up as a command's (``cli._tree``): the group on the line, trimmed to the
    command on it (the other groups' modules are not even imported); its subcommand's
    name still completes from the whole group."""
    from tests.test_startup import PROBE, headless

    def probe(line: str) -> tuple[list[str], dict]:
        done = subprocess.run(
            [sys.executable, "-c", PROBE], env={**headless(tmp_path), **completion_env(line)},
            capture_output=True, text=True, stdin=subprocess.DEVNULL, check=True,
        )  # fmt: skip
        return done.stdout.split(), json.loads(done.stderr.strip().splitlines()[-1])

    offered, found = probe("chorus account list --status a")
    assert offered == ["active"]
    # the modules every tree is built with (_common, the --dry-run and --fields walks),
    # and the one group on the line (`account technical`: a subgroup, a module of its own)
    loaded = [m for m in found["modules"] if m.startswith("chorus_cli.commands.")]
    assert [m for m in loaded if not m.startswith("chorus_cli.commands._")] == [
        "chorus_cli.commands.account",
        "chorus_cli.commands.technical",
    ]
    assert found["built"] == ["list"]
    offered, found = probe("chorus account sh")
    assert offered == ["show"]
    assert "list" in found["built"]
