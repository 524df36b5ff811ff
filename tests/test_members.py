"""MEM-1, MEM-2, MEM-6, SET-2: a structure's people, on SQLite and PostgreSQL.

The cast (test_provisioning's public world, and more): Ada is the admin; Corinne the
correspondent of Isère (38), Paul the correspondent of Paris (75); Sam is support. Marie
is the primary manager of her bakery (a private SIRET) with services ACHATS and RH;
Odile manages it with her («Organisation modification»); Pierre and Tom are plain
members; Nina is attached to ACHATS only; Noël is attached nowhere. The commune of
Val-de-Briane (public, 38) has Léa as primary manager and Hugo as a member.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import PASSWORD
from tests.memory_keyring import MemoryKeyring
from tests.test_provisioning import (
    ADA,
    BAKERY,
    COMMUNE,
    CORINNE,
    HUGO,
    LEA,
    MARIE,
    SAM,
    provision,
    public_world,
)
from tests.test_provisioning import PAUL as PAUL_75
from tests.test_structures import World, attach_member, cloned, mails_of

ODILE = "odile.manager@example.fr"
PIERRE = "pierre.curie@example.fr"
TOM = "tom.pouce@example.fr"
NINA = "nina.achats@example.fr"
NOEL = "noel.dehors@example.fr"


def _members_world(cli) -> World:
    world = public_world(cli, cli.home.parent)
    for email in (ODILE, PIERRE, TOM, NINA, NOEL):
        world.join(email)
    for code, label in (("ACHATS", "Achats"), ("RH", "Ressources humaines")):
        args = ("structure", "service", "add", BAKERY, "--code", code, "--label", label)
        added = world(MARIE, *args)
        assert added.exit_code == 0, added.stderr
    for email in (ODILE, PIERRE, TOM):
        attach_member(cli, email, BAKERY)
    granted = world(MARIE, "habil", "grant", ODILE, "--structure", BAKERY, "--app",
                    "organisation", "--level", "modification")  # fmt: skip
    assert granted.exit_code == 0, granted.stderr
    asked = world(NINA, "attach", "request", "--structure", BAKERY, "--service", "ACHATS",
                  "--comment", "Acheteuse", "--json")  # fmt: skip
    assert asked.exit_code == 0, asked.stderr
    assert world(MARIE, "attach", "approve", str(asked.json()["id"])).exit_code == 0
    for email in (LEA, HUGO):
        assert provision(world, CORINNE, email).exit_code == 0
    MemoryKeyring.entries = {}
    activated = cli("account", "activate", cli.last_link(LEA), "--password-stdin",
                    input=PASSWORD + "\n")  # fmt: skip
    assert activated.exit_code == 0, activated.stderr
    assert cli.login(LEA).exit_code == 0
    world.sessions[LEA] = dict(MemoryKeyring.entries)
    return world


@pytest.fixture
def world(cli, worlds) -> World:
    return cloned(worlds, cli, "members", _members_world)


def members(world: World, who: str, *args: str):
    return world(who, "structure", "members", *args)


def listed(world: World, who: str, *args: str) -> list[dict]:
    result = members(world, who, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def remove(world: World, who: str, structure: str, email: str, *args: str, input=None):
    return world(who, "structure", "remove-member", structure, email, *args, input=input)


# --- MEM-1: who is attached ----------------------------------------------------------


def test_mem1_a_manager_lists_logins_names_status_role_services_profiles_and_since(world):
    rows = listed(world, MARIE, BAKERY)
    assert [r["login_email"] for r in rows] == sorted([MARIE, ODILE, PIERRE, TOM, NINA])
    by = {r["login_email"]: r for r in rows}
    assert list(by[MARIE]) == [
        "login_email", "first_name", "last_name", "status", "role", "primary_manager",
        "services", "profiles", "attached_at",
    ]  # fmt: skip
    assert (by[MARIE]["role"], by[MARIE]["primary_manager"]) == ("primary", True)
    assert (by[ODILE]["role"], by[ODILE]["primary_manager"]) == ("manager", False)
    assert by[PIERRE]["role"] == "member" and by[PIERRE]["status"] == "active"
    assert by[PIERRE]["first_name"] == "Marie" and by[PIERRE]["last_name"] == "Curie"
    assert by[NINA]["services"] == ["ACHATS"] and by[PIERRE]["services"] == []
    assert "Organisation modification" in by[ODILE]["profiles"]
    assert "Organisation consultation" in by[PIERRE]["profiles"]
    assert "Organisation consultation [ACHATS]" in by[NINA]["profiles"]
    assert len(by[PIERRE]["profiles"]) == 9
    assert by[TOM]["attached_at"].endswith("Z")


def test_mem1_filters_by_service_profile_and_status(world):
    assert [r["login_email"] for r in listed(world, MARIE, BAKERY, "--service", "achats")] == [NINA]
    managers = listed(world, MARIE, BAKERY, "--profile", "organisation modif")
    assert sorted(r["login_email"] for r in managers) == sorted([MARIE, ODILE])
    assert [r["login_email"] for r in listed(world, LEA, COMMUNE, "--status", "pending")] == [HUGO]
    assert [r["login_email"] for r in listed(world, LEA, COMMUNE, "--status", "active")] == [LEA]
    page = listed(world, MARIE, BAKERY, "--limit", "2", "--offset", "1")
    assert [r["login_email"] for r in page] == sorted([MARIE, ODILE, PIERRE, TOM, NINA])[1:3]
    assert listed(world, MARIE, BAKERY, "--profile", "engagements consultation") == []
    assert members(world, MARIE, BAKERY, "--status", "asleep").exit_code == 2
    assert members(world, MARIE, BAKERY, "--service", "NOPE").exit_code == 3
    assert members(world, MARIE, BAKERY, "--profile", "  ").exit_code == 2


def test_mem1_csv_and_a_table_that_fits_80_columns(world):
    from tests.test_tables import fits, whole_on_one_line

    shown = world(MARIE, "structure", "members", BAKERY, "--format", "csv")
    assert shown.exit_code == 0, shown.stderr
    rows = list(csv.DictReader(io.StringIO(shown.stdout)))
    assert {r["login_email"] for r in rows} == {MARIE, ODILE, PIERRE, TOM, NINA}
    assert next(r for r in rows if r["login_email"] == MARIE)["primary_manager"] == "true"
    world.cli.env["COLUMNS"] = "80"
    table = members(world, MARIE, BAKERY)
    assert table.exit_code == 0, table.stderr
    whole_on_one_line(table.stdout, MARIE, ODILE, PIERRE, NINA, "primary", "manager")
    fits(table.stdout)


# Who may list (MEM-1) and remove (MEM-2), on the private bakery and the public commune
# of Isère: exit codes for (primary, manager, member, unattached, support, admin,
# correspondent of 38, correspondent of 75).
KINDS = ("primary", "manager", "member", "unattached", "support", "admin", "corr38", "corr75")
ON_BAKERY = dict(zip(KINDS, (MARIE, ODILE, PIERRE, NOEL, SAM, ADA, CORINNE, PAUL_75), strict=True))
ON_COMMUNE = {**ON_BAKERY, "primary": LEA, "member": MARIE}  # Marie: not attached there
AUTHORISATION = {
    ("members", BAKERY): (0, 0, 4, 4, 0, 0, 4, 4),
    ("members", COMMUNE): (0, 4, 4, 4, 0, 0, 0, 4),
    ("remove-member", BAKERY, TOM, "--yes"): (0, 0, 4, 4, 0, 0, 4, 4),
    ("remove-member", COMMUNE, HUGO, "--yes"): (0, 4, 4, 4, 0, 0, 4, 4),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", list(AUTHORISATION), ids=lambda c: f"{c[0]} {c[1]}")
def test_mem1_mem2_who_may_list_and_remove_in_and_out_of_scope(world, unchanged, command, kind):
    cast = ON_BAKERY if command[1] == BAKERY else ON_COMMUNE
    expected = dict(zip(KINDS, AUTHORISATION[command], strict=True))[kind]
    if expected:
        with unchanged():
            result = world(cast[kind], "structure", *command)
        assert "HAB-6" in result.stderr, result.stderr
    else:
        result = world(cast[kind], "structure", *command)
    assert result.exit_code == expected, (kind, command, result.stderr)


def test_mem1_refusal_names_who_may_list(world, unchanged):
    with unchanged():
        refused = members(world, PIERRE, BAKERY, "--lang", "en")
    assert refused.exit_code == 4
    assert refused.stderr.strip() == (
        f"Seeing the members of structure {BAKERY} needs the “Organisation modification” "
        "profile on it, or the support, admin or correspondent role for its department "
        "(MEM-1, HAB-6)."
    )


def test_mem1_a_profile_left_behind_by_a_detachment_gives_no_right(world):
    from sqlmodel import col, delete

    from chorus_cli.store.models import Attachment
    from tests.test_structures import account_id, store_session

    assert members(world, ODILE, BAKERY).exit_code == 0  # attached, she sees them
    with store_session(world.cli) as s:  # Odile's attachment gone, her profiles left
        s.exec(delete(Attachment).where(col(Attachment.account_id) == account_id(world.cli, ODILE)))
        s.commit()
    refused = members(world, ODILE, BAKERY)
    assert refused.exit_code == 4 and "MEM-1" in refused.stderr, refused.stderr


# --- MEM-2: removing someone who left ------------------------------------------------


def test_mem2_removal_takes_attachment_and_profiles_in_one_step_one_notice_one_audit(world):
    before = len(world.cli.mails(TOM))
    done = remove(world, MARIE, BAKERY, TOM, "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    assert done.json() == {
        "structure": BAKERY, "login_email": TOM, "services": [], "profiles_removed": 9,
        "lapsed_requests": [],
    }  # fmt: skip
    assert "profils retirés : 9" in done.stderr
    assert TOM not in [r["login_email"] for r in listed(world, MARIE, BAKERY)]
    assert world(TOM, "habil", "list", "--json").json() == []
    assert world(TOM, "attach", "list", "--json").json() == []
    mails = world.cli.mails(TOM)
    assert len(mails) == before + 1  # one notice
    notice = mails[0]
    assert notice["subject"] == "Chorus Pro : votre rattachement à une structure est retiré"
    assert f"{MARIE} vous a retiré de la structure" in notice["body"]
    assert f"({BAKERY}), avec les profils que vous y déteniez" in notice["body"]
    removed = [m["to"] for m in world.cli.mails() if "rattachement à une" in m["subject"]]
    assert removed == [TOM]
    audit = world(ADA, "audit", "list", "--action", "structure.remove_member", "--json").json()
    assert [(e["actor"], e["target"]) for e in audit] == [(MARIE, TOM)]
    assert audit[0]["details"]["structure"] == BAKERY and audit[0]["details"]["profiles"] == 9


def test_mem2_from_some_services_only_those_attachments_and_profiles_go(world):
    assert world(MARIE, "attach", "approve", str(_ask(world, NINA, "RH"))).exit_code == 0
    done = remove(world, ODILE, BAKERY, NINA, "--service", "RH", "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    assert done.json()["services"] == ["RH"] and done.json()["profiles_removed"] == 9
    (row,) = [r for r in listed(world, MARIE, BAKERY) if r["login_email"] == NINA]
    assert row["services"] == ["ACHATS"]
    assert all(p.endswith("[ACHATS]") for p in row["profiles"]) and len(row["profiles"]) == 9
    notice = world.cli.mails(NINA)[0]
    assert f"({BAKERY}) (service RH), avec les profils" in notice["body"]


def _ask(world, who, *services) -> int:
    args = ["attach", "request", "--structure", BAKERY, "--comment", "Encore"]
    for code in services:
        args += ["--service", code]
    asked = world(who, *args, "--json")
    assert asked.exit_code == 0, asked.stderr
    return asked.json()["id"]


def test_mem2_pending_requests_on_the_structure_lapse_named_in_the_one_notice(world):
    waiting = _ask(world, NINA, "RH")
    done = remove(world, MARIE, BAKERY, NINA, "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    assert done.json()["lapsed_requests"] == [waiting]
    history = world(NINA, "account", "history", "--json").json()
    (request,) = [r for r in history if r["id"] == waiting]
    assert request["status"] == "lapsed"
    assert world(MARIE, "attach", "pending", "--json").json() == []
    notice = world.cli.mails(NINA)[0]
    assert (
        f"Vos demandes en attente sur cette structure sont caduques : {waiting}." in notice["body"]
    )
    assert len(mails_of(world.cli, NINA, "caduque")) == 0  # no second mail


@pytest.mark.parametrize(
    ("who", "target", "extra", "code", "needle"),
    [
        (ODILE, MARIE, (), 1, "STR-8"),  # the primary manager
        (SAM, MARIE, (), 1, "STR-8"),
        (MARIE, NOEL, (), 1, "MEM-2"),  # not attached
        (MARIE, MARIE, (), 2, "attach detach"),  # oneself: ATT-5's command
        (MARIE, "nobody@example.fr", (), 3, "nobody@example.fr"),
        (MARIE, TOM, ("--service", "ACHATS"), 1, "sans --service"),  # whole structure
        (MARIE, NINA, ("--service", "RH"), 1, "MEM-2"),  # not on that service
        (MARIE, NINA, ("--service", "ACHATS"), 1, "sans --service"),  # all her services
        (MARIE, TOM, ("--service", "NOPE"), 3, "NOPE"),
        (MARIE, TOM, (), 2, "--yes"),  # a pipe must say --yes
    ],
)
def test_mem2_refusals_name_their_rule_and_change_nothing(
    world, unchanged, who, target, extra, code, needle
):
    yes = () if needle == "--yes" else ("--yes",)
    with unchanged():
        refused = remove(world, who, BAKERY, target, *extra, *yes)
    assert refused.exit_code == code, refused.stderr
    assert needle in refused.stderr


def test_mem2_the_last_organisation_modification_holder_is_not_removed(world, unchanged):
    # The commands never take the primary manager's «Organisation modification» (HAB-5);
    # a store where Marie lost hers anyway leaves Odile as the last holder.
    from sqlmodel import col, delete

    from chorus_cli.store.models import Habilitation
    from tests.test_structures import account_id, store_session

    with store_session(world.cli) as s:
        s.exec(
            delete(Habilitation).where(
                col(Habilitation.account_id) == account_id(world.cli, MARIE),
                col(Habilitation.application) == "organisation",
            )
        )
        s.commit()
    with unchanged():
        refused = remove(world, SAM, BAKERY, ODILE, "--yes", "--lang", "en")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        f"{ODILE} holds the last “Organisation modification” profile of structure {BAKERY}"
        " (MEM-2, HAB-5): give it to another attached account first."
    )
    assert remove(world, SAM, BAKERY, PIERRE, "--yes").exit_code == 0  # anyone else goes


def test_mem2_the_movement_reaches_the_weekly_summary_of_managers(world):
    assert world(MARIE, "account", "notifications", "--weekly").exit_code == 0
    assert remove(world, ODILE, BAKERY, TOM, "--yes").exit_code == 0
    world.cli.clock.advance(days=1)
    assert world.cli("notify", "weekly").exit_code == 0
    (summary,) = [m for m in world.cli.mails(MARIE) if "récapitulatif" in m["subject"].lower()]
    assert f"{TOM} retiré de la structure par {ODILE}" in summary["body"]


# --- MEM-2 and SEC-4: one confirmation at a terminal, no transaction while it waits ----


class _Terminal:
    """A terminal's stdin: it answers the prompt with ``answer``, and while the person
    "types", ``meanwhile()`` runs (another process' view of the store)."""

    def __init__(self, answer: str, meanwhile) -> None:
        self.answer, self.meanwhile, self.asked = answer, meanwhile, 0

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        self.asked += 1
        self.meanwhile()
        return self.answer + "\n"


def _nobody_holds_the_store(url: str) -> None:
    """SEC-4: no transaction of chorus is open: on SQLite another connection takes the
    write lock at once; on PostgreSQL no session of this database is idle in one."""
    if url.startswith("sqlite"):
        import sqlite3

        other = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
        return
    from sqlalchemy import create_engine, text

    probe = create_engine(url)
    try:
        with probe.connect() as conn:
            idle = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
            ).scalar()
    finally:
        probe.dispose()
    assert idle == 0


