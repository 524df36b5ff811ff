"""Start-up (issue 21, PERFORMANCE.md): `chorus --help` within 1.3x of importing Typer and
Rich, a store command within 1.2x of importing SQLModel. Speed is measured by `make bench`
(benchmarks/run.py), never here; these tests guard what makes it, without timing anything:
what a fresh process imports, and how much of the command tree it builds.

Each command line runs in a fresh Python process (an import made by an earlier test would
hide one), on a SQLite store with a logged-in account, as a headless user runs it (no
session bus: the session token is in the 0600 file, SECURITY.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

# Modules no start-up shown here needs: each costs from 10 ms (argon2) to 720 ms (alembic)
# to import (PERFORMANCE.md), and is imported by the commands that use it, when they do.
HEAVY = (
    "alembic",
    "keyring",
    "rich",
    "httpx",
    "babel",
    "phonenumbers",
    "email_validator",
    "stdnum",
    "argon2",
    "fido2",
    "qrcode",
    "PIL",
    "python_calamine",
    "openpyxl",
    "starlette",  # the web stack: `chorus serve` alone
    "uvicorn",
    "psycopg",
    "sqlalchemy.dialects.postgresql",  # loaded by a `postgresql_where` on a SQLite store
)
# What reading the store costs: not for `chorus --help`.
STORE = ("sqlalchemy", "sqlmodel", "pydantic")

# Run in the child: chorus' entry point with the line given, then what it imported, which
# commands Typer built (each one costs its parameters' signatures) and which message
# catalogues it read, on stderr.
PROBE = """
import json, sys
import typer.main

built = []
build = typer.main.get_command_from_info


def counted(command_info, **kwargs):
    name = command_info.name or command_info.callback.__name__.lower().replace("_", "-")
    built.append(name)
    return build(command_info, **kwargs)


typer.main.get_command_from_info = counted
import chorus_cli.i18n

read = []  # the catalogues read: (domain, language)
catalogue = chorus_cli.i18n.catalogue
chorus_cli.i18n.catalogue = lambda *key: read.append(key) or catalogue(*key)
from chorus_cli.cli import main

try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sqlmodel = sys.modules.get("sqlmodel")
tables = sorted(sqlmodel.SQLModel.metadata.tables) if sqlmodel else []
mappers = len(sqlmodel.SQLModel._sa_registry.mappers) if sqlmodel else 0
print(json.dumps({"code": code, "modules": sorted(sys.modules), "built": built, "tables": tables,
                  "mappers": mappers, "catalogues": sorted(set(read))}),
      file=sys.stderr)  # fmt: skip
