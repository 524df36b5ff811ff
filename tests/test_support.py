"""MEM-3, MEM-4, MEM-7: support's view of an account, suspending and restoring it, and
deactivating with a successor (issue 19, items 3, 4 and 7).

The cast is test_provisioning's public world: Ada the admin, Sam support, Corinne the
correspondent of Isère (38), Paul the correspondent of Paris (75), Marie the primary
manager of her private bakery, the commune of Val-de-Briane (public, 38). Added here:
Léa, the commune's primary manager (provisioned by Corinne, then activated and logged
in), Hugo a pending agent of the commune, and Ulysse, a plain member of Marie's bakery.
"""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.test_bulk import imported, write
from tests.test_provisioning import (
    ADA,
    BAKERY,
    CORINNE,
    HUGO,
    LEA,
    MARIE,
    PAUL,
    SAM,
    provision,
    public_world,
)
from tests.test_structures import cloned

ULYSSE = "ulysse.boulanger@example.fr"
NOBODY = "personne@example.fr"


def support_world(cli):
    world = public_world(cli, cli.home.parent)
    world.join(ULYSSE)
    flow = write(cli.home.parent, "bakery.csv", [(ULYSSE, BAKERY)], ("Adresse e-mail", "SIRET"))
    assert imported(world, ADA, flow, "attachments").exit_code == 0
    assert provision(world, CORINNE, LEA).exit_code == 0
    assert provision(world, CORINNE, HUGO).exit_code == 0
    activated = cli("account", "activate", cli.last_link(LEA), "--password-stdin",
                    input=PASSWORD + "\n")  # fmt: skip
    assert activated.exit_code == 0, activated.stderr
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries = {}
    assert cli.login(LEA).exit_code == 0
    world.sessions[LEA] = dict(MemoryKeyring.entries)
    return world


@pytest.fixture
def world(cli, worlds):
    return cloned(worlds, cli, "support", support_world)


def shown(world, who, email):
    return world(who, "account", "show", email, "--json")


# --- MEM-3: account show EMAIL ---------------------------------------------------------

# (actor, target) -> exit code: every role, in scope and out of it.
SHOW = {
    (SAM, LEA): 0, (SAM, MARIE): 0, (SAM, ADA): 0,
    (ADA, LEA): 0, (ADA, ULYSSE): 0,
    (CORINNE, LEA): 0, (CORINNE, HUGO): 0,  # public-entity accounts of 38
    (CORINNE, MARIE): 4, (CORINNE, ULYSSE): 4, (CORINNE, SAM): 4,  # outside SEC-11's scope
    (PAUL, LEA): 4,  # the correspondent of another département
    (MARIE, ULYSSE): 0,  # the bakery's manager sees its members
    (MARIE, LEA): 4,  # not attached to a structure she manages
    (LEA, HUGO): 0,  # the commune's primary manager
    (LEA, ULYSSE): 4,
    (ULYSSE, MARIE): 4,  # a plain member sees no one
    (ULYSSE, ULYSSE): 0,  # one's own account, named
}  # fmt: skip


@pytest.mark.parametrize(("actor", "target"), list(SHOW), ids=lambda e: e.split("@")[0])
def test_mem3_who_sees_another_account(world, unchanged, actor, target):
    with unchanged():
        result = shown(world, actor, target)
    assert result.exit_code == SHOW[actor, target], result.stderr
    if result.exit_code == 0:
        assert result.json()["login_email"] == target
    else:
        assert "MEM-3" in result.stderr and target in result.stderr
        assert result.stdout == ""


def test_mem3_an_unknown_account_is_refused_as_one_out_of_scope(world):
    """No difference between "not found" and "not allowed" for those not allowed: the
    answer never tells a manager or a correspondent whether an address has an account."""
    absent, hidden = shown(world, CORINNE, NOBODY), shown(world, CORINNE, MARIE)
    assert (absent.exit_code, hidden.exit_code) == (4, 4)
    assert absent.stderr.replace(NOBODY, "X") == hidden.stderr.replace(MARIE, "X")
    assert shown(world, ULYSSE, NOBODY).exit_code == 4
    found = shown(world, SAM, NOBODY)  # support may see everything: it is told
    assert found.exit_code == 3 and NOBODY in found.stderr


