"""HAB-6, PUB-1: who may run which command, one table for the commands outside
structures, attachments and habilitations (those have theirs in test_habilitations.py
and test_structures.py), and a check that every command of the tree is in a table.

The world is test_habilitations' (built once per store, cloned per command): Pierre a
plain member, Sam support, Ada admin; ``None`` runs with no session. Each command runs
on its own clone, refusals first, and a refusal (exit 4, or 5 with no session) leaves
the store exactly as it was.
"""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, Runner, snapshot
from tests.memory_keyring import MemoryKeyring
from tests.test_habilitations import ADA, PAUL, PIERRE, SAM
from tests.test_habilitations import AUTHORISATION as PROFILE_TABLE
from tests.test_habilitations import table_world as table_world  # the shared world
from tests.test_structures import AUTHORISATION as STRUCTURE_TABLE
from tests.test_structures import RIDET

ACTORS = {"member": PIERRE, "support": SAM, "admin": ADA, "anonymous": None}
PW = PASSWORD + "\n"
NEW = "{new}"  # an address of its own for each actor: new.<actor>@example.fr
# (command, stdin) -> exit code for (member, support, admin, anonymous)
AUTHORISATION = {
    # the session (AUTH)
    (("whoami",), None): (0, 0, 0, 5),
    (("logout",), None): (0, 0, 0, 0),
    # «Mon compte» (ACC, SET, MFA-1): one's own account, a session needed
    (("account", "show"), None): (0, 0, 0, 5),
    (("account", "update", "--phone", "0102030405"), None): (0, 0, 0, 5),
    (("account", "photo", "--remove"), None): (0, 0, 0, 5),
    (("account", "preferences", "--surveys", "on"), None): (0, 0, 0, 5),
    (("account", "notifications", "--weekly"), None): (0, 0, 0, 5),
    (("account", "password", "--password-stdin"), PW + "Aut2e-Mot-de-Passe!\n"): (0, 0, 0, 5),
    (("account", "deactivate"), None): (2, 2, 1, 5),  # --yes required; Ada: the last admin
    (("account", "history"), None): (0, 0, 0, 5),
    # accounts of others: support and admin (AUTH-2), admin and correspondents (PUB-1)
    (("account", "unlock", PIERRE), None): (4, 0, 0, 5),
    (("account", "list"), None): (4, 0, 0, 5),
    (("account", "delete", PAUL, "--yes"), None): (4, 4, 0, 5),
    # support's view of an account and its suspension (MEM-3, MEM-4): Pierre manages no
    # structure Sam is attached to; support suspends Paul first, so Ada finds it done (1)
    (("account", "show", SAM), None): (4, 0, 0, 5),
    (("account", "suspend", PAUL, "--reason", "Départ"), None): (4, 0, 1, 5),
    (("account", "restore", PAUL), None): (4, 1, 1, 5),  # Paul is not suspended
    (("account", "create", "--email", NEW, "--last-name", "N",
      "--first-name", "N"), None): (0, 0, 0, 0),
    # second factors (MFA): one's own
    (("mfa", "list"), None): (0, 0, 0, 5),
    (("mfa", "key", "list"), None): (0, 0, 0, 5),
    (("mfa", "totp", "confirm", "123456"), None): (6, 6, 6, 5),  # no enrolment under way
    (("mfa", "totp", "remove", "--password-stdin"), PW): (3, 3, 3, 5),  # none to remove
    (("mfa", "key", "remove", "1", "--password-stdin"), PW): (3, 3, 3, 5),
    # platform roles (PUB-1)
    (("admin", "grant-role", PIERRE, "support"), None): (4, 4, 0, 5),
    (("admin", "revoke-role", SAM, "support"), None): (4, 4, 0, 5),
    (("admin", "roles"), None): (4, 0, 0, 5),
    (("admin", "bootstrap", "--email", "x@example.fr", "--last-name", "X", "--first-name",
      "X"), None): (1, 1, 1, 1),  # there is an admin already
    # the outbox (SPEC), the audit log (OPS-4)
    (("mail", "list"), None): (0, 0, 0, 0),
    (("audit", "list"), None): (0, 0, 0, 5),  # everyone: their own activity
    (("audit", "list", "--actor", ADA), None): (0, 0, 0, 5),
    # SIRENE (STR-2): reading for anyone logged in, the index and the key for operators
    (("sirene", "lookup", "55203253400034"), None): (3, 3, 3, 5),
    (("sirene", "search", "boulangerie"), None): (0, 0, 0, 5),
    (("sirene", "configure-api", "--remove"), None): (4, 0, 0, 5),
    (("sirene", "import", "/nonexistent.csv"), None): (4, 2, 2, 5),
    (("sirene", "update", "--since", "not-a-date"), None): (4, 2, 2, 5),
    # a structure's people (MEM-1): Pierre is a plain member, not a manager (remove-member:
    # test_habilitations' table, one store per cell, and tests/test_members.py)
    (("structure", "members", RIDET), None): (4, 0, 0, 5),
    # flows (OPS-1, OPS-2): admin, support, correspondents
    (("bulk", "export", "accounts"), None): (4, 0, 0, 5),
    (("login-address", "status"), None): (0, 0, 0, 5),
    (("login-address", "change", "nouveau@example.fr", "--account", RIDET), None):
        (4, 3, 3, 5),
    (("db", "rotate-key"), None): (4, 4, 0, 5),
    # technical accounts (TECH-1, TECH-2): the primary manager or an admin; none exists
    # yet to reset or delete (3); the listing shows what one may see
    (("account", "technical", "create", "--structure", RIDET), None): (4, 4, 0, 5),
    (("account", "technical", "list"), None): (0, 0, 0, 5),
    (("account", "technical", "reset-password", f"TECH_1_{RIDET}@cpro.fr"), None): (3, 3, 3, 5),
    (("account", "technical", "delete", f"TECH_1_{RIDET}@cpro.fr", "--yes"), None):
        (3, 3, 3, 5),
    # API clients (API-2): admins
    (("api", "client", "add", "ERP"), None): (4, 4, 0, 5),
    (("api", "client", "list"), None): (4, 4, 0, 5),
    (("api", "client", "remove", "ERP"), None): (4, 4, 3, 5),
}  # fmt: skip
# Commands with no right to check, each with why: run before any session exists, by
# the operator of the store's machine, or a link from a mail is the proof.
OPEN = {
    "login": "opens the session",
    "account activate": "the activation link is the proof (ACC-3)",
    "account forgot-password": "anyone, never says whether the account exists (ACC-6)",
    "account reset-password": "the reset link is the proof (ACC-6)",
    "account reactivate": "the owner's password and second factor are the proof (SET-4)",
    "login-address confirm": "the confirmation link is the proof (LA)",
    "login-address cancel": "one's own change under way (LA)",
    "mfa totp add": "one's own factor; needs the store machine's seed key (test_mfa.py)",
    "mfa key add": "needs a security key at hand; one's own, as mfa totp add",
    "mail show": "as mail list: the local outbox of the store's operator",
    "mail send-pending": "the store's operator delivers the outbox",
    "mail retry": "the store's operator acts on its outbox (SEC-8; audited)",
    "mail discard": "the store's operator acts on its outbox (SEC-8; audited)",
    "mail password": "the store's operator keeps the SMTP password in its own keychain (SEC-8)",
    "notify weekly": "the store's operator sends the weekly summaries (SET-2)",
    "db upgrade": "the store's operator, before any account exists",
    "db backup": "the store's operator (a file copy)",
    "db copy": "the store's operator (into another store)",
    "seed": "the store's operator fills an empty store with made-up data",
    "serve": "the store's operator serves it; each request has its technical account's rights "
    "(API-2, TECH-1: tests/test_serve.py)",
    "demo": "runs in its own temporary store",
    "batch": "runs the real commands, each checked as in these tables",
    "bulk import": "as bulk export: oversight_scope, tests/test_bulk.py",
}