def _at_terminal(world: World, who: str, answer: str, *args: str):
    from chorus_cli.inprocess import invoke

    MemoryKeyring.entries = dict(world.sessions[who])
    stdin = _Terminal(answer, lambda: _nobody_holds_the_store(world.cli.url))
    result = invoke(list(args), env=world.cli.env, clock=world.cli.clock, stdin=stdin)
    return result, stdin


def test_mem2_asks_once_at_a_terminal_holding_no_transaction_and_no_keeps_the_member(
    world, unchanged
):
    with unchanged():
        kept, stdin = _at_terminal(world, MARIE, "n", "structure", "remove-member", BAKERY, TOM)
    assert stdin.asked == 1
    assert kept.exit_code == 1, kept.stderr
    assert f"Retirer {TOM} de la structure {BAKERY}, avec tous ses profils ? [o/N]" in kept.stderr
    assert "Retrait annulé" in kept.stderr
    done, stdin = _at_terminal(world, MARIE, "o", "structure", "remove-member", BAKERY, TOM)
    assert (done.exit_code, stdin.asked) == (0, 1), done.stderr
    assert TOM not in [r["login_email"] for r in listed(world, MARIE, BAKERY)]


# --- MEM-2: two managers remove the same member at once --------------------------------


def _as_in_child(entries, clock, env, argv, stdin, barrier, results) -> None:
    """tests.processes' child, as the person whose keyring ``entries`` are given."""
    from chorus_cli.commands._common import STATE
    from tests.processes import _cli_in_child

    MemoryKeyring.entries = entries
    STATE.clock = clock
    _cli_in_child(env, argv, stdin, barrier, results)