def test_mem3_support_sees_the_whole_account_and_never_a_secret(world, cli):
    added = world(ULYSSE, "mfa", "totp", "add", "--name", "Téléphone pro", "--json",
                  input=PASSWORD + "\n")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    secret = added.json()["secret"]
    for _ in range(5):  # five wrong passwords lock the account (AUTH-2)
        cli("login", ULYSSE, "--password-stdin", input="Mauvais-Mot-2-Passe!\n")
    result = shown(world, SAM, ULYSSE)
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["status"] == "locked" and data["locked_until"] is not None
    assert data["last_login_at"] is not None  # Ulysse logged in when he joined
    assert data["factors"] == []  # the app is not confirmed: not a factor yet
    assert data["pending_login_change"] is None
    assert data["roles"] == []
    assert [s["identifier"] for s in data["structures"]] == [BAKERY]
    assert secret not in result.stdout
    # Sam's own view has the same new fields.
    own = world(SAM, "account", "show", "--json").json()
    assert own["roles"] == ["support"] and own["last_login_at"] is not None
    assert {"factors", "locked_until", "pending_login_change", "structures"} <= set(own)


def test_mem3_factors_and_pending_login_change_are_listed(world, cli):
    from tests.test_mfa import enrol

    world(ULYSSE, "whoami")  # Ulysse's session for the next commands
    secret = enrol(cli, "Téléphone")
    new = "ulysse@nouveau.fr"
    change = cli("login-address", "change", new, input=f"{PASSWORD}\n{new}\n")
    assert change.exit_code == 0, change.stderr
    result = shown(world, MARIE, ULYSSE)
    data = result.json()
    assert [(f["kind"], f["name"]) for f in data["factors"]] == [("totp", "Téléphone")]
    assert set(data["factors"][0]) == {"kind", "name", "added_at", "last_used_at"}
    assert data["factors"][0]["added_at"] is not None
    assert data["pending_login_change"]["new_email"] == new
    assert secret not in result.stdout


def test_mem3_last_login_at_is_set_at_login(world, cli):
    from chorus_cli.kernel.clock import iso

    assert shown(world, SAM, HUGO).json()["last_login_at"] is None  # never logged in
    cli.clock.advance(minutes=5)
    assert cli.login(MARIE).exit_code == 0
    assert shown(world, SAM, MARIE).json()["last_login_at"] == iso(cli.clock.now())


# --- MEM-4: suspend and restore -------------------------------------------------------

# (actor, target) -> exit code of `account suspend`
SUSPEND = {
    (SAM, ULYSSE): 0, (SAM, LEA): 0, (SAM, MARIE): 0,
    (SAM, ADA): 4,  # support cannot suspend an admin
    (SAM, CORINNE): 4,  # nor any platform role holder (PUB-1)
    (ADA, SAM): 0, (ADA, ULYSSE): 0,
    (CORINNE, LEA): 0, (CORINNE, HUGO): 0,  # within her scope
    (CORINNE, ULYSSE): 4, (CORINNE, SAM): 4, (CORINNE, NOBODY): 4,
    (PAUL, LEA): 4,
    (MARIE, ULYSSE): 4,  # a manager sees, but does not suspend
    (ULYSSE, MARIE): 4,
    (SAM, SAM): 1, (ADA, ADA): 1,  # one's own: SET-4's deactivation is for that
    (SAM, NOBODY): 3,
}  # fmt: skip


@pytest.mark.parametrize(("actor", "target"), list(SUSPEND), ids=lambda e: e.split("@")[0])
def test_mem4_who_may_suspend(world, unchanged, actor, target):
    expected = SUSPEND[actor, target]
    if expected:
        with unchanged():
            result = world(actor, "account", "suspend", target, "--reason", "Départ")
        assert result.exit_code == expected, result.stderr
        assert "MEM-4" in result.stderr or expected == 3
        return
    result = world(actor, "account", "suspend", target, "--reason", "Départ")
    assert result.exit_code == 0, result.stderr
    assert shown(world, ADA, target).json()["status"] == "suspended"
    with unchanged():
        again = world(actor, "account", "suspend", target, "--reason", "Départ")
    assert again.exit_code == 1 and "MEM-4" in again.stderr
    restored = world(actor, "account", "restore", target)
    assert restored.exit_code == 0, restored.stderr


RESTORE = [k for k, v in SUSPEND.items() if v == 4 and k[1] != ADA]  # Ada: the only admin


@pytest.mark.parametrize(("actor", "target"), RESTORE, ids=lambda e: e.split("@")[0])
def test_mem4_who_may_restore(world, unchanged, actor, target):
    if target != NOBODY:
        assert world(ADA, "account", "suspend", target, "--reason", "x").exit_code == 0
    with unchanged():
        result = world(actor, "account", "restore", target)
    assert result.exit_code == 4, result.stderr


