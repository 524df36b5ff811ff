"""ATT-1..5 (and SET-3, OPS-4 for them): attachment requests, decisions, the request
history and «Mes rattachements», on SQLite and PostgreSQL.

The cast: Marie creates the bakery (a RIDET structure with the services ACHATS and RH,
no SIRENE data needed), so she is its primary manager; Pierre and Paul ask to join;
Sam is support. Each keeps their own session; ``world(who, *args)`` runs chorus as them.
"""

from __future__ import annotations

import re

import pytest

from tests.test_structures import (
    NAME,
    RIDET,
    World,
    account_id,
    cast,
    cloned,
    mails_of,
    store_session,
    structure_row,
)
from tests.test_structures import habilitations as profiles_of

MARIE = "marie.curie@example.fr"
PIERRE = "pierre.curie@example.fr"
PAUL = "paul.langevin@example.fr"
SAM = "sam.support@example.fr"
COMMENT = "Je tiens la comptabilité de la boulangerie"
# SPEC's request fields, in SPEC's order, first.
REQUEST_FIELDS = ["id", "type", "structure", "services", "status", "comment", "approver"]
DEFAULTS = {  # HAB-3
    "factures_emises": "modification",
    "factures_recues": "modification",
    "factures_travaux": "modification",
    "memoires_frais_justice": "modification",
    "remboursement_tic": "modification",
    "engagements": "modification",
    "sollicitations": "modification",
    "compte_technique": "modification",
    "organisation": "consultation",
}


def open_bakery(world: World) -> World:
    """Marie's active RIDET structure «Boulangerie de Nouméa», services ACHATS and RH."""
    created = world.create()
    assert created.exit_code == 0, created.stderr
    for code, label in (("ACHATS", "Achats"), ("RH", "Ressources humaines")):
        added = world(MARIE, "structure", "service", "add", RIDET, "--code", code, "--label", label)
        assert added.exit_code == 0, added.stderr
    return world


@pytest.fixture
def world(cli, worlds):
    return cloned(worlds, cli, "cast", cast)


def baked(worlds, cli) -> World:
    """``open_bakery(cast(cli))``, built once per worker and store, copied into ``cli``'s."""
    return cloned(worlds, cli, "bakery", lambda runner: open_bakery(cast(runner)))


@pytest.fixture
def bakery(world, worlds):
    """``world`` with Marie's bakery open (the same World object, as ``open_bakery``)."""
    baked_world = baked(worlds, world.cli)
    world.sessions.clear()
    world.sessions.update(baked_world.sessions)
    return world


def ask(world, who, *services, structure=RIDET, comment=COMMENT, fmt="--json"):
    args = ["attach", "request", "--structure", structure, "--comment", comment]
    for code in services:
        args += ["--service", code]
    return world(who, *args, fmt)


def requested(world, who, *services, structure=RIDET) -> int:
    result = ask(world, who, *services, structure=structure)
    assert result.exit_code == 0, result.stderr
    return result.json()["id"]


def approved(world, who, *services, structure=RIDET, manager=MARIE) -> int:
    number = requested(world, who, *services, structure=structure)
    result = world(manager, "attach", "approve", str(number))
    assert result.exit_code == 0, result.stderr
    return number