def test_mem2_two_managers_remove_the_same_member_at_once_exactly_one_wins(world):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    argv = ["structure", "remove-member", BAKERY, TOM, "--yes"]
    procs = [
        context.Process(
            target=_as_in_child,
            args=(world.sessions[who], world.cli.clock, world.cli.env, argv, "", barrier, results),
        )
        for who in (MARIE, ODILE)
    ]
    for proc in procs:
        proc.start()
    outcomes = sorted(results.get(timeout=60) for _ in procs)
    for proc in procs:
        proc.join(timeout=10)
    assert [code for code, _err in outcomes] == [0, 1], outcomes
    assert "MEM-2" in outcomes[1][1] and "Traceback" not in outcomes[1][1]
    audit = world(ADA, "audit", "list", "--action", "structure.remove_member", "--json").json()
    assert len(audit) == 1 and audit[0]["target"] == TOM
    notices = [m for m in world.cli.mails(TOM) if "rattachement à une structure" in m["subject"]]
    assert len(notices) == 1


# --- MEM-6: a public structure's services, for anyone logged in -------------------------


def test_mem6_anyone_logged_in_lists_a_public_structures_services(world):
    added = world(LEA, "structure", "service", "add", COMMUNE, "--code", "ECOLES", "--label",
                  "Écoles")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    for who in (NOEL, PIERRE, MARIE, PAUL_75):  # attached elsewhere or nowhere
        shown = world(who, "structure", "service", "list", COMMUNE, "--json")
        assert shown.exit_code == 0, (who, shown.stderr)
        assert [(s["code"], s["active"]) for s in shown.json()] == [("ECOLES", True)]
    # ... so that a requester can choose one (ATT-1).
    asked = world(NOEL, "attach", "request", "--structure", COMMUNE, "--service", "ECOLES",
                  "--comment", "Directeur d'école", "--json")  # fmt: skip
    assert asked.exit_code == 0 and asked.json()["services"] == ["ECOLES"], asked.stderr
    MemoryKeyring.entries = {}
    assert world.cli("structure", "service", "list", COMMUNE).exit_code == 5


