"""SEC-11: a correspondent's scope holds on every path (flows, single commands, batch),
and a flow commits only with the rights its actor still holds (issue 17, items 1, 13).

The cast is test_provisioning's: Ada the admin and Sam support (both attached to no
structure), Corinne the correspondent of Isère (38), Marie with her private bakery, the
commune of Val-de-Briane (a public structure of 38). Ulysse has an account and no
structure. An existing account is within Corinne's scope only when every structure it
is attached to is a public structure of 38, it has at least one, and it holds no
platform role: she may not rename, re-address, attach, make primary manager or delete
any other (exit 4, the line of the flow named, nothing written).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import snapshot
from tests.test_bulk import REGIE, imported, write
from tests.test_provisioning import (
    ADA,
    BAKERY,
    COMMUNE,
    CORINNE,
    HUGO,
    LEA,
    MARIE,
    SAM,
    primary_of,
    provision,
    public_world,
)
from tests.test_structures import habilitations

ULYSSE = "ulysse.sans.structure@example.fr"
ACCOUNTS_HEADER = ("Nom", "Prénom", "Adresse e-mail", "Adresse e-mail de contact", "SIRET")
ATTACH_HEADER = ("Adresse e-mail", "SIRET")
STRUCTURES_HEADER = ("SIRET", "Géré dans Hélios", "primary_manager")
ATTACKER = "corinne.perso@example.net"
NEWCOMER = "nina.neuve@mairie-valdebriane.fr"
ROLE_HOLDERS = (ADA, SAM)


@pytest.fixture
def world(cli, tmp_path):
    world = public_world(cli, tmp_path)
    world.join(ULYSSE)
    return world


def flow(tmp_path, kind: str, target: str):
    """A flow of ``kind`` whose line 2 is a fair row (a new agent of the commune, the
    Régie, the commune's primary manager...) and line 3 names ``target``."""
    if kind == "accounts":
        rows = [
            ("Neuve", "Nina", NEWCOMER, "", COMMUNE),
            ("Pirate", "Pierre", target, ATTACKER, COMMUNE),
        ]
        return write(tmp_path, "accounts.csv", rows, ACCOUNTS_HEADER)
    if kind == "attachments":
        rows = [(HUGO, COMMUNE), (target, COMMUNE)]
        return write(tmp_path, "attachments.csv", rows, ATTACH_HEADER)
    rows = [(COMMUNE, "oui", ""), (REGIE, "oui", target)]
    return write(tmp_path, "structures.csv", rows, STRUCTURES_HEADER)


KINDS = ("accounts", "attachments", "structures")
COLUMNS = {"accounts": "Adresse e-mail", "attachments": "Adresse e-mail",
           "structures": "primary_manager"}  # fmt: skip


def refused_at_line_3(result) -> None:
    assert result.exit_code == 4, result.stderr
    errors = result.json()["errors"]
    assert [(e["line"], e["rule"]) for e in errors] == [(3, "SEC-11")], errors
    assert "SEC-11" in errors[0]["message"] and "ATT-1" in errors[0]["message"]


def with_hugo(world) -> None:
    """Hugo: an agent of the commune, provisioned by Corinne (within her scope)."""
    assert provision(world, CORINNE, LEA).exit_code == 0
    assert provision(world, CORINNE, HUGO).exit_code == 0


# --- flows: every kind, for every account outside the scope ------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("target", [ULYSSE, *ROLE_HOLDERS])
def test_sec11_flow_refuses_an_account_with_no_structure_or_a_role(
    world, tmp_path, unchanged, kind, target
):
    with_hugo(world)
    path = flow(tmp_path, kind, target)
    with unchanged():
        result = imported(world, CORINNE, path, kind)
    refused_at_line_3(result)
    assert f"Ligne 3, colonne « {COLUMNS[kind]} »" in result.stderr
    assert target in result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_sec11_flow_refuses_an_account_also_attached_outside(world, tmp_path, unchanged, kind):
    """Léa, of the commune, is attached to Marie's private bakery too (by Ada's flow)."""
    with_hugo(world)
    bakery = write(tmp_path, "bakery.csv", [(LEA, BAKERY)], ATTACH_HEADER)
    assert imported(world, ADA, bakery, "attachments").exit_code == 0
    path = flow(tmp_path, kind, LEA)
    with unchanged():
        result = imported(world, CORINNE, path, kind)
    refused_at_line_3(result)


@pytest.mark.parametrize("kind", KINDS)
def test_sec11_dry_run_refuses_as_the_real_run(world, tmp_path, unchanged, kind):
    with_hugo(world)
    with unchanged():
        result = imported(world, CORINNE, flow(tmp_path, kind, ULYSSE), kind, "--dry-run")
    refused_at_line_3(result)


def test_sec11_the_admin_is_not_renamed_nor_readdressed(world, tmp_path):
    """The attack of the issue: the admin's next notice went to the attacker."""
    result = imported(world, CORINNE, flow(tmp_path, "accounts", ADA), "accounts")
    assert result.exit_code == 4
    shown = world(ADA, "account", "show", "--json").json()
    assert shown["contact_email"] != ATTACKER and shown["last_name"] != "Pirate"
    assert world(ADA, "whoami", "--json").json()["structures"] == []


def test_sec11_a_refused_flow_leaves_delete_refused(world, tmp_path):
    """Before the fix, the flow attached Ulysse to the commune and `account delete`,
    refused a moment before, then went through."""
    assert world(CORINNE, "account", "delete", ULYSSE, "--yes").exit_code == 4
    assert imported(world, CORINNE, flow(tmp_path, "attachments", ULYSSE),
                    "attachments").exit_code == 4  # fmt: skip
    assert imported(world, CORINNE, flow(tmp_path, "accounts", ULYSSE)).exit_code == 4
    deleted = world(CORINNE, "account", "delete", ULYSSE, "--yes")
    assert deleted.exit_code == 4
    assert "PUB-1" in deleted.stderr
    assert world(ULYSSE, "whoami").exit_code == 0


# --- flows within the scope still work (PUB-1) ---------------------------------------------


def test_sec11_a_flow_within_the_scope_still_works(world, tmp_path):
    with_hugo(world)
    accounts = imported(world, CORINNE, flow(tmp_path, "accounts", HUGO))
    assert accounts.exit_code == 0, accounts.stderr
    assert (accounts.json()["created"], accounts.json()["updated"]) == (1, 1)
    exported = world(ADA, "bulk", "export", "accounts", "--format", "jsonl").stdout
    hugo = next(r for r in map(json.loads, exported.splitlines()) if r["login_email"] == HUGO)
    assert (hugo["last_name"], hugo["contact_email"]) == ("Pirate", ATTACKER)
    structures = imported(world, CORINNE, flow(tmp_path, "structures", HUGO), "structures")
    assert structures.exit_code == 0, structures.stderr
    assert primary_of(world, REGIE) == HUGO
    assert habilitations(world.cli, HUGO, REGIE)["organisation"] == "modification"
    rows = [(NEWCOMER, REGIE)]
    attached = imported(world, CORINNE, write(tmp_path, "t.csv", rows, ATTACH_HEADER),
                        "attachments")  # fmt: skip
    assert attached.exit_code == 0, attached.stderr
    assert attached.json()["created"] == 1
    assert habilitations(world.cli, NEWCOMER, REGIE)


# --- single commands ------------------------------------------------------------------------


@pytest.mark.parametrize("target", [ULYSSE, *ROLE_HOLDERS, MARIE])
def test_sec11_single_command_delete_refuses_an_account_outside(world, unchanged, target):
    with unchanged():
        refused = world(CORINNE, "account", "delete", target, "--yes")
    assert refused.exit_code == 4
    assert target in refused.stderr


def test_sec11_single_command_delete_refuses_an_account_also_attached_outside(
    world, tmp_path, unchanged
):
    with_hugo(world)
    bakery = write(tmp_path, "bakery.csv", [(HUGO, BAKERY)], ATTACH_HEADER)
    assert imported(world, ADA, bakery, "attachments").exit_code == 0
    with unchanged():
        refused = world(CORINNE, "account", "delete", HUGO, "--yes")
    assert refused.exit_code == 4
    assert BAKERY in refused.stderr


@pytest.mark.parametrize("target", [ULYSSE, ADA])
def test_sec11_single_command_create_does_not_take_an_existing_account(world, unchanged, target):
    with unchanged():
        refused = provision(world, CORINNE, target)
    assert refused.exit_code == 1  # ACC-2: the login exists; nothing of it changes
    assert "ACC-2" in refused.stderr


# --- batch: the same lines, run by `chorus batch` -------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", [(), ("--atomic",), ("--keep-going",)])
def test_sec11_batch_runs_the_same_refusal(world, tmp_path, unchanged, kind, mode):
    with_hugo(world)
    path = flow(tmp_path, kind, ULYSSE)
    lines = f"whoami\nbulk import {path} --kind {kind}\n"
    with unchanged():
        result = world(CORINNE, "batch", "-", *mode, input=lines)
    assert result.exit_code == 4, result.stderr
    assert "ligne 2" in result.stderr  # the batch's line
    assert f"Ligne 3, colonne « {COLUMNS[kind]} »" in result.stderr  # the flow's line
    assert "SEC-11" in result.stderr


def test_sec11_batch_delete_refuses_as_the_single_command(world, unchanged):
    lines = f"account delete {ULYSSE} --yes\naccount delete {ADA} --yes\n"
    with unchanged():
        result = world(CORINNE, "batch", "-", "--keep-going", input=lines)
    assert result.exit_code == 4
    assert "ligne 1" in result.stderr and "ligne 2" in result.stderr


# --- rights read again in the transaction that commits (issue 17, item 13) ----------------


def _import_held(env, argv, written, go, stderr_path) -> None:
    """The import of ``argv`` in this forked process: once its rows are checked and
    written (not committed), it says so and waits for ``go``, then ends as it would."""
    import io
    import os
    import sys

    from chorus_cli.bulk import load
    from chorus_cli.cli import main
    from chorus_cli.store import engine as engine_module

    for engine in engine_module._engines.values():
        engine.dispose(close=False)
    engine_module._engines.clear()
    os.environ.update(env)
    flush = load.Loader.flush

    def flush_then_wait(self):  # type: ignore[no-untyped-def]
        flush(self)
        written.set()
        go.wait(60)

    load.Loader.flush = flush_then_wait
    sys.stdin, sys.stdout = io.StringIO(), io.StringIO()
    with open(stderr_path, "w", encoding="utf-8") as sys.stderr:
        main(argv)


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_sec11_a_role_revoked_during_an_import_stops_its_commit(world, tmp_path):
    """PostgreSQL: Ada revokes Corinne's role from another connection while Corinne's
    import, its rows checked and written, has not committed; the import then ends in
    exit 4 and leaves the store as the revocation left it."""
    import multiprocessing

    from tests.memory_keyring import MemoryKeyring

    path = flow(tmp_path, "accounts", HUGO)  # two agents of the commune: within scope
    MemoryKeyring.entries = dict(world.sessions[CORINNE])
    context = multiprocessing.get_context("fork")
    written, go = context.Event(), context.Event()
    stderr_path = tmp_path / "import.err"
    argv = ["bulk", "import", str(path), "--kind", "accounts"]
    child = context.Process(
        target=_import_held, args=(world.cli.env, argv, written, go, stderr_path)
    )
    child.start()
    try:
        assert written.wait(timeout=60), "the import never wrote its rows"
        revoked = world(ADA, "admin", "revoke-role", CORINNE, "correspondent",
                        "--department", "38")  # fmt: skip
        assert revoked.exit_code == 0, revoked.stderr
        before = snapshot(world.cli.url)  # the revocation, not the import's rows
    finally:
        go.set()
        child.join(timeout=60)
    assert child.exitcode == 4, stderr_path.read_text(encoding="utf-8")
    said = stderr_path.read_text(encoding="utf-8")
    assert "SEC-11" in said and "correspondent 38" in said
    from chorus_cli.store import engine as engine_module

    engine_module.dispose_all()
    assert snapshot(world.cli.url) == before
    assert NEWCOMER not in {m["to"] for m in world.cli.mails()}


def _hold_after_the_check(env, argv, checked, go, stderr_path) -> None:
    """The import of ``argv`` in this forked process: once it has read its rights again
    (before its commit), it says so and waits for ``go``."""
    from chorus_cli.domain import authz

    confirm = authz.confirm_scope

    def confirm_then_wait(*args):  # type: ignore[no-untyped-def]
        confirm(*args)
        checked.set()
        go.wait(60)

    authz.confirm_scope = confirm_then_wait
    _run_forked(env, argv, stderr_path)


def _run_forked(env, argv, stderr_path, entries=None) -> None:
    import io
    import os
    import sys

    from chorus_cli.cli import main
    from chorus_cli.store import engine as engine_module

    for engine in engine_module._engines.values():
        engine.dispose(close=False)
    engine_module._engines.clear()
    os.environ.update(env)
    if entries is not None:
        from tests.memory_keyring import MemoryKeyring

        MemoryKeyring.entries = entries
    sys.stdin, sys.stdout = io.StringIO(), io.StringIO()
    with open(stderr_path, "w", encoding="utf-8") as sys.stderr:
        main(argv)


def _waiting_on_role_grant(url: str) -> bool:
    """Whether some session of this database waits for a lock on a role (PostgreSQL)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock' AND query ILIKE '%role_grant%'"
                    )
                ).scalar()
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_sec11_a_revocation_after_the_check_waits_for_the_import(world, tmp_path):
    """PostgreSQL: once the import has read its rights again, a revocation from another
    connection waits for the import's commit (the roles are read FOR SHARE): the import
    lands whole with the rights it was checked with, then the role goes."""
    import multiprocessing
    import time

    path = flow(tmp_path, "accounts", HUGO)  # two new agents of the commune
    context = multiprocessing.get_context("fork")
    checked, go = context.Event(), context.Event()
    argv = ["bulk", "import", str(path), "--kind", "accounts"]
    importer = context.Process(
        target=_hold_after_the_check,
        args=(world.cli.env, argv, checked, go, tmp_path / "import.err"),
    )
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries = dict(world.sessions[CORINNE])
    importer.start()
    revoker = None
    try:
        assert checked.wait(timeout=60), "the import never read its rights again"
        revoke = ["admin", "revoke-role", CORINNE, "correspondent", "--department", "38"]
        revoker = context.Process(
            target=_run_forked,
            args=(world.cli.env, revoke, tmp_path / "revoke.err", dict(world.sessions[ADA])),
        )
        revoker.start()
        deadline = time.monotonic() + 60  # a guard against a hang, not a measure
        while not _waiting_on_role_grant(world.cli.url):
            assert revoker.is_alive(), (tmp_path / "revoke.err").read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the revocation never waited for the import"
            time.sleep(0.05)
    finally:
        go.set()
        importer.join(timeout=60)
        if revoker is not None:
            revoker.join(timeout=60)
    assert importer.exitcode == 0, (tmp_path / "import.err").read_text(encoding="utf-8")
    assert revoker.exitcode == 0, (tmp_path / "revoke.err").read_text(encoding="utf-8")
    from chorus_cli.store import engine as engine_module

    engine_module.dispose_all()
    assert {NEWCOMER, HUGO} <= {m["to"] for m in world.cli.mails()}  # the import landed
    roles = world(ADA, "admin", "roles", "--json").json()
    assert (CORINNE, "correspondent") not in {(r["login_email"], r["role"]) for r in roles}
