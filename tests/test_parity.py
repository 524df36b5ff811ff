"""Every rule once (issue 18): the same world built with single commands and with flows
exports the same accounts, structures, attachments and habilitations (OPS-1, OPS-2,
PUB-1, ATT-2, HAB-3, STR-4, STR-8), on SQLite and PostgreSQL; what `chorus seed` writes
obeys the same rules (OPS-3).

Two stores are built side by side from the same start (``public_world``: Ada the admin,
Corinne the correspondent of Isère, Marie and her bakery with two services, the commune
loaded by a flow). Only times are masked in the comparison: a flow and a command do not
run at the same instant of the frozen clock.
"""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from tests.conftest import Runner
from tests.test_bulk import write
from tests.test_provisioning import ADA, BAKERY, COMMUNE, CORINNE, HUGO, LEA, MARIE, PAUL, SAM
from tests.test_provisioning import public_world as build_public_world
from tests.test_structures import habilitations

TIMES = ("created_at", "activated_at", "attached_at", "granted_at")
KINDS = ("accounts", "structures", "attachments", "habilitations")
COMMENT = "Je gère les achats de la boulangerie."


@pytest.fixture
def twin(store_url, tmp_path, clock, sqlite_template, request):
    """A second store of the same engine as ``cli``'s, with its own CLI runner."""
    home = tmp_path / "twin-home"
    home.mkdir()
    if store_url.startswith("sqlite"):
        path = tmp_path / "twin.db"
        shutil.copy(sqlite_template, path)
        yield Runner(f"sqlite:///{path}", home, clock)
        return
    from sqlalchemy import text

    base, admin = request.getfixturevalue("pg_base")
    name = "t_" + uuid.uuid4().hex[:12]
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE chorus_template"))
    yield Runner(f"{base}/{name}", home, clock)
    from chorus_cli.store import engine as engine_module

    engine_module.dispose_all()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def start(cli, tmp_path):
    """What both worlds share: ``public_world``, the bakery's services."""
    world = build_public_world(cli, tmp_path)
    for code, label in (("ACHATS", "Achats"), ("COMPTA", "Comptabilité")):
        ok(world(MARIE, "structure", "service", "add", BAKERY, "--code", code, "--label", label))
    return world


def lower_paul(world):
    """A manager lowers a profile (HAB-5): attaching again must not undo it (ATT-2)."""
    args = ("--structure", BAKERY, "--app", "factures_emises", "--level", "consultation")
    ok(world(MARIE, "habil", "grant", PAUL, *args))


def flows(world, tmp_path):
    """The flows of the world, as files: accounts with a structure (and services),
    attachments, a structure naming its primary manager."""
    folder = tmp_path / f"flows-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    header = ("Nom", "Prénom", "Adresse e-mail", "SIRET")
    people = [("Roux", "Léa", LEA, COMMUNE), ("Roux", "Hugo", HUGO, COMMUNE)]
    accounts = write(folder, "a.csv", people, header)
    attachments = write(
        folder,
        "t.csv",
        [(SAM, BAKERY, "ACHATS"), (PAUL, BAKERY, "")],
        ("Adresse e-mail", "SIRET", "services"),
    )
    structures = write(  # and a setting of consulterStructure's (issue 22)
        folder,
        "s.csv",
        [(BAKERY, PAUL, "oui")],
        ("SIRET", "primary_manager", "Code service obligatoire"),
    )
    return [(CORINNE, accounts, "accounts"), (ADA, attachments, "attachments"),
            (ADA, structures, "structures")]  # fmt: skip


def imported(world, who, path, kind):
    result = ok(world(who, "bulk", "import", str(path), "--kind", kind, "--json"))
    return result.json()


def exported(world) -> dict[str, list[dict]]:
    """Every export, times masked, rows sorted."""
    found = {}
    for kind in KINDS:
        result = ok(world(ADA, "bulk", "export", kind, "--format", "jsonl"))
        rows = []
        for line in result.stdout.splitlines():
            row = json.loads(line)
            rows.append({k: ("<time>" if k in TIMES and v else v) for k, v in row.items()})
        found[kind] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
    return found