def test_mem4_suspension_ends_sessions_refuses_login_and_mails_each_way(world, cli):
    assert world(ULYSSE, "whoami").exit_code == 0
    result = world(SAM, "account", "suspend", ULYSSE, "--reason", "Poste quitté")
    assert result.exit_code == 0, result.stderr
    assert "suspendu" in result.stderr and "chorus account restore" in result.stderr
    # The open session ended at once.
    assert world(ULYSSE, "whoami").exit_code == 5
    # Login: the password is proven, then the suspension is said.
    login = cli("login", ULYSSE, "--password-stdin", input=PASSWORD + "\n")
    assert login.exit_code == 5
    assert "MEM-4" in login.stderr and "suspendu" in login.stderr
    wrong = cli("login", ULYSSE, "--password-stdin", input="Pas-Le-Bon-Mot-2!\n")
    assert wrong.exit_code == 5 and "suspendu" not in wrong.stderr  # reveals nothing
    mail = cli.mails(ULYSSE)[0]
    assert mail["subject"] == "Chorus Pro : votre compte est suspendu"
    assert "Motif : Poste quitté" in mail["body"]
    audit = world(ADA, "audit", "list", "--target", ULYSSE, "--action", "account.suspend",
                  "--json").json()  # fmt: skip
    assert audit[0]["actor"] == SAM and audit[0]["details"]["reason"] == "Poste quitté"
    restored = world(SAM, "account", "restore", ULYSSE)
    assert restored.exit_code == 0, restored.stderr
    assert cli.mails(ULYSSE)[0]["subject"] == "Chorus Pro : votre compte est rétabli"
    assert "vous pouvez de nouveau vous connecter" in cli.mails(ULYSSE)[0]["body"]
    assert cli.login(ULYSSE).exit_code == 0
    audit = world(ADA, "audit", "list", "--target", ULYSSE, "--action", "account.restore",
                  "--json").json()  # fmt: skip
    assert audit[0]["actor"] == SAM and audit[0]["details"]["status"] == "active"


@pytest.mark.parametrize("before", ["pending", "deactivated"])
def test_mem4_restore_returns_the_status_it_had(world, cli, before):
    target = HUGO
    if before == "deactivated":
        target = ULYSSE
        assert world(ULYSSE, "account", "deactivate", "--yes").exit_code == 0
    assert world(SAM, "account", "suspend", target, "--reason", "Contrôle").exit_code == 0
    assert shown(world, SAM, target).json()["status"] == "suspended"
    listed = world(SAM, "account", "list", "--status", "suspended", "--json").json()
    assert [row["login_email"] for row in listed] == [target]
    assert world(SAM, "account", "restore", target).exit_code == 0
    assert shown(world, SAM, target).json()["status"] == before
    assert cli.mails(target)[0]["subject"] == "Chorus Pro : votre compte est rétabli"
    hint = "forgot-password" if before == "pending" else "reactivate"
    assert hint in cli.mails(target)[0]["body"]


