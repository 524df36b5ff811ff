"""PUB-1..3: DGFiP correspondents create and delete public entities' accounts; accounts
initialised for their owner are completed at first login; their mails come from the
DGFiP's sender. On SQLite and PostgreSQL.

The cast: Ada is the admin (she loads the bundled SIRENE sample, whose public
structures are all in Isère, department 38); Corinne is the correspondent of 38, Paul
the correspondent of 75, Sam is support, Marie a plain account with her own bakery.
The commune of Val-de-Briane (a public SIRET of 38) arrives by a flow, with no primary
manager yet.
"""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, SAMPLE_SIRETS, SIRENE_OPERATOR, load_sample
from tests.test_structures import (
    World,
    account_id,
    cloned,
    grant_role,
    habilitations,
    store_session,
)

ADA = SIRENE_OPERATOR
CORINNE = "corinne.dgfip@example.fr"
PAUL = "paul.dgfip@example.fr"
SAM = "sam.support@example.fr"
MARIE = "marie.curie@example.fr"
LEA = "lea.roux@mairie-valdebriane.fr"
HUGO = "hugo.martin@mairie-valdebriane.fr"
COMMUNE = SAMPLE_SIRETS["commune"]
BAKERY = SAMPLE_SIRETS["bakery"]
PUBLIC_SENDER = "noreply@dgfip.finances.gouv.fr"


def public_world(cli, tmp_path) -> World:
    """Everyone logged in; the commune loaded by Corinne from a structures flow."""
    load_sample(cli)
    world = World(cli)
    for email in (CORINNE, PAUL, SAM, MARIE):
        world.join(email)
    grant_role(cli, CORINNE, "correspondent", "38")
    grant_role(cli, PAUL, "correspondent", "75")
    grant_role(cli, SAM, "support")
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries = {}
    assert cli.login(ADA).exit_code == 0
    world.sessions[ADA] = dict(MemoryKeyring.entries)
    flow = tmp_path / "communes.csv"
    flow.write_text(f"SIRET;Hélios\n{COMMUNE};oui\n", encoding="utf-8")
    loaded = world(CORINNE, "bulk", "import", str(flow), "--kind", "structures")
    assert loaded.exit_code == 0, loaded.stderr
    made = world(MARIE, "structure", "create", "--id-type", "SIRET", "--id", BAKERY)
    assert made.exit_code == 0, made.stderr
    return world


def public(worlds, cli) -> World:
    """``public_world``, built once per worker and store, copied into ``cli``'s store."""
    return cloned(worlds, cli, "public", lambda runner: public_world(runner, runner.home.parent))


@pytest.fixture
def world(cli, worlds):
    return public(worlds, cli)


def provision(world: World, who: str, email: str, structure: str = COMMUNE, *extra: str):
    return world(
        who,
        "account",
        "create",
        "--email",
        email,
        "--last-name",
        "Roux",
        "--first-name",
        "Léa",
        "--structure",
        structure,
        *extra,
    )


def primary_of(world: World, identifier: str) -> str | None:
    shown = world(ADA, "structure", "show", identifier, "--json")
    assert shown.exit_code == 0, shown.stderr
    return shown.json()["primary_manager"]


# --- PUB-1: creating --------------------------------------------------------------------


def test_pub1_correspondent_creates_a_pending_account_attached_with_defaults(world):
    made = provision(world, CORINNE, LEA, COMMUNE, "--json")
    assert made.exit_code == 0, made.stderr
    assert made.json()["status"] == "pending" and made.json()["to_complete"] is True
    assert "PUB-1" in made.stderr and PUBLIC_SENDER in made.stderr
    # The first account of a public structure with no primary manager becomes it.
    assert primary_of(world, COMMUNE) == LEA
    profiles = habilitations(world.cli, LEA, COMMUNE)
    assert profiles["organisation"] == "modification"
    assert profiles["factures_emises"] == "modification" and len(profiles) == 9
    mail = world.cli.mails(LEA)[0]
    assert mail["sender"] == PUBLIC_SENDER and "activez votre compte" in mail["subject"]
    audit = world(ADA, "audit", "list", "--target", LEA, "--json").json()
    assert {"account.create", "attachment.provision"} <= {e["action"] for e in audit}
    assert {e["actor"] for e in audit} == {CORINNE}