def _run(world, url: str, who: str | None, args: tuple[str, ...], stdin: str | None):
    if who is None:
        MemoryKeyring.entries = {}
        return Runner(url, world.home, world.clock)(*args, input=stdin)
    from chorus_cli.store.keychain import store_id

    old, new = store_id(world.url), store_id(url)
    MemoryKeyring.entries = {
        (service, user.replace(old, new)): secret
        for (service, user), secret in world.sessions[who].items()
    }
    return Runner(url, world.home, world.clock)(*args, input=stdin)


@pytest.mark.parametrize(
    "entry", list(AUTHORISATION), ids=lambda e: " ".join(a for a in e[0][:3] if a[0] != "-")
)
def test_hab6_authorisation_of_every_account_admin_sirene_and_operator_command(table_world, entry):
    """One clone per command: refusals first (each must change nothing), then the
    actors who may act."""
    args, stdin = entry
    expected = dict(zip(ACTORS, AUTHORISATION[entry], strict=True))
    order = sorted(expected, key=lambda kind: expected[kind] not in (4, 5))
    url = table_world.clone()
    failures = []
    try:
        for kind in order:
            before = snapshot(url) if expected[kind] in (4, 5) else None
            typed = tuple(a.replace(NEW, f"new.{kind}@example.fr") for a in args)
            result = _run(table_world, url, ACTORS[kind], typed, stdin)
            if result.exit_code != expected[kind]:
                failures.append((kind, expected[kind], result.exit_code, result.stderr.strip()))
            elif before is not None and snapshot(url) != before:
                failures.append((kind, "a refusal changed the store"))
    finally:
        table_world.drop(url)
    assert failures == [], failures


def test_hab6_every_command_of_the_tree_is_in_an_authorisation_table():
    import typer

    from chorus_cli.cli import app
    from tests.test_docs import command_paths

    def path(args: tuple[str, ...]) -> str:
        return " ".join(a for a in args[:3] if not a.startswith("-"))

    covered = {path(args) for args, _stdin in AUTHORISATION}
    covered |= {path(command) for command in PROFILE_TABLE}
    covered |= {path(("structure", *command)) for command in STRUCTURE_TABLE}
    covered |= set(OPEN)
    paths = set(command_paths(typer.main.get_command(app)))
    missing = {p for p in paths if not any(c == p or c.startswith(p + " ") for c in covered)}
    assert missing == set()