"""


def headless(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHORUS_", "PYTHON_KEYRING", "DBUS_SESSION", "PYTHONPROFILEIMPORT"))
    }
    env.update(
        CHORUS_DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}",
        CHORUS_DATA_DIR=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
    )
    return env


def chorus(env: dict[str, str], *args: str, input: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "chorus_cli", *args],
        env=env, input=input, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def probe(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    found = json.loads(done.stderr.strip().splitlines()[-1])
    assert found["code"] == 0, done.stderr
    return found


@pytest.fixture(scope="module")
def logged_in(tmp_path_factory) -> dict[str, str]:
    """A headless user's environment: a migrated SQLite store, an account logged in."""
    env = headless(tmp_path_factory.mktemp("startup"))
    email = "ada.lovelace@example.fr"
    chorus(env, "db", "upgrade")
    chorus(env, "account", "create", "--email", email, "--last-name", "Lovelace",
           "--first-name", "Ada")  # fmt: skip

    def last_mail() -> str:
        return json.loads(chorus(env, "mail", "list", "--json", "--to", email))[0]["body"]

    link = re.search(r"https?://\S+token=\S+", last_mail()).group(0)
    chorus(env, "account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    chorus(env, "login", email, "--password-stdin", input=PASSWORD + "\n")
    chorus(env, "login", email, "--code", re.search(r"\b\d{6}\b", last_mail()).group(0))
    return env


def heavy(modules: list[str], more: tuple[str, ...] = ()) -> list[str]:
    return [m for m in modules if m.startswith(tuple(f"{h}." for h in HEAVY + more))
            or m in HEAVY + more]  # fmt: skip


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_startup_help_imports_typer_alone_and_builds_no_group(tmp_path, lang):
    """`chorus --help` lists the groups from their own texts: no store module, no heavy
    one, and no command of any group built (the regression of issue 21: the whole tree,
    with its --dry-run and --fields walks, was built to list thirteen summaries)."""
    from chorus_cli.cli import COMMANDS, GROUPS

    found = probe(headless(tmp_path), "--help", "--lang", lang)
    assert heavy(found["modules"], STORE) == []
    assert ["help", lang] in found["catalogues"]  # what the probe sees: it sees help read
    # The top-level commands (login, whoami…) are built, being listed; no group's command.
    assert sorted(found["built"]) == sorted(COMMANDS)
    groups = [m for m in found["modules"] if m.startswith("chorus_cli.commands.")]
    assert {m.rsplit(".", 1)[1] for m in groups} >= {module for module, _ in GROUPS.values()}


@pytest.mark.parametrize(
    "line, tables",
    [
        (["whoami"], []),
        (["whoami", "--lang", "en"], []),
        (["whoami", "--json"], []),
        (["mail", "list", "--json"], []),
        (["mail", "list", "--json", "--lang", "en"], []),
        (["account", "show", "--json"], []),
        (["account", "show", "--json", "--lang", "en"], []),
    ],
)
def test_startup_store_command_imports_and_builds_only_what_it_runs(logged_in, line, tables):
    """A store command (whoami, mail list, account show) imports no heavy module (no Rich
    for JSON or a record, no Alembic for the schema check, no keyring on a headless
    machine, no PostgreSQL dialect on a SQLite store), defines only the tables it reads
    (these three none: the session, the account, its roles and structures, the outbox
    are read by plain SQL), builds only its command, and reads no help catalogue."""
    found = probe(logged_in, *line)
    assert heavy(found["modules"]) == []
    models = [
        m.rsplit(".", 1)[1] for m in found["modules"] if m.startswith("chorus_cli.store.models_")
    ]
    assert models == [f"models_{t}" for t in tables if t != "account"]
    assert found["tables"] == tables
    assert found["built"] == [line[1] if line[0] in ("mail", "account") else line[0]]
    # SET-5: help text is translated when help is shown; a command that runs reads none.
    assert [domain for domain, _lang in found["catalogues"]] in ([], ["messages"])


@pytest.mark.parametrize(
    "line",
    [
        ["whoami"],
        ["whoami", "--lang", "en"],
        ["whoami", "--format", "csv"],
        ["account", "show"],
        ["account", "show", "--json", "--lang", "en"],
    ],
)
def test_startup_whoami_and_account_show_load_no_orm_class(logged_in, line):
    """AUTH-3, MEM-3: whoami and account show only show the logged-in account: it is read
    as a record by plain SQL (``store.account_record``), so that no SQLModel class is
    defined and SQLAlchemy configures no mapper (the ``Account`` class and its mapper
    were the largest part of these commands' start-up past SQLModel's import)."""
    found = probe(logged_in, *line)
    assert "chorus_cli.store.models" not in found["modules"]
    assert found["mappers"] == 0
    assert found["tables"] == []


@pytest.mark.parametrize(
    "line, offered",
    [("chorus account show a", ["ada.lovelace@example.fr"]), ("chorus structure show 4", [])],
)
def test_startup_out6_tab_from_the_store_loads_no_orm_class(logged_in, line, offered):
    """OUT-6: Tab of a login or a structure identifier reads the session, the account
    and who sees what (MEM-3's ``authz.seen_accounts``, STR-9's ``findable_structures``)
    on plain tables (``store.plain``): no SQLModel class defined, no mapper configured,
    so that a key press costs no more than a store command's start-up."""
    env = {**logged_in, "_CHORUS_COMPLETE": "complete_bash", "COMP_WORDS": line,
           "COMP_CWORD": str(len(line.split(" ")) - 1)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    found = json.loads(done.stderr.strip().splitlines()[-1])
    assert done.stdout.split() == offered
    assert heavy(found["modules"]) == []
    assert "chorus_cli.store.models" not in found["modules"]
    assert (found["tables"], found["mappers"]) == ([], 0)


# Every table of ``store.plain``, and its model.
PLAIN = {
    "mail": "Mail", "account": "Account", "attachment": "Attachment", "structure": "Structure",
    "role_grant": "RoleGrant", "habilitation": "Habilitation", "auth_session": "AuthSession",
}  # fmt: skip


def test_startup_plain_tables_are_their_models_columns_typed_alike():
    """What `mail list` and the rights shell completion asks (``authz``) read by plain SQL
    (``store.plain``) is the models': each column is one of its model's, with the same
    type, so neither can drift from the schema unnoticed."""
    from sqlalchemy import String
    from sqlmodel.sql.sqltypes import AutoString

    from chorus_cli.store import models, plain

    made = [n for n, v in vars(plain).items() if getattr(v, "__module__", "") == plain.__name__]
    assert {n for n in made if not n.startswith("_")} == set(PLAIN)
    for name, model_name in PLAIN.items():
        light, model = getattr(plain, name)(), getattr(models, model_name).__table__
        assert light.name == model.name
        for column in light.c:
            assert column.name in model.c, (light.name, column.name)
            typed = model.c[column.name].type  # SQLModel's AutoString is a String to read
            assert type(column.type) is (String if isinstance(typed, AutoString) else type(typed))


def test_startup_account_record_is_the_account_s_shown_columns_and_no_secret():
    """AUTH-3, MEM-3: the record whoami and account show read (``store.account_record``,
    its query made from its fields) names the account's own columns (the photo's size in
    place of its bytes, SET-1), each typed and nullable as the model's, and never its
    password hash."""
    from sqlalchemy import String
    from sqlmodel.sql.sqltypes import AutoString

    from chorus_cli.store.account_record import AccountRecord, annotations, sql_type
    from chorus_cli.store.models import Account

    fields = set(AccountRecord._fields)
    assert fields - set(Account.__table__.c.keys()) == {"photo_size"}
    assert not fields & {"password_hash", "photo"}
    for name, annotation in annotations().items():
        if name == "photo_size":
            continue
        model = Account.__table__.c[name]
        expected = String if isinstance(model.type, AutoString) else type(model.type)
        assert type(sql_type(annotation)) is expected, (name, annotation)
        assert ("None" in annotation) == (model.nullable and not model.primary_key), name


def test_startup_shown_account_is_the_model_or_the_record_and_loads_neither():
    """AUTH-3, MEM-3, OUT-6: the account the use cases that only read it take
    (``store.shown.ShownAccount``: whoami, account show, the rights, shell completion) is
    the ``Account`` model or the record read to show it (``store.account_record``): an
    alias a type checker reads on both, no third list of the fields to keep (the record
    names the model's columns: the test above), and importing it defines neither class."""
    from chorus_cli.store.account_record import AccountRecord
    from chorus_cli.store.models import Account

    code = (
        "import sys; from chorus_cli.store.shown import ShownAccount; print(ShownAccount); "
        "print(sorted(m for m in sys.modules if m.startswith('chorus_cli.store.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    alias, loaded = done.stdout.splitlines()
    named = {"Account": Account, "AccountRecord": AccountRecord}
    assert eval(alias, named) == Account | AccountRecord
    assert loaded == "['chorus_cli.store.shown']"


def test_startup_help_of_a_group_still_lists_every_command(tmp_path):
    """Trimming the tree never trims what is shown: a group's help, or a word that is no
    command of it (Click's suggestion needs the names), builds the whole group."""
    env = headless(tmp_path)
    shown = probe(env, "account", "--help")
    import typer

    from chorus_cli.cli import make_app

    def leaves(group) -> list[str]:  # a subgroup (account technical) is no built command
        found = []
        for name, command in group.commands.items():
            found += leaves(command) if hasattr(command, "commands") else [name]
        return found

    whole = typer.main.get_command(make_app("account")).commands["account"]
    assert sorted(shown["built"]) == sorted(leaves(whole))
    done = subprocess.run(
        [sys.executable, "-m", "chorus_cli", "account", "shw", "--lang", "en"], env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "No such command 'shw'" in done.stderr and "show" in done.stderr