def test_pub1_a_second_account_is_a_member_with_hab3_defaults(world):
    assert provision(world, CORINNE, LEA).exit_code == 0
    assert provision(world, CORINNE, HUGO).exit_code == 0
    assert primary_of(world, COMMUNE) == LEA
    assert habilitations(world.cli, HUGO, COMMUNE)["organisation"] == "consultation"


def test_pub1_the_activated_account_sees_its_structure(world):
    assert provision(world, CORINNE, LEA).exit_code == 0
    world.cli("account", "activate", world.cli.last_link(LEA), "--password-stdin",
              input=PASSWORD + "\n")  # fmt: skip
    assert world.cli.login(LEA).exit_code == 0
    me = world.cli("whoami", "--json").json()
    assert [s["identifier"] for s in me["structures"]] == [COMMUNE]
    assert me["structures"][0]["role"] == "primary"


def test_pub1_admin_provisions_in_any_department(world):
    assert provision(world, ADA, LEA).exit_code == 0


@pytest.mark.parametrize("who", [PAUL, SAM, MARIE])
def test_pub1_others_cannot_create_a_public_account(world, unchanged, who):
    with unchanged():
        refused = provision(world, who, LEA)
    assert refused.exit_code == 4
    assert "PUB-1" in refused.stderr
    assert world.cli.mails(LEA) == []


def test_pub1_a_private_structure_is_not_provisioned(world, unchanged):
    with unchanged():
        refused = provision(world, ADA, LEA, BAKERY)
    assert refused.exit_code == 1
    assert "PUB-1" in refused.stderr and "attach request" in refused.stderr


def test_pub1_an_existing_login_is_refused_with_acc2(world, unchanged):
    with unchanged():
        refused = provision(world, CORINNE, MARIE)
    assert refused.exit_code == 1
    assert "ACC-2" in refused.stderr


def test_pub1_an_unknown_structure_is_exit_3_for_a_correspondent(world, unchanged):
    with unchanged():
        refused = provision(world, CORINNE, LEA, SAMPLE_SIRETS["hospital"])
    assert refused.exit_code == 3


def test_pub1_id_type_without_structure_is_bad_input(world, unchanged):
    with unchanged():
        refused = world.cli("account", "create", "--email", LEA, "--last-name", "R",
                            "--first-name", "L", "--id-type", "SIRET")  # fmt: skip
    assert refused.exit_code == 2


# --- PUB-1: deleting --------------------------------------------------------------------


def rows_of(cli, table: str, column: str, value) -> int:
    from sqlalchemy import text

    with store_session(cli) as s:
        return (
            s.connection()
            .execute(text(f"SELECT count(*) FROM {table} WHERE {column} = :v"), {"v": value})
            .scalar()
        )


