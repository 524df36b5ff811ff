"""The listings support and correspondents reach for (issue 9; PUB-1, OPS-4): `account
list`, `structure list`, `admin roles`, `admin revoke-role`, `mail show`; tables that
never cut an identifier. On SQLite and PostgreSQL, with test_provisioning's cast."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import SAMPLE_SIRETS
from tests.test_provisioning import (
    ADA,
    BAKERY,
    COMMUNE,
    CORINNE,
    MARIE,
    PAUL,
    SAM,
    provision,
    public_world,
)
from tests.test_structures import World, cloned

LEA = "lea.roux@mairie-valdebriane.fr"
HUGO = "hugo.martin@mairie-valdebriane.fr"


def _listed(cli) -> World:
    made = public_world(cli, cli.home.parent)
    for email in (LEA, HUGO):
        assert provision(made, CORINNE, email).exit_code == 0
    return made


@pytest.fixture
def world(cli, worlds):
    return cloned(worlds, cli, "listings", _listed)


def logins(result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return [row["login_email"] for row in result.json()]


# --- account list ---------------------------------------------------------------------


@pytest.mark.parametrize("who", [ADA, SAM])
def test_pub1_support_and_admins_list_every_account(world, who):
    found = logins(world(who, "account", "list", "--json"))
    assert found == sorted(found)
    assert {ADA, CORINNE, PAUL, SAM, MARIE, LEA, HUGO} <= set(found)


def test_pub1_a_correspondent_lists_the_accounts_of_their_departments(world):
    assert logins(world(CORINNE, "account", "list", "--json")) == [HUGO, LEA]
    assert logins(world(PAUL, "account", "list", "--json")) == []


def test_pub1_a_plain_account_lists_nothing(world, unchanged):
    with unchanged():
        assert world(MARIE, "account", "list").exit_code == 4


def test_acc3_account_list_by_status_locked_included(world):
    assert logins(world(ADA, "account", "list", "--status", "pending", "--json")) == [HUGO, LEA]
    for _ in range(5):  # AUTH-2: five failures lock Marie out
        world.cli("login", MARIE, "--password-stdin", input="Wrong-Pass-12!\n")
    assert logins(world(ADA, "account", "list", "--status", "locked", "--json")) == [MARIE]
    assert MARIE not in logins(world(ADA, "account", "list", "--status", "active", "--json"))
    refused = world(ADA, "account", "list", "--status", "sleeping")
    assert refused.exit_code == 2 and "pending, active, locked, deactivated" in refused.stderr


def test_account_list_by_structure_and_search(world):
    members = world(ADA, "account", "list", "--structure", COMMUNE, "--json")
    assert logins(members) == [HUGO, LEA]
    assert logins(world(ADA, "account", "list", "--search", "LEA.R mairie", "--json")) == [LEA]
    assert logins(world(ADA, "account", "list", "--search", "100%_", "--json")) == []
    outside = world(CORINNE, "account", "list", "--structure", BAKERY)
    assert outside.exit_code == 4


def test_account_list_pages_with_limit_and_offset(world):
    every = logins(world(ADA, "account", "list", "--json"))
    assert logins(world(ADA, "account", "list", "--limit", "2", "--json")) == every[:2]
    second = world(ADA, "account", "list", "--limit", "2", "--offset", "2", "--json")
    assert logins(second) == every[2:4]
    for bad in (["--limit", "0"], ["--limit", "10001"], ["--offset", "-1"]):
        assert world(ADA, "account", "list", *bad).exit_code == 2


def test_an_empty_csv_listing_keeps_its_header(world):
    empty = world(PAUL, "account", "list", "--format", "csv")
    assert empty.exit_code == 0 and empty.stderr == ""  # piped: no "nothing found"
    assert list(csv.reader(io.StringIO(empty.stdout)))[0][:3] == [
        "login_email",
        "contact_email",
        "first_name",
    ]
    roles = world(ADA, "admin", "roles", "--role", "admin", "--format", "csv")
    assert roles.stdout.splitlines()[0] == "login_email,role,department,granted_at"


def test_tables_never_cut_an_identifier_at_80_columns(world):
    world.cli.env["COLUMNS"] = "80"
    table = world(ADA, "account", "list").stdout
    for email in (LEA, HUGO, CORINNE):
        assert email in table
    assert "…" not in table
    structures = world(ADA, "structure", "list").stdout
    assert COMMUNE in structures and LEA in structures and "…" not in structures


# --- structure list -----------------------------------------------------------------


def test_structure_list_for_support_and_correspondents(world):
    every = world(SAM, "structure", "list", "--json")
    assert {COMMUNE, BAKERY} <= {s["identifier"] for s in every.json()}
    mine = world(CORINNE, "structure", "list", "--json").json()
    assert [s["identifier"] for s in mine] == [COMMUNE]
    assert mine[0]["department"] == "38" and mine[0]["primary_manager"] == LEA
    assert world(PAUL, "structure", "list", "--json").json() == []
    assert world(MARIE, "structure", "list").exit_code == 4


def test_structure_list_filters(world):
    def ids(*args):
        result = world(ADA, "structure", "list", *args, "--json")
        assert result.exit_code == 0, result.stderr
        return [s["identifier"] for s in result.json()]

    assert ids("--public") == [COMMUNE]
    assert ids("--private") == [BAKERY]
    assert ids("--department", "38") == sorted([COMMUNE, BAKERY])
    assert ids("--department", "75") == []
    assert ids("--status", "pending") == []
    assert world(ADA, "structure", "list", "--department", "99").exit_code == 2
    assert world(ADA, "structure", "list", "--status", "closed").exit_code == 2


# --- roles ------------------------------------------------------------------------


def test_pub1_admin_roles_lists_who_holds_what(world):
    rows = world(SAM, "admin", "roles", "--json").json()
    held = {(r["login_email"], r["role"], r["department"]) for r in rows}
    assert held == {(ADA, "admin", None), (CORINNE, "correspondent", "38"),
                    (PAUL, "correspondent", "75"), (SAM, "support", None)}  # fmt: skip
    only = world(ADA, "admin", "roles", "--role", "support", "--json").json()
    assert [r["login_email"] for r in only] == [SAM]
    assert world(MARIE, "admin", "roles").exit_code == 4


def test_pub1_revoke_role_takes_one_department_back_and_mails(world):
    revoked = world(ADA, "admin", "revoke-role", PAUL, "correspondent", "--department", "75")
    assert revoked.exit_code == 0, revoked.stderr
    assert "retiré" in world.cli.mails(PAUL)[0]["subject"]
    assert world(PAUL, "account", "list").exit_code == 4  # no role left
    audit = world(ADA, "audit", "list", "--action", "role.revoke", "--json").json()
    assert audit[0]["target"] == PAUL and audit[0]["details"]["department"] == "75"


def test_pub1_revoke_role_refusals(world, unchanged):
    with unchanged():
        assert world(ADA, "admin", "revoke-role", ADA, "admin").exit_code == 1  # the last admin
        assert world(ADA, "admin", "revoke-role", MARIE, "support").exit_code == 3  # not held
        assert world(ADA, "admin", "revoke-role", PAUL, "correspondent").exit_code == 2
        assert world(SAM, "admin", "revoke-role", PAUL, "correspondent", "--department",
                     "75").exit_code == 4  # fmt: skip


def test_pub1_the_second_admin_can_go(world):
    assert world(ADA, "admin", "grant-role", SAM, "admin").exit_code == 0
    assert world(ADA, "admin", "revoke-role", SAM, "admin").exit_code == 0


# --- mail show --------------------------------------------------------------------


def test_mail_show_prints_one_mail_whole(world):
    listed = world.cli.mails(LEA)[0]
    shown = world.cli("mail", "show", str(listed["id"]), "--json")
    assert shown.exit_code == 0 and shown.json() == listed
    table = world.cli("mail", "show", str(listed["id"])).stdout
    assert listed["body"].splitlines()[-1] in table
    assert world.cli("mail", "show", "999999").exit_code == 3
    assert SAMPLE_SIRETS  # the cast's structures come from the sample