def test_mem6_a_private_structures_services_stay_for_its_members(world, unchanged):
    with unchanged():
        for who in (NOEL, CORINNE, LEA):
            refused = world(who, "structure", "service", "list", BAKERY)
            assert refused.exit_code == 4 and "HAB-6" in refused.stderr, (who, refused.stderr)
    for who in (PIERRE, SAM):
        assert world(who, "structure", "service", "list", BAKERY).exit_code == 0, who


# --- SET-2: a structure's movements go to those who may see its members -----------------


def test_set2_the_weekly_summary_goes_only_to_subscribers_who_may_see_the_members(world):
    for who in (MARIE, ODILE, PIERRE, NINA, LEA):
        assert world(who, "account", "notifications", "--weekly").exit_code == 0, who
    assert remove(world, MARIE, BAKERY, TOM, "--yes").exit_code == 0
    granted = world(MARIE, "habil", "grant", PIERRE, "--structure", BAKERY, "--app",
                    "engagements", "--level", "consultation")  # fmt: skip
    assert granted.exit_code == 0, granted.stderr
    world.cli.clock.advance(hours=1)
    sent = world.cli("notify", "weekly", "--json")
    assert sent.exit_code == 0, sent.stderr
    mailed = {s["login_email"]: s for s in sent.json()["summaries"]}
    # Pierre and Nina, plain members, no longer read who was removed or granted what.
    assert sorted(mailed) == sorted([MARIE, ODILE, LEA])
    assert [s["identifier"] for s in mailed[ODILE]["structures"]] == [BAKERY]
    for who in (PIERRE, NINA):
        assert not [m for m in world.cli.mails(who) if "récapitulatif" in m["subject"]]
    (odile,) = [m for m in world.cli.mails(ODILE) if "récapitulatif" in m["subject"]]
    assert f"{TOM} retiré de la structure par {MARIE}" in odile["body"]
    assert f"donnée à {PIERRE}" in odile["body"]