def by_commands(cli, tmp_path):
    world = start(cli, tmp_path)
    for email, first in ((LEA, "Léa"), (HUGO, "Hugo")):  # PUB-1: Léa becomes primary
        args = ("--email", email, "--last-name", "Roux", "--first-name", first)
        ok(world(CORINNE, "account", "create", *args, "--structure", COMMUNE))
    numbers = []
    for who, services in ((SAM, ["--service", "ACHATS"]), (PAUL, [])):
        asked = world(who, "attach", "request", "--structure", BAKERY, "--comment", COMMENT,
                      *services, "--json")  # fmt: skip
        numbers.append(str(ok(asked).json()["id"]))
    ok(world(MARIE, "attach", "approve", *numbers))
    lower_paul(world)
    ok(world(MARIE, "structure", "update", BAKERY, "--service-code-required", "on"))
    ok(world(MARIE, "structure", "transfer-primary", BAKERY, "--to", PAUL))
    return world


def by_flows(cli, tmp_path):
    world = start(cli, tmp_path)
    files = flows(world, tmp_path)
    (who, path, kind), attachments, structures = files
    assert imported(world, who, path, kind)["created"] == 2
    assert imported(world, *attachments)["created"] == 2
    lower_paul(world)
    assert imported(world, *structures)["updated"] == 1
    return world


def reimport(world, tmp_path):
    """OPS-1: every file again changes nothing, in either world."""
    for who, path, kind in flows(world, tmp_path):
        summary = imported(world, who, path, kind)
        assert (summary["created"], summary["updated"]) == (0, 0), (kind, summary)


def transfer_mails(world) -> list[tuple[str, str, str]]:
    """The transfer notices of Marie and Paul: (to, sender, subject)."""
    found = []
    for who in (MARIE, PAUL):
        for mail in world.cli.mails(who):
            if "gestionnaire principal" in mail["subject"].lower():
                found.append((mail["to"], mail["sender"], mail["subject"]))
    return sorted(found)


def test_ops1_parity_flows_and_single_commands_build_the_same_world(cli, twin, tmp_path):
    single = by_commands(cli, tmp_path)
    flowed = by_flows(twin, tmp_path)
    expected = exported(single)
    assert exported(flowed) == expected
    bakery = next(r for r in expected["structures"] if r["identifier"] == BAKERY)
    assert (bakery["service_code_required"], bakery["engagement_number_required"]) == (True, False)
    # Paul: primary manager, «Organisation modification» (STR-8), his lowered profile
    # kept (ATT-2, HAB-5), in both worlds.
    # STR-8, SET-3: both managers are mailed when the role moves, by command as by flow.
    assert transfer_mails(single) == transfer_mails(flowed) != []
    for world in (single, flowed):
        held = habilitations(world.cli, PAUL, BAKERY)
        assert held["organisation"] == "modification"
        assert held["factures_emises"] == "consultation"
        reimport(world, tmp_path)
    assert exported(single) == expected
    assert exported(flowed) == expected


# --- the rules where the paths used to differ -------------------------------------------


def attached_by_flow(world, tmp_path, email, structure=BAKERY):
    path = write(tmp_path, f"t-{uuid.uuid4().hex[:6]}.csv", [(email, structure)],
                 ("Adresse e-mail", "SIRET"))  # fmt: skip
    return imported(world, ADA, path, "attachments")


def test_att2_parity_approving_an_account_attached_meanwhile_keeps_its_lowered_profile(
    cli, tmp_path
):
    """Attaching again changes nothing, whoever does it: the request is approved, the
    profile a manager lowered stays lowered (ATT-2, HAB-5), as a flow leaves it (OPS-1)."""
    world = start(cli, tmp_path)
    asked = world(PAUL, "attach", "request", "--structure", BAKERY, "--comment", COMMENT,
                  "--json")  # fmt: skip
    number = str(ok(asked).json()["id"])
    assert attached_by_flow(world, tmp_path, PAUL)["created"] == 1
    lower_paul(world)
    ok(world(MARIE, "attach", "approve", number))
    assert habilitations(cli, PAUL, BAKERY)["factures_emises"] == "consultation"
    assert attached_by_flow(world, tmp_path, PAUL)["unchanged"] == 1
    assert habilitations(cli, PAUL, BAKERY)["factures_emises"] == "consultation"