def test_pub1_delete_removes_the_account_and_what_it_holds(world):
    assert provision(world, CORINNE, LEA).exit_code == 0
    assert provision(world, CORINNE, HUGO).exit_code == 0
    world.cli("account", "activate", world.cli.last_link(HUGO), "--password-stdin",
              input=PASSWORD + "\n")  # fmt: skip
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries = {}
    assert world.cli.login(HUGO).exit_code == 0
    hugo_session = dict(MemoryKeyring.entries)
    hugo = account_id(world.cli, HUGO)
    deleted = world(CORINNE, "account", "delete", HUGO, "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert "PUB-1" in deleted.stderr
    for table in ("auth_session", "attachment", "habilitation", "link_token", "account"):
        column = "id" if table == "account" else "account_id"
        assert rows_of(world.cli, table, column, hugo) == 0, table
    audit = world(ADA, "audit", "list", "--target", HUGO, "--json").json()
    assert audit[0]["action"] == "account.delete" and audit[0]["actor"] == CORINNE
    assert "account.create" in {e["action"] for e in audit}  # the history stays
    assert "supprimé" in world.cli.mails(HUGO)[0]["subject"]
    MemoryKeyring.entries = hugo_session
    assert world.cli("whoami").exit_code == 5  # the session died with the account


def test_pub1_delete_is_refused_while_primary_manager(world, unchanged):
    assert provision(world, CORINNE, LEA).exit_code == 0
    with unchanged():
        refused = world(CORINNE, "account", "delete", LEA, "--yes")
    assert refused.exit_code == 1
    assert "STR-8" in refused.stderr and COMMUNE in refused.stderr


@pytest.mark.parametrize("who", [PAUL, SAM, MARIE])
def test_pub1_others_cannot_delete(world, unchanged, who):
    assert provision(world, CORINNE, LEA).exit_code == 0
    assert provision(world, CORINNE, HUGO).exit_code == 0
    with unchanged():
        refused = world(who, "account", "delete", HUGO, "--yes")
    assert refused.exit_code == 4


def test_pub1_a_correspondent_cannot_delete_a_private_account(world, unchanged):
    with unchanged():
        refused = world(CORINNE, "account", "delete", MARIE, "--yes")
    assert refused.exit_code == 4
    assert BAKERY in refused.stderr


def test_pub1_delete_asks_first_and_no_changes_nothing(world, unchanged):
    assert provision(world, CORINNE, LEA).exit_code == 0
    assert provision(world, CORINNE, HUGO).exit_code == 0
    with unchanged():
        kept = world(CORINNE, "account", "delete", HUGO, input="n\n")
    assert kept.exit_code == 1
    with unchanged():
        unanswered = world(CORINNE, "account", "delete", HUGO)
    assert unanswered.exit_code == 2
    gone = world(CORINNE, "account", "delete", HUGO, input="oui\n")
    assert gone.exit_code == 0, gone.stderr


def test_pub1_nobody_deletes_their_own_account_or_the_last_admin(world, unchanged):
    with unchanged():
        assert world(ADA, "account", "delete", ADA, "--yes").exit_code == 1


def test_pub1_delete_of_an_unknown_account_is_exit_3(world, unchanged):
    with unchanged():
        assert world(CORINNE, "account", "delete", "nobody@example.fr", "--yes").exit_code == 3


# --- PUB-2: to complete at first login ---------------------------------------------------


def test_pub2_an_initialised_account_is_told_what_to_complete_until_it_does(world):
    assert provision(world, CORINNE, LEA).exit_code == 0
    world.cli("account", "activate", world.cli.last_link(LEA), "--password-stdin",
              input=PASSWORD + "\n")  # fmt: skip
    logged = world.cli.login(LEA)
    assert "PUB-2" in logged.stderr and "téléphone" in logged.stderr
    assert "PUB-2" in world.cli("whoami").stderr
    updated = world.cli("account", "update", "--phone", "04 76 11 22 33", "--json")
    assert updated.exit_code == 0 and updated.json()["to_complete"] is False
    assert "PUB-2" not in world.cli("whoami").stderr
    assert "PUB-2" not in world.cli.login(LEA).stderr


def test_pub2_everything_but_the_login_is_editable(world):
    assert provision(world, CORINNE, LEA).exit_code == 0
    world.cli("account", "activate", world.cli.last_link(LEA), "--password-stdin",
              input=PASSWORD + "\n")  # fmt: skip
    world.cli.login(LEA)
    changed = world.cli("account", "update", "--first-name", "Léna", "--last-name", "Roux-Dupré",
                        "--workplace-address", "Mairie", "--contact-email", "lr@example.fr",
                        "--json")  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    assert changed.json()["first_name"] == "Léna"
    assert world.cli("account", "update", "--login-email", "x@example.fr").exit_code == 2


def test_pub2_a_self_created_account_is_not_marked(world):
    created = world.cli("account", "create", "--email", "self@example.fr", "--last-name", "S",
                        "--first-name", "S", "--json")  # fmt: skip
    assert created.json()["to_complete"] is False


# --- PUB-3: the sender of public entities' mails -------------------------------------------


def test_pub3_every_mail_to_a_public_entity_comes_from_the_dgfip(world):
    assert provision(world, CORINNE, LEA).exit_code == 0
    world.cli("account", "activate", world.cli.last_link(LEA), "--password-stdin",
              input=PASSWORD + "\n")  # fmt: skip
    world.cli("login", LEA, "--password-stdin", input=PASSWORD + "\n")
    mails = world.cli.mails(LEA)
    assert len(mails) == 3  # activation, «activated», the login code
    assert {m["sender"] for m in mails} == {PUBLIC_SENDER}
    assert {m["sender"] for m in world.cli.mails(MARIE)} == {"ne-pas-repondre@chorus-pro.gouv.fr"}


def test_pub3_the_sender_is_configurable(world):
    world.cli.env["CHORUS_PUBLIC_MAIL_FROM"] = "flux@ddfip38.example.fr"
    assert provision(world, CORINNE, LEA).exit_code == 0
    assert world.cli.mails(LEA)[0]["sender"] == "flux@ddfip38.example.fr"