def test_mem1_structure_show_help_points_to_the_members_listing(world):
    shown = world.cli("structure", "show", "--help", "--lang", "en")
    assert shown.exit_code == 0
    text = " ".join(shown.stdout.split())
    assert "chorus structure members" in text and "members and support" not in text


# --- OPS-2: bulk export of one structure or one department ------------------------------


def _exported(world: World, who: str, *args: str) -> list[dict]:
    result = world(who, "bulk", "export", *args, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    import json

    return [json.loads(line) for line in result.stdout.splitlines()]


def test_ops2_export_of_one_structure_or_one_department_within_the_scope(world):
    accounts = _exported(world, ADA, "accounts", "--structure", BAKERY)
    assert sorted(a["login_email"] for a in accounts) == sorted([MARIE, ODILE, PIERRE, TOM, NINA])
    links = _exported(world, SAM, "attachments", "--structure", COMMUNE)
    assert sorted(a["login_email"] for a in links) == sorted([LEA, HUGO])
    profiles = _exported(world, ADA, "habilitations", "--structure", BAKERY)
    assert {p["structure"] for p in profiles} == {BAKERY} and len(profiles) == 5 * 9
    isere = _exported(world, CORINNE, "structures", "--department", "38")
    assert [s["identifier"] for s in isere] == [COMMUNE]
    assert [a["login_email"] for a in _exported(world, CORINNE, "accounts", "--department", "38")
            ] == [LEA, HUGO]  # fmt: skip
    # A correspondent's scope still holds: Paris is not Corinne's, the bakery not public.
    assert _exported(world, CORINNE, "accounts", "--department", "75") == []
    refused = world(CORINNE, "bulk", "export", "accounts", "--structure", BAKERY)
    assert refused.exit_code == 4 and "PUB-1" in refused.stderr
    assert world(PAUL_75, "bulk", "export", "accounts", "--structure", COMMUNE).exit_code == 4
    assert world(PIERRE, "bulk", "export", "accounts", "--structure", BAKERY).exit_code == 4


def test_ops2_export_filters_bad_input_and_no_false_hint(world):
    unknown = world(ADA, "bulk", "export", "accounts", "--structure", "55203253400034")
    assert unknown.exit_code == 3
    bad = world(ADA, "bulk", "export", "accounts", "--department", "99")
    assert bad.exit_code == 2 and "99" in bad.stderr
    shown = world(ADA, "bulk", "export", "accounts", "--structure", BAKERY)
    assert shown.exit_code == 0 and "position" not in shown.stderr