def test_str8_parity_the_role_goes_to_an_active_account_only_by_command_and_by_flow(cli, tmp_path):
    """STR-8: «another attached, active account». A pending account attached to the
    bakery is refused the role by `structure transfer-primary` and by a structures flow
    naming it, and nothing is written."""
    from tests.test_provisioning import primary_of

    world = start(cli, tmp_path)
    people = write(tmp_path, "a.csv", [("Roux", "Léa", LEA, BAKERY)],
                   ("Nom", "Prénom", "Adresse e-mail", "SIRET"))  # fmt: skip
    assert imported(world, ADA, people, "accounts")["created"] == 1  # pending, attached
    refused = world(MARIE, "structure", "transfer-primary", BAKERY, "--to", LEA)
    assert refused.exit_code == 1 and "STR-8" in refused.stderr
    flow = write(tmp_path, "s.csv", [(BAKERY, LEA)], ("SIRET", "primary_manager"))
    result = world(ADA, "bulk", "import", str(flow), "--kind", "structures", "--json")
    assert result.exit_code != 0
    assert [e["rule"] for e in result.json()["errors"]] == ["STR-8"]
    assert primary_of(world, BAKERY) == MARIE
    assert habilitations(cli, LEA, BAKERY)["organisation"] == "consultation"


def test_str8_parity_the_new_primary_manager_gets_organisation_modification_only(cli, tmp_path):
    """STR-8, STR-4: the role brings «Organisation modification»; the member's other
    profiles stay as a manager set them, by command (by_commands) as by flow."""
    world = start(cli, tmp_path)
    assert attached_by_flow(world, tmp_path, PAUL)["created"] == 1
    lower_paul(world)
    flow = write(tmp_path, "s.csv", [(BAKERY, PAUL)], ("SIRET", "primary_manager"))
    assert imported(world, ADA, flow, "structures")["updated"] == 1
    held = habilitations(cli, PAUL, BAKERY)
    assert held["organisation"] == "modification" and held["factures_emises"] == "consultation"


# --- what `chorus seed` writes (OPS-3) --------------------------------------------------


def test_ops3_parity_seeded_attachments_hold_exactly_the_defaults_the_domain_grants(cli, tmp_path):
    """Every seeded attachment has HAB-3's defaults, the primary manager's for the first
    account of each structure (STR-4), exactly as ``granting`` grants them; a flow
    attaching them again changes nothing (OPS-1); each structure is found by `sirene
    lookup` (STR-2); each pending request waits for the structure's primary manager
    (ATT-3) from an account not attached there (ATT-1)."""
    from chorus_cli.domain import granting
    from tests.test_seed import ADMIN, as_admin
    from tests.test_seed import exported as seed_export

    ok(cli("seed", "--accounts", "300", "--structures", "30", "--seed", "7", "--json"))
    as_admin(cli)
    attachments = seed_export(cli, "attachments")
    held: dict[tuple[str, str], dict[str, str]] = {}
    for p in seed_export(cli, "habilitations"):
        assert p["service"] is None
        held.setdefault((p["login_email"], p["structure"]), {})[p["application"]] = p["level"]
    assert len(attachments) == 300
    for a in attachments:
        expected = dict(granting.defaults(manager=a["role"] == "primary"))
        assert held.pop((a["login_email"], a["structure"])) == expected
    assert held == {}  # no profile without its attachment
    structures = seed_export(cli, "structures")
    primary = {s["identifier"]: s["primary_manager"] for s in structures}
    for s in structures:
        assert ok(cli("sirene", "lookup", s["identifier"], "--json")).json()["siret"]
    requests = ok(cli("attach", "pending", "--json")).json()
    assert requests
    members = {(a["login_email"], a["structure"]) for a in attachments}
    for r in requests:
        assert r["approver"] == primary[r["structure"]]
        assert (r["requester"], r["structure"]) not in members
    flow = tmp_path / "attachments.csv"
    flow.write_text(ok(cli("bulk", "export", "attachments")).stdout, encoding="utf-8")
    again = ok(cli("bulk", "import", str(flow), "--kind", "attachments", "--json")).json()
    assert (again["unchanged"], again["created"], again["updated"]) == (300, 0, 0)
    assert ADMIN not in {a["login_email"] for a in attachments}