def test_mem4_a_suspended_pending_account_cannot_use_its_activation_link(world, cli, unchanged):
    link = cli.last_link(HUGO)
    assert world(CORINNE, "account", "suspend", HUGO, "--reason", "Doublon").exit_code == 0
    with unchanged():
        used = cli("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    assert used.exit_code == 6  # voided at the suspension
    before = len(cli.mails(HUGO))
    asked = cli("account", "forgot-password", HUGO)  # the same answer, and no link
    assert asked.exit_code == 0 and len(cli.mails(HUGO)) == before


def test_mem4_the_reason_is_checked_text(world, unchanged):
    with unchanged():
        bad = world(SAM, "account", "suspend", ULYSSE, "--reason", "a\x1b[31mb")
    assert bad.exit_code == 2 and "SEC-1" in bad.stderr
    with unchanged():
        empty = world(SAM, "account", "suspend", ULYSSE, "--reason", "  ")
    assert empty.exit_code == 2 and "--reason" in empty.stderr


def test_mem4_suspended_in_every_export(world):
    import json

    assert world(SAM, "account", "suspend", ULYSSE, "--reason", "Contrôle").exit_code == 0
    exported = world(SAM, "bulk", "export", "accounts", "--format", "jsonl")
    assert exported.exit_code == 0, exported.stderr
    rows = {row["login_email"]: row for row in map(json.loads, exported.stdout.splitlines())}
    assert rows[ULYSSE]["status"] == "suspended"


# --- MEM-7: deactivate --successor -------------------------------------------------------


def primary(world, identifier: str) -> str | None:
    return world(ADA, "structure", "show", identifier, "--json").json()["primary_manager"]


def test_mem7_the_successor_takes_the_role_and_the_account_is_deactivated(world, cli):
    result = world(MARIE, "account", "deactivate", "--successor", ULYSSE, "--yes")
    assert result.exit_code == 0, result.stderr
    assert "MEM-7" in result.stderr and BAKERY in result.stderr
    assert primary(world, BAKERY) == ULYSSE
    assert shown(world, SAM, MARIE).json()["status"] == "deactivated"
    assert world(MARIE, "whoami").exit_code == 5
    # Both notices of the transfer (STR-8), and the deactivation's (SET-4).
    assert "gestionnaire principal" in cli.mails(ULYSSE)[0]["subject"]
    subjects = [m["subject"] for m in cli.mails(MARIE)[:2]]
    assert subjects[0] == "Chorus Pro : votre compte est désactivé"
    assert "gestionnaire principal" in subjects[1]
    actions = [e["action"] for e in world(ADA, "audit", "list", "--actor", MARIE, "--json").json()]
    assert actions[:2] == ["account.deactivate", "structure.transfer_primary"]


@pytest.mark.parametrize(
    ("who", "successor", "code", "rule"),
    [
        (MARIE, LEA, 1, "STR-8"),  # not attached to the bakery
        (LEA, HUGO, 1, "STR-8"),  # attached but pending
        (LEA, LEA, 1, "STR-8"),  # already the primary manager
        (MARIE, NOBODY, 3, ""),
        (ULYSSE, MARIE, 1, "MEM-7"),  # the primary manager of nothing
    ],
    ids=["not-attached", "not-active", "oneself", "unknown", "not-primary"],
)
def test_mem7_a_refused_successor_changes_nothing(world, unchanged, who, successor, code, rule):
    with unchanged():
        result = world(who, "account", "deactivate", "--successor", successor, "--yes")
    assert result.exit_code == code, result.stderr
    assert rule in result.stderr
    assert world(who, "whoami").exit_code == 0


def test_mem7_from_a_pipe_without_yes_nothing_happens(world, unchanged):
    with unchanged():
        result = world(MARIE, "account", "deactivate", "--successor", ULYSSE, input="o\n")
    assert result.exit_code == 2 and "--yes" in result.stderr


class Terminal:
    """A terminal's stdin: ``isatty()``; each line read calls ``typing()`` first (what
    happens while the person reads the question) and then gives the next answer."""

    def __init__(self, answers: list[str], typing) -> None:
        self.answers, self.typing, self.prompts = list(answers), typing, 0

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        self.prompts += 1
        self.typing()
        return self.answers.pop(0) + "\n"

    def read(self, *_: object) -> str:
        return ""


def write_meanwhile(cli, email: str):
    """Another process writes the account's own row while the question waits: it would
    wait on a lock (and fail after 2 s) if a transaction were open (SEC-4)."""
    from sqlalchemy import create_engine, text

    def typing() -> None:
        sqlite = cli.url.startswith("sqlite")
        engine = create_engine(cli.url, connect_args={"timeout": 2} if sqlite else {})
        try:
            with engine.begin() as conn:
                if not sqlite:
                    conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                conn.execute(
                    text("UPDATE account SET biography = 'écrit pendant la question'"
                         " WHERE login_email = :e"),
                    {"e": email},
                )  # fmt: skip
        finally:
            engine.dispose()

    return typing


@pytest.mark.parametrize("answer", ["o", "n"])
def test_mem7_one_confirmation_at_a_terminal_with_no_transaction_open(world, cli, answer):
    from chorus_cli.inprocess import invoke
    from tests.memory_keyring import MemoryKeyring

    terminal = Terminal([answer], write_meanwhile(cli, MARIE))
    MemoryKeyring.entries = dict(world.sessions[MARIE])
    result = invoke(
        ["account", "deactivate", "--successor", ULYSSE],
        env=cli.env,
        clock=cli.clock,
        stdin=terminal,
    )
    assert terminal.prompts == 1
    assert f"Transmettre le rôle de gestionnaire principal de {BAKERY} à {ULYSSE}" in result.stderr
    data = shown(world, SAM, MARIE).json()
    assert data["biography"] == "écrit pendant la question"
    if answer == "o":
        assert result.exit_code == 0, result.stderr
        assert (primary(world, BAKERY), data["status"]) == (ULYSSE, "deactivated")
    else:
        assert result.exit_code == 1
        assert (primary(world, BAKERY), data["status"]) == (MARIE, "active")