def service_profiles(cli, email: str, identifier: str = RIDET) -> dict[tuple[str, str], str]:
    """{(service code, application): level} of the profiles held on services."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Habilitation, Service

    with store_session(cli) as s:
        rows = s.exec(
            select(Habilitation, Service)
            .join(Service, col(Service.id) == col(Habilitation.service_id))
            .where(
                col(Habilitation.account_id) == account_id(cli, email),
                col(Habilitation.structure_id) == structure_row(cli, identifier).id,
            )
        ).all()
    return {(v.code, h.application): h.level for h, v in rows}


def audit(world, action_prefix: str) -> list[tuple[str, str, str, dict]]:
    result = world(SAM, "audit", "list", "--action", action_prefix, "--json")
    assert result.exit_code == 0, result.stderr
    return [(e["actor"], e["action"], e["target"], e["details"]) for e in reversed(result.json())]


# --- ATT-1: a request names a structure and says why --------------------------------


def test_att1_request_by_identifier_is_pending_and_the_primary_manager_is_mailed(bakery):
    result = ask(bakery, PIERRE, structure="1234567.001")

    assert result.exit_code == 0, result.stderr
    shown = result.json()
    assert list(shown)[: len(REQUEST_FIELDS)] == REQUEST_FIELDS
    assert {k: shown[k] for k in REQUEST_FIELDS[1:]} == {
        "type": "structure",
        "structure": RIDET,
        "services": [],
        "status": "pending",
        "comment": COMMENT,
        "approver": MARIE,
    }
    assert shown["requester"] == PIERRE
    assert f"n° {shown['id']}" in result.stderr and MARIE in result.stderr
    (mail,) = mails_of(bakery.cli, MARIE, "demande de rattachement attend")
    assert PIERRE in mail["body"] and COMMENT in mail["body"] and NAME in mail["body"]
    assert f"chorus attach approve {shown['id']}" in mail["body"]
    assert profiles_of(bakery.cli, PIERRE) == {}  # nothing given before a decision
    assert audit(bakery, "attachment") == [
        (
            PIERRE,
            "attachment.request",
            RIDET,
            {"request": shown["id"], "type": "structure", "services": []},
        )
    ]


@pytest.mark.parametrize("typed", [NAME, "boulangerie de noumea", "BOULANGERIE DE NOUMÉA"])
def test_att1_request_by_raison_sociale_any_case_or_accent(bakery, typed):
    result = ask(bakery, PIERRE, structure=typed)
    assert result.exit_code == 0, result.stderr
    assert result.json()["structure"] == RIDET


def test_att1_request_by_the_start_of_the_only_matching_name(bakery):
    result = ask(bakery, PIERRE, structure="boul noum")
    assert result.exit_code == 0, result.stderr
    assert result.json()["structure"] == RIDET


def test_att1_ambiguous_name_lists_the_candidates_and_changes_nothing(bakery, unchanged):
    other = bakery.create(PAUL, id_type="TAHITI", id="C12345", name="Boulangerie de Papeete")
    assert other.exit_code == 0, other.stderr
    with unchanged():
        result = ask(bakery, PIERRE, structure="boulangerie", fmt="--format=table")
    assert result.exit_code == 2
    assert result.stdout == ""
    sentence = result.stderr.strip()
    assert "\n" not in sentence and "(ATT-1)" in sentence
    assert f"{RIDET} ({NAME}), C12345 (Boulangerie de Papeete)" in sentence

    with unchanged():
        as_json = ask(bakery, PIERRE, structure="boulangerie")
    assert as_json.exit_code == 2
    import json

    assert "C12345" in json.loads(as_json.stderr)["error"]["message"]


def test_att1_an_exact_name_wins_over_longer_names(bakery):
    longer = bakery.create(PAUL, id_type="TAHITI", id="C12345", name=f"{NAME} Sud")
    assert longer.exit_code == 0
    result = ask(bakery, PIERRE, structure=NAME.lower())
    assert result.exit_code == 0, result.stderr
    assert result.json()["structure"] == RIDET


def test_att1_unknown_structure_is_exit_3(bakery, unchanged):
    for typed in ("9999999001", "Pâtisserie inconnue"):
        with unchanged():
            result = ask(bakery, PIERRE, structure=typed)
        assert result.exit_code == 3, (typed, result.stderr)


@pytest.mark.parametrize("comment", ["", "   ", "x" * 1001])
def test_att1_the_comment_is_mandatory(bakery, unchanged, comment):
    with unchanged():
        result = ask(bakery, PIERRE, comment=comment)
    assert result.exit_code == 2
    assert result.stdout == ""


def test_att1_without_the_comment_option_is_a_usage_error(bakery, unchanged):
    with unchanged():
        result = bakery(PIERRE, "attach", "request", "--structure", RIDET)
    assert result.exit_code == 2
    assert "--comment" in result.stderr


def test_att1_request_at_the_service_level(bakery):
    result = ask(bakery, PIERRE, "rh", "ACHATS", "achats")
    assert result.exit_code == 0, result.stderr
    assert (result.json()["type"], result.json()["services"]) == ("services", ["ACHATS", "RH"])
    (mail,) = mails_of(bakery.cli, MARIE, "demande de rattachement attend")
    assert "(services : ACHATS, RH)" in mail["body"]


def test_att1_unknown_or_inactive_service_is_refused(bakery, unchanged):
    with unchanged():
        assert ask(bakery, PIERRE, "COMPTA").exit_code == 3
    bakery(MARIE, "structure", "service", "deactivate", RIDET, "RH")
    with unchanged():
        result = ask(bakery, PIERRE, "RH")
    assert result.exit_code == 1
    assert "(ATT-1, STR-7)" in result.stderr


def test_att1_one_pending_request_per_account_and_structure(bakery, unchanged):
    first = requested(bakery, PIERRE)
    with unchanged():
        again = ask(bakery, PIERRE, "ACHATS")
    assert again.exit_code == 1
    assert f"n° {first}" in again.stderr and "(ATT-1" in again.stderr
    # Another account, or another structure, is another request.
    assert ask(bakery, PAUL).exit_code == 0
    bakery.create(SAM, id_type="TAHITI", id="C12345", name="Autre")
    assert ask(bakery, PIERRE, structure="C12345").exit_code == 0


def test_att1_the_store_itself_keeps_one_pending_request(bakery):
    """Two processes checking at once still cannot both add one (a partial unique index)."""
    from sqlalchemy.exc import IntegrityError

    from chorus_cli.store.models import AttachmentRequest

    requested(bakery, PIERRE)
    with store_session(bakery.cli) as s:
        s.add(
            AttachmentRequest(
                account_id=account_id(bakery.cli, PIERRE),
                structure_id=structure_row(bakery.cli).id,
                type="structure",
                comment="bis",
                created_at=bakery.cli.clock.now(),
            )
        )
        with pytest.raises(IntegrityError):
            s.commit()


def test_att1_already_attached_is_refused(bakery, unchanged):
    with unchanged():
        result = ask(bakery, MARIE)
    assert result.exit_code == 1
    assert "déjà rattaché" in result.stderr and "(ATT-1)" in result.stderr
    approved(bakery, PIERRE, "ACHATS")
    with unchanged():
        again = ask(bakery, PIERRE, "ACHATS")
    assert again.exit_code == 1
    assert "ACHATS" in again.stderr


def test_att1_a_pending_public_structure_takes_no_request(world, unchanged):
    created = world.create(MARIE, "--public", id_type="TAHITI", id="C12345", name="Papeete")
    assert created.json()["status"] == "pending"
    with unchanged():
        result = ask(world, PIERRE, structure="C12345")
    assert result.exit_code == 1
    assert "(ATT-1, STR-6)" in result.stderr


def test_att1_needs_a_session(bakery, unchanged):
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries = {}
    with unchanged():
        result = bakery.cli("attach", "request", "--structure", RIDET, "--comment", COMMENT)
    assert result.exit_code == 5


# --- ATT-2: managers approve or refuse; the requester is mailed ----------------------


def test_att2_managers_see_the_pending_requests_of_their_structures(bakery):
    first = requested(bakery, PIERRE)
    second = requested(bakery, PAUL, "ACHATS")

    mine = bakery(MARIE, "attach", "pending", "--json")
    assert mine.exit_code == 0, mine.stderr
    assert [(r["id"], r["requester"], r["services"]) for r in mine.json()] == [
        (first, PIERRE, []),
        (second, PAUL, ["ACHATS"]),
    ]
    assert bakery(MARIE, "attach", "pending", "--structure", RIDET, "--json").json() == mine.json()
    # Support reads them; an outsider has none to handle and may not read them.
    assert len(bakery(SAM, "attach", "pending", "--json").json()) == 2
    assert bakery(PIERRE, "attach", "pending", "--json").json() == []
    refused = bakery(PIERRE, "attach", "pending", "--structure", RIDET)
    assert refused.exit_code == 4
    assert "« Organisation modification »" in refused.stderr
    table = bakery(MARIE, "attach", "pending")
    # SET-5: the heading in French, over the column or, as a record (OUT-1), by the value.
    assert table.exit_code == 0, table.stderr
    heading = "demandeur" in table.stdout.splitlines()[0]
    assert heading or re.search(r"^demandeur +\S+@", table.stdout, re.MULTILINE), table.stdout


def test_out3_an_unknown_field_refuses_the_approval_before_it_is_made(bakery):
    """--fields is checked against the fields `attach approve` declares, before it
    approves anything (OUT-3): nothing is saved, and the sentence does not say it was."""
    number = requested(bakery, PIERRE)
    result = bakery(MARIE, "attach", "approve", str(number), "--fields", "id,colour")
    assert result.exit_code == 2 and "OUT-3" in result.stderr, result.stderr
    assert "enregistr" not in result.stderr and result.stdout == ""
    (row,) = bakery(MARIE, "attach", "pending", "--json").json()
    assert row["id"] == number and profiles_of(bakery.cli, PIERRE) != DEFAULTS
    kept = bakery(MARIE, "attach", "approve", str(number), "--json", "--fields", "status,id")
    assert kept.json() == [{"status": "approved", "id": number}]


def test_out3_an_unknown_field_refuses_a_new_service_before_it_is_added(bakery):
    refused = bakery(MARIE, "structure", "service", "add", RIDET, "--code", "COMPTA",
                     "--label", "Compta", "--fields", "colour")  # fmt: skip
    assert (
        refused.exit_code == 2 and "OUT-3" in refused.stderr and "enregistr" not in refused.stderr
    )
    listed = bakery(MARIE, "structure", "service", "list", RIDET, "--json").json()
    assert "COMPTA" not in {s["code"] for s in listed}
    added = bakery(MARIE, "structure", "service", "add", RIDET, "--code", "COMPTA",
                   "--label", "Compta", "--json", "--fields", "label,code,active")  # fmt: skip
    assert added.json() == {"label": "Compta", "code": "COMPTA", "active": True}


def test_att2_approval_attaches_with_the_default_profiles_and_mails_the_requester(bakery):
    number = requested(bakery, PIERRE)

    result = bakery(MARIE, "attach", "approve", str(number), "--json")

    assert result.exit_code == 0, result.stderr
    (row,) = result.json()
    assert (row["status"], row["decided_by"], row["approver"]) == ("approved", MARIE, MARIE)
    assert profiles_of(bakery.cli, PIERRE) == DEFAULTS  # HAB-3
    (mail,) = mails_of(bakery.cli, PIERRE, "approuvée")
    assert NAME in mail["body"] and MARIE in mail["body"]
    who = bakery(PIERRE, "whoami", "--json").json()
    assert [(s["identifier"], s["role"]) for s in who["structures"]] == [(RIDET, "member")]
    assert bakery(PIERRE, "structure", "show", RIDET).exit_code == 0
    assert bakery(MARIE, "attach", "pending", "--json").json() == []
    (entry,) = audit(bakery, "attachment.approve")
    assert entry[:3] == (MARIE, "attachment.approve", PIERRE)
    assert entry[3]["request"] == number


def test_att2_approval_at_the_service_level_gives_the_profiles_on_those_services(bakery):
    approved(bakery, PIERRE, "ACHATS")

    assert profiles_of(bakery.cli, PIERRE) == DEFAULTS  # by application...
    assert service_profiles(bakery.cli, PIERRE) == {
        ("ACHATS", app): level for app, level in DEFAULTS.items()
    }  # ...all of them on ACHATS, none on the whole structure
    listed = bakery(PIERRE, "attach", "list", "--json").json()
    assert [(r["structure"], r["scope"], r["services"]) for r in listed] == [
        (RIDET, "services", ["ACHATS"])
    ]
    (mail,) = mails_of(bakery.cli, PIERRE, "approuvée")
    assert "(service ACHATS)" in mail["body"]
    # A profile on a service gives rights there only (HAB-2): not the whole structure.
    shown = bakery(PIERRE, "structure", "show", RIDET)
    assert shown.exit_code == 4


def test_att2_a_service_member_may_then_ask_for_the_whole_structure(bakery):
    approved(bakery, PIERRE, "ACHATS")
    approved(bakery, PIERRE)
    listed = bakery(PIERRE, "attach", "list", "--json").json()
    assert [(r["scope"], r["services"]) for r in listed] == [("structure", [])]
    assert bakery(PIERRE, "structure", "show", RIDET).exit_code == 0


def test_att2_refusal_needs_a_reason_which_is_mailed(bakery, unchanged):
    number = requested(bakery, PIERRE, "RH")
    for reason in ("", "  "):
        with unchanged():
            assert bakery(MARIE, "attach", "reject", str(number), "--reason", reason).exit_code == 2
    with unchanged():
        assert bakery(MARIE, "attach", "reject", str(number)).exit_code == 2

    result = bakery(MARIE, "attach", "reject", str(number), "--reason", "Inconnu ici", "--json")

    assert result.exit_code == 0, result.stderr
    (row,) = result.json()
    assert (row["status"], row["reason"], row["decided_by"]) == ("refused", "Inconnu ici", MARIE)
    (mail,) = mails_of(bakery.cli, PIERRE, "refusée")
    assert "Inconnu ici" in mail["body"] and "(service RH)" in mail["body"]
    assert profiles_of(bakery.cli, PIERRE) == {}
    assert bakery(PIERRE, "attach", "list", "--json").json() == []
    assert ask(bakery, PIERRE).exit_code == 0  # a refused request does not block a new one


def test_att2_several_requests_are_decided_at_once(bakery):
    numbers = [requested(bakery, who) for who in (PIERRE, PAUL)]

    result = bakery(MARIE, "attach", "approve", *map(str, numbers), "--json")

    assert result.exit_code == 0, result.stderr
    assert [r["status"] for r in result.json()] == ["approved", "approved"]
    assert "2 demandes approuvées" in result.stderr
    assert len(mails_of(bakery.cli, PIERRE, "approuvée")) == 1
    assert len(mails_of(bakery.cli, PAUL, "approuvée")) == 1


@pytest.mark.parametrize(("spoiler", "code"), [("foreign", 4), ("unknown", 3), ("decided", 1)])
def test_att2_a_bulk_decision_is_all_or_nothing(bakery, unchanged, spoiler, code):
    good = requested(bakery, PIERRE)
    bakery.create(SAM, id_type="TAHITI", id="C12345", name="Chez Sam")
    foreign = requested(bakery, PAUL, structure="C12345")  # Marie does not manage it
    decided = requested(bakery, PAUL)
    bakery(MARIE, "attach", "reject", str(decided), "--reason", "Non")
    other = {"foreign": foreign, "unknown": 999, "decided": decided}[spoiler]
    for verb, extra in (("approve", ()), ("reject", ("--reason", "Non"))):
        with unchanged():
            result = bakery(MARIE, "attach", verb, str(good), str(other), *extra)
        assert result.exit_code == code, (verb, result.stderr)
        assert str(other) in result.stderr


def test_att2_plain_members_and_support_do_not_decide(bakery, unchanged):
    approved(bakery, PAUL)
    number = requested(bakery, PIERRE)
    for who in (PAUL, SAM):
        with unchanged():
            result = bakery(who, "attach", "approve", str(number))
        assert result.exit_code == 4
        assert "« Organisation modification »" in result.stderr and "HAB-6" in result.stderr


def test_att2_another_holder_of_organisation_modification_decides_too(bakery):
    approved(bakery, PAUL)
    granted = bakery(
        MARIE, "habil", "grant", PAUL, "--structure", RIDET, "--app", "organisation",
        "--level", "modification",
    )  # fmt: skip
    assert granted.exit_code == 0, granted.stderr
    number = requested(bakery, PIERRE)
    assert [r["id"] for r in bakery(PAUL, "attach", "pending", "--json").json()] == [number]
    result = bakery(PAUL, "attach", "approve", str(number), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()[0]["decided_by"] == PAUL
    assert result.json()[0]["approver"] == MARIE  # the primary manager, as when asked


# --- ATT-3: «Historique de mes demandes» --------------------------------------------


def test_att3_history_lists_every_request_with_its_status_and_approver(bakery):
    assert bakery(PIERRE, "account", "history", "--json").json() == []
    first = approved(bakery, PIERRE, "ACHATS")  # a request for services
    bakery.create(SAM, id_type="TAHITI", id="C12345", name="Chez Sam")
    refused = requested(bakery, PIERRE, structure="C12345")
    bakery(SAM, "attach", "reject", str(refused), "--reason", "Inconnu")
    pending = requested(bakery, PIERRE)  # the whole structure, this time
    # A subscription to a structure's functions is in the model; no command makes one.
    from chorus_cli.store.models import AttachmentRequest

    with store_session(bakery.cli) as s:
        s.add(
            AttachmentRequest(
                account_id=account_id(bakery.cli, PIERRE),
                structure_id=structure_row(bakery.cli, "C12345").id,
                type="subscription",
                status="approved",
                comment="Abonnement aux fonctions",
                approver_id=account_id(bakery.cli, SAM),
                created_at=bakery.cli.clock.now(),
            )
        )
        s.commit()

    result = bakery(PIERRE, "account", "history", "--json")

    assert result.exit_code == 0, result.stderr
    rows = result.json()
    assert [(r["type"], r["structure"], r["status"], r["approver"]) for r in rows] == [
        ("subscription", "C12345", "approved", SAM),
        ("structure", RIDET, "pending", MARIE),
        ("structure", "C12345", "refused", SAM),
        ("services", RIDET, "approved", MARIE),
    ]
    assert [r["id"] for r in rows[1:]] == [pending, refused, first]
    assert rows[2]["reason"] == "Inconnu" and rows[3]["services"] == ["ACHATS"]
    assert all(list(r)[: len(REQUEST_FIELDS)] == REQUEST_FIELDS for r in rows)
    table = bakery(PIERRE, "account", "history")
    assert table.exit_code == 0, table.stderr
    heading = "approbateur" in table.stdout.splitlines()[0]
    assert heading or re.search(r"^approbateur +\S+@", table.stdout, re.MULTILINE), table.stdout
    csv = bakery(PIERRE, "account", "history", "--format", "csv")
    assert csv.stdout.splitlines()[0].startswith("id,type,structure,services,status,comment")


def test_att3_the_approver_is_the_primary_manager_when_the_request_was_made(bakery):
    approved(bakery, PAUL)
    old = requested(bakery, PIERRE)
    moved = bakery(MARIE, "structure", "transfer-primary", RIDET, "--to", PAUL)
    assert moved.exit_code == 0, moved.stderr
    bakery(PAUL, "attach", "reject", str(old), "--reason", "Refaites-la")
    new = requested(bakery, PIERRE)
    rows = {r["id"]: r for r in bakery(PIERRE, "account", "history", "--json").json()}
    assert (rows[old]["approver"], rows[old]["decided_by"]) == (MARIE, PAUL)
    assert rows[new]["approver"] == PAUL


def test_att3_a_request_lapses_when_a_service_it_names_is_deactivated(bakery, unchanged):
    number = requested(bakery, PIERRE, "RH")
    off = bakery(MARIE, "structure", "service", "deactivate", RIDET, "RH")
    assert off.exit_code == 0, off.stderr
    (row,) = bakery(PIERRE, "account", "history", "--json").json()
    assert (row["id"], row["status"]) == (number, "lapsed")
    (mail,) = mails_of(bakery.cli, PIERRE, "caduque")
    assert "RH" in mail["body"]
    with unchanged():
        late = bakery(MARIE, "attach", "approve", str(number))
    assert late.exit_code == 1 and "lapsed" in late.stderr
    assert ask(bakery, PIERRE, "ACHATS").exit_code == 0  # no longer pending: ask again


# --- ATT-4: many structures per account, many accounts per structure ----------------


def test_att4_an_account_has_many_structures_and_a_structure_many_accounts(bakery):
    bakery.create(PAUL, id_type="TAHITI", id="C12345", name="Atelier de Paul")
    approved(bakery, PIERRE)
    bakery(PAUL, "structure", "service", "add", "C12345", "--code", "ACHATS", "--label", "A")
    approved(bakery, PIERRE, "ACHATS", structure="C12345", manager=PAUL)
    approved(bakery, SAM)

    listed = bakery(PIERRE, "attach", "list", "--json")

    assert listed.exit_code == 0, listed.stderr
    assert [
        (r["structure"], r["raison_sociale"], r["role"], r["scope"], r["services"])
        for r in listed.json()
    ] == [
        ("C12345", "Atelier de Paul", "member", "services", ["ACHATS"]),
        (RIDET, NAME, "member", "structure", []),
    ]
    mine = bakery(MARIE, "attach", "list", "--json").json()
    assert [(r["structure"], r["role"]) for r in mine] == [(RIDET, "primary")]
    members = {email for email in (MARIE, PIERRE, PAUL, SAM) if profiles_of(bakery.cli, email)}
    assert members == {MARIE, PIERRE, SAM}
    csv = bakery(PIERRE, "attach", "list", "--format", "csv").stdout.splitlines()
    assert csv[0] == "structure,raison_sociale,role,scope,services,status,attached_at"


def test_att4_list_hints_when_attached_to_nothing(bakery):
    result = bakery(PAUL, "attach", "list", "--json")
    assert result.exit_code == 0 and result.json() == []
    assert "(AUTH-5)" in result.stderr


# --- ATT-5: detaching -----------------------------------------------------------------


def test_att5_detach_from_a_structure_removes_the_attachment_and_its_profiles(bakery):
    approved(bakery, PIERRE)
    result = bakery(PIERRE, "attach", "detach", "--structure", "1234567.001")
    assert result.exit_code == 0, result.stderr
    assert RIDET in result.stderr
    assert bakery(PIERRE, "attach", "list", "--json").json() == []
    assert profiles_of(bakery.cli, PIERRE) == {}
    assert bakery(PIERRE, "structure", "show", RIDET).exit_code == 4
    (entry,) = audit(bakery, "attachment.detach")
    assert entry[:3] == (PIERRE, "attachment.detach", RIDET)
    assert ask(bakery, PIERRE).exit_code == 0  # and may ask again


def test_att5_the_primary_manager_cannot_detach_before_handing_the_role_over(bakery, unchanged):
    with unchanged():
        result = bakery(MARIE, "attach", "detach", "--structure", RIDET)
    assert result.exit_code == 1
    assert "(ATT-5, STR-8)" in result.stderr and "transfer-primary" in result.stderr

    approved(bakery, PIERRE)
    assert bakery(MARIE, "structure", "transfer-primary", RIDET, "--to", PIERRE).exit_code == 0
    left = bakery(MARIE, "attach", "detach", "--structure", RIDET)
    assert left.exit_code == 0, left.stderr
    assert profiles_of(bakery.cli, MARIE) == {}


def test_att5_detach_from_some_services(bakery):
    approved(bakery, PIERRE, "ACHATS", "RH")
    result = bakery(PIERRE, "attach", "detach", "--structure", RIDET, "--service", "rh")
    assert result.exit_code == 0, result.stderr
    listed = bakery(PIERRE, "attach", "list", "--json").json()
    assert [(r["scope"], r["services"]) for r in listed] == [("services", ["ACHATS"])]
    assert {code for code, _app in service_profiles(bakery.cli, PIERRE)} == {"ACHATS"}


@pytest.mark.parametrize(
    ("who_services", "detach", "needle"),
    [
        (("ACHATS", "RH"), ("ACHATS", "RH"), "sans --service"),  # all of them: leave instead
        (("ACHATS",), ("RH",), "RH"),  # not one of mine
        ((), ("ACHATS",), "toute la structure"),  # attached to the whole structure
    ],
)
def test_att5_refused_service_detachments_change_nothing(
    bakery, unchanged, who_services, detach, needle
):
    approved(bakery, PIERRE, *who_services)
    args = [a for code in detach for a in ("--service", code)]
    with unchanged():
        result = bakery(PIERRE, "attach", "detach", "--structure", RIDET, *args)
    assert result.exit_code == 1
    assert "(ATT-5)" in result.stderr and needle in result.stderr


def test_att5_detaching_from_a_structure_one_is_not_attached_to(bakery, unchanged):
    with unchanged():
        result = bakery(PAUL, "attach", "detach", "--structure", RIDET)
    assert result.exit_code == 1
    assert "(ATT-5)" in result.stderr
    with unchanged():
        assert bakery(PAUL, "attach", "detach", "--structure", "9999999001").exit_code == 3


# --- SET-3, OPS-4: each decision is mailed and audited, or neither --------------------


def test_set3_decisions_are_mailed_in_the_requesters_language(bakery):
    from sqlmodel import col, select

    from chorus_cli.store.models import Account

    with store_session(bakery.cli) as s:
        pierre = s.exec(select(Account).where(col(Account.login_email) == PIERRE)).one()
        pierre.language = "en"
        s.add(pierre)
        s.commit()
    number = requested(bakery, PIERRE, "ACHATS", "RH")
    bakery(MARIE, "attach", "reject", str(number), "--reason", "No")
    (mail,) = [m for m in bakery.cli.mails(PIERRE) if "refused" in m["subject"]]
    assert "(services: ACHATS, RH)" in mail["body"] and "No" in mail["body"]


def test_ops4_requests_and_decisions_are_audited(bakery):
    first = requested(bakery, PIERRE)
    second = requested(bakery, PAUL)
    bakery(MARIE, "attach", "approve", str(first))
    bakery(MARIE, "attach", "reject", str(second), "--reason", "Non")
    bakery(PIERRE, "attach", "detach", "--structure", RIDET)
    assert [entry[:3] for entry in audit(bakery, "attachment")] == [
        (PIERRE, "attachment.request", RIDET),
        (PAUL, "attachment.request", RIDET),
        (MARIE, "attachment.approve", PIERRE),
        (MARIE, "attachment.reject", PAUL),
        (PIERRE, "attachment.detach", RIDET),
    ]
    # The requester reads their own entries (the target is their address).
    own = bakery(PAUL, "audit", "list", "--action", "attachment", "--json").json()
    assert {e["action"] for e in own} == {"attachment.request", "attachment.reject"}