# --- a new account's activation (ACC-3, PUB-3, OPS-4): decided once -------------------


PHONE = "04 76 00 00 00"


def activation_of(world, email: str) -> dict:
    """What creating the account wrote for its activation: its link (purpose, validity),
    its mail (the token masked), its ``account.create`` audit details."""
    import re

    from sqlmodel import col, select

    from chorus_cli.store.models import AuditEntry, LinkToken, Mail
    from tests.test_structures import account_id, store_session

    with store_session(world.cli) as s:
        links = s.exec(
            select(LinkToken).where(col(LinkToken.account_id) == account_id(world.cli, email))
        ).all()
        audits = s.exec(
            select(AuditEntry)
            .where(col(AuditEntry.action) == "account.create")
            .where(col(AuditEntry.target) == email)
        ).all()
        mails = s.exec(
            select(Mail).where(col(Mail.to) == email).where(col(Mail.kind) == "activation")
        ).all()
    (mail,) = mails
    (audit,) = audits
    return {
        "links": [(t.purpose, t.expires_at - t.created_at, t.used_at) for t in links],
        "mail": {
            "to": mail.to,
            "sender": mail.sender,
            "subject": mail.subject,
            "body": re.sub(r"token=\S+", "token=<token>", mail.body),
            "body_redacted": mail.body_redacted,
            "status": mail.status,
        },
        "message_id": bool(mail.message_id),
        "actor": audit.actor,
        "details": dict(audit.details),
    }


def test_ops1_parity_an_account_created_by_command_or_by_flow_gets_the_same_activation(
    cli, twin, tmp_path
):
    from datetime import timedelta

    # Corinne works in English: Léa's mail is still in French, not her creator's
    # language (the command used to take the CLI's, the flow French).
    single = build_public_world(cli, tmp_path)
    args = ("--email", LEA, "--last-name", "Roux", "--first-name", "Léa", "--phone", PHONE)
    ok(single(CORINNE, "--lang", "en", "account", "create", *args, "--structure", COMMUNE))
    flowed = build_public_world(twin, tmp_path)
    header = ("Nom", "Prénom", "Adresse e-mail", "Téléphone", "SIRET")
    path = write(tmp_path, "lea.csv", [("Roux", "Léa", LEA, PHONE, COMMUNE)], header)
    result = ok(flowed(CORINNE, "--lang", "en", "bulk", "import", str(path), "--kind",
                       "accounts", "--json"))  # fmt: skip
    assert result.json()["created"] == 1

    by_command, by_flow = activation_of(single, LEA), activation_of(flowed, LEA)
    # The flow's audit rows all name their file (OPS-4); the rest is the same.
    assert by_flow["details"].pop("source") == "lea.csv"
    assert by_command == by_flow
    # ACC-3: one unused activation link of 60 minutes; PUB-3: from the DGFiP's sender;
    # SEC-8: its Message-ID from the moment it is queued.
    assert by_command["links"] == [("activate", timedelta(minutes=60), None)]
    assert by_command["mail"]["sender"] == "noreply@dgfip.finances.gouv.fr"
    assert by_command["mail"]["to"] == LEA
    assert "activez votre compte" in by_command["mail"]["subject"]  # French
    assert by_command["message_id"]
    # OPS-4, PUB-2: a phone was given, the account is to complete at first login.
    assert by_command["details"] == {"phone": True, "to_complete": True}
