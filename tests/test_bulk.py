"""OPS-1, OPS-2 (and PUB-1, PUB-2 for flows): `chorus bulk import` and `chorus bulk
export`, on SQLite and PostgreSQL.

The cast is test_provisioning's: Ada the admin, Corinne the correspondent of Isère (38,
where the sample's public structures are), Paul of Paris (75), Sam support, Marie with
her bakery. Files are written as the people who send them write them: Excel for French
Windows (cp1252, `;`), UTF-8 with a BOM, JSON Lines.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import SAMPLE_SIRETS, snapshot
from tests.test_provisioning import (
    ADA,
    BAKERY,
    COMMUNE,
    CORINNE,
    MARIE,
    PAUL,
    PUBLIC_SENDER,
    SAM,
    primary_of,
    public,
    public_world,  # noqa: F401  (test_hardening.py imports it from here)
)
from tests.test_structures import habilitations

REGIE = SAMPLE_SIRETS["regie"]
HOSPITAL = SAMPLE_SIRETS["hospital"]
AGENTS = (
    ("Durand", "Élise", "elise.durand@mairie-valdebriane.fr", "04 76 11 22 33"),
    ("Lefèvre", "Noé", "noe.lefevre@mairie-valdebriane.fr", ""),
    ("Gaëlle", "Zoé", "zoe.gaelle@mairie-valdebriane.fr", "06 12 34 56 78"),
)
FRENCH_HEADER = ("Nom", "Prénom", "Adresse e-mail", "Téléphone", "SIRET")


@pytest.fixture
def world(cli, worlds):
    return public(worlds, cli)


def write(tmp_path, name: str, rows, header=FRENCH_HEADER, encoding="cp1252", sep=";"):
    """A CSV as a spreadsheet saves it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def agents(structure: str = COMMUNE):
    return [(*agent, structure) for agent in AGENTS]


def bulk(world, who: str, *args: str, input: str | None = None):
    return world(who, "bulk", *args, input=input)


def imported(world, who, path, kind="accounts", *extra):
    return bulk(world, who, "import", str(path), "--kind", kind, *extra, "--json")


def logins(world) -> set[str]:
    exported = bulk(world, ADA, "export", "accounts", "--format", "jsonl")
    return {json.loads(line)["login_email"] for line in exported.stdout.splitlines()}


# --- reading the file -----------------------------------------------------------------


def test_ops1_excel_cp1252_semicolon_file_with_accents(world, tmp_path):
    path = write(tmp_path, "agents.csv", agents())
    assert "É".encode("cp1252") in path.read_bytes()  # really not UTF-8
    result = imported(world, CORINNE, path)
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert (summary["created"], summary["failed"]) == (3, 0)
    assert (summary["encoding"], summary["delimiter"], summary["format"]) == ("cp1252", ";", "csv")
    shown = bulk(world, ADA, "export", "accounts", "--format", "jsonl").stdout
    assert '"first_name": "Élise"' in shown and '"last_name": "Lefèvre"' in shown


def test_out3_bulk_import_shows_the_fields_it_declares_in_their_order(world, tmp_path):
    """Out of test_output_shaping's walk (NOT_WALKED): the JSON summary holds exactly the
    fields `bulk import` declares, in that order, and --fields keeps those named."""
    from chorus_cli.commands._common import fields_declared
    from chorus_cli.commands.bulk import import_

    path = write(tmp_path, "agents.csv", agents())
    result = imported(world, CORINNE, path)
    assert list(result.json()) == list(fields_declared(import_))
    again = imported(world, CORINNE, path, "accounts", "--fields", "unchanged,written")
    assert again.json() == {"unchanged": 3, "written": True}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"])
def test_ops1_utf8_with_or_without_bom(world, tmp_path, encoding):
    path = write(tmp_path, "agents.csv", agents(), encoding=encoding, sep=",")
    result = imported(world, CORINNE, path)
    assert result.exit_code == 0, result.stderr
    assert result.json()["encoding"] == "utf-8" and result.json()["delimiter"] == ","
    assert "elise.durand@mairie-valdebriane.fr" in logins(world)
    first = bulk(world, ADA, "export", "accounts", "--format", "jsonl").stdout
    assert '"first_name": "Élise"' in first


def test_ops1_json_lines_with_english_field_names(world, tmp_path):
    path = tmp_path / "agents.jsonl"
    lines = [
        {"login_email": email, "last_name": last, "first_name": first, "structure": COMMUNE}
        for last, first, email, _phone in AGENTS
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    result = imported(world, CORINNE, path)
    assert result.exit_code == 0, result.stderr
    assert result.json()["format"] == "jsonl" and result.json()["created"] == 3


def test_ops1_json_lines_are_sniffed_without_their_extension(world, tmp_path):
    path = tmp_path / "flux.txt"
    path.write_text(json.dumps({"login_email": "a@mairie.fr", "last_name": "A",
                                "first_name": "B", "structure": COMMUNE}) + "\n")  # fmt: skip
    assert imported(world, CORINNE, path).json()["format"] == "jsonl"


def test_ops1_columns_by_header_name_in_any_order_case_or_accent(world, tmp_path):
    header = ("siret", "ADRESSE E-MAIL", "prenom", "NOM", "Telephone")
    rows = [(COMMUNE, email, first, last, phone) for last, first, email, phone in AGENTS]
    result = imported(world, CORINNE, write(tmp_path, "a.csv", rows, header))
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == 3


def test_ops1_an_unknown_column_is_named_and_ignored(world, tmp_path):
    header = (*FRENCH_HEADER, "Matricule")
    rows = [(*row, "A123") for row in agents()]
    result = imported(world, CORINNE, write(tmp_path, "a.csv", rows, header))
    assert result.exit_code == 0
    assert "Matricule" in result.stderr and "OPS-1" in result.stderr
    assert result.json()["unknown_columns"] == ["Matricule"]


def test_ops1_a_missing_mandatory_column_is_named(world, tmp_path, unchanged):
    header = ("Nom", "Prénom", "SIRET")
    rows = [(last, first, COMMUNE) for last, first, _e, _p in AGENTS]
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows, header))
    assert result.exit_code == 2
    assert "login_email" in result.stderr and "Adresse e-mail" in result.stderr


# --- bad rows: all or nothing ---------------------------------------------------------


def test_ops1_a_bad_row_at_line_152_of_300_is_named_and_nothing_is_written(
    world, tmp_path, unchanged
):
    rows = [
        (f"Nom{i}", "Prénom", f"agent{i}@mairie-valdebriane.fr", "", COMMUNE) for i in range(299)
    ]
    rows[150] = ("Nom", "Prénom", "agent-150.mairie-valdebriane.fr", "", COMMUNE)  # line 152
    path = write(tmp_path, "agents.csv", rows)
    with unchanged():
        result = imported(world, CORINNE, path)
    assert result.exit_code == 2
    errors = result.json()["errors"]
    assert [(e["line"], e["column"], e["rule"]) for e in errors] == [
        (152, "Adresse e-mail", "ACC-1")
    ]
    assert "Ligne 152" in result.stderr and "rien n'a été écrit" in result.stderr
    assert world.cli.mails("agent1@mairie-valdebriane.fr") == []


def test_ops1_every_bad_row_is_reported_with_its_rule(world, tmp_path, unchanged):
    rows = [
        ("Durand", "Élise", "elise@mairie.fr", "12", COMMUNE),  # phone
        ("Durand", "", "e2@mairie.fr", "", COMMUNE),  # first name
        ("Durand", "Léa", "e3@mairie.fr", "", "12345678901234"),  # SIRET checksum
        ("Durand", "Léa", "e4@mairie.fr", "", REGIE),  # no such structure in the store
        ("Durand", "Léa", "ELISE@mairie.fr", "", COMMUNE),  # line 2's login again
    ]
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 2
    found = [(e["line"], e["column"], e["rule"]) for e in result.json()["errors"]]
    assert found == [
        (2, "Téléphone", "ACC-1"),
        (3, "Prénom", "ACC-1"),
        (4, "SIRET", "STR-1"),
        (5, "SIRET", "OPS-1"),
        (6, "Adresse e-mail", "OPS-1"),
    ]
    assert "ligne 2" in result.json()["errors"][-1]["message"]


def test_ops1_duplicate_logins_in_one_file_differ_only_by_case(world, tmp_path, unchanged):
    rows = [("A", "B", "Same@Mairie.fr", "", COMMUNE), ("C", "D", "same@mairie.fr", "", COMMUNE)]
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 2
    assert result.json()["errors"][0]["line"] == 3


def test_ops1_duplicates_are_found_across_chunks(world, tmp_path, unchanged, monkeypatch):
    from chorus_cli.bulk import service

    monkeypatch.setattr(service, "CHUNK", 5)  # the copy is three chunks after the first
    rows = [(f"N{i}", "P", f"agent{i}@mairie-valdebriane.fr", "", COMMUNE) for i in range(20)]
    rows.append(("N", "P", "AGENT3@mairie-valdebriane.fr", "", COMMUNE))  # line 22
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 2
    assert [(e["line"], e["rule"]) for e in result.json()["errors"]] == [(22, "OPS-1")]
    assert "ligne 5" in result.json()["errors"][0]["message"]
    repeated = write(tmp_path, "s.csv", [(REGIE, "oui")] * 7, ("SIRET", "Hélios"))
    with unchanged():
        again = imported(world, ADA, repeated, "structures")
    assert [e["line"] for e in again.json()["errors"]] == [3, 4, 5, 6, 7, 8]
    assert "ligne 2" in again.json()["errors"][-1]["message"]


def test_ops1_duplicates_of_new_accounts_name_their_first_line_among_updates(
    world, tmp_path, unchanged, monkeypatch
):
    """The accounts an import created are remembered compactly (runs of ids, a line
    each): a duplicate chunks later names the line of its first row, whichever chunk,
    among rows that update existing accounts and rows that fail."""
    from chorus_cli.bulk import service

    monkeypatch.setattr(service, "CHUNK", 3)
    new = [(f"N{i}", "P", f"agent{i}@mairie-valdebriane.fr", "", COMMUNE) for i in range(9)]
    rows = [
        new[0],  # line 2
        ("Curie", "Marie", MARIE, "", ""),  # line 3: exists, unchanged
        new[1],  # 4
        ("N", "P", "not-an-address", "", COMMUNE),  # 5: a bad row
        new[2],  # 6
        new[3],  # 7
        ("Curie", "Marie", MARIE.upper(), "", ""),  # 8: the same account again, later chunk
        new[4],  # 9
        new[5],  # 10
        new[6],  # 11
        ("N", "P", "AGENT5@mairie-valdebriane.fr", "", COMMUNE),  # 12: of line 10
        ("N", "P", "agent0@MAIRIE-valdebriane.fr", "", COMMUNE),  # 13: of line 2
        new[7],  # 14
        ("N", "P", "agent2@mairie-valdebriane.fr", "", COMMUNE),  # 15: of line 6
    ]
    with unchanged():
        result = imported(world, ADA, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 2
    errors = result.json()["errors"]
    assert [(e["line"], e["rule"]) for e in errors] == [
        (5, "ACC-1"),
        (12, "OPS-1"),
        (13, "OPS-1"),
        (15, "OPS-1"),
    ]
    assert ["ligne 10" in errors[1]["message"], "ligne 2" in errors[2]["message"]] == [True, True]
    assert "ligne 6" in errors[3]["message"]


def test_ops1_an_unknown_service_is_a_bad_row(world, tmp_path, unchanged):
    header = (*FRENCH_HEADER, "Services")
    rows = [(*agents()[0], "ACHATS")]
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows, header))
    assert result.exit_code == 2
    assert result.json()["errors"][0]["column"] == "Services"


def test_att1_inactive_services_refuse_a_row_as_they_refuse_a_request(world, tmp_path, unchanged):
    """ATT-1 (``granting.check_services_open``): a flow names the inactive services of a
    row in one sentence, as `attach request` does."""
    header = ("Adresse e-mail", "SIRET", "Services")
    manager = write(tmp_path, "m.csv", [(MARIE, COMMUNE, "")], header)
    assert imported(world, ADA, manager, "attachments").exit_code == 0  # the primary manager
    for code in ("RH", "ACHATS"):
        added = world(
            MARIE, "structure", "service", "add", COMMUNE, "--code", code, "--label", code
        )
        assert added.exit_code == 0, added.stderr
        assert world(MARIE, "structure", "service", "deactivate", COMMUNE, code).exit_code == 0
    with unchanged():
        result = imported(world, ADA, write(tmp_path, "t.csv", [(PAUL, COMMUNE, "RH, ACHATS")],
                                            header), "attachments")  # fmt: skip
        asked = world(PAUL, "attach", "request", "--structure", COMMUNE, "--service", "RH",
                      "--service", "ACHATS", "--comment", "Bonjour")  # fmt: skip
    assert result.exit_code == 2 and asked.exit_code == 1, asked.stderr
    (error,) = result.json()["errors"]
    assert (error["line"], error["column"], error["rule"]) == (2, "Services", "ATT-1")
    assert "ACHATS, RH" in error["message"] and "ACHATS, RH" in asked.stderr


@pytest.mark.parametrize(
    "content, words",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binaire"),
        (b"", "vide"),
        (b"\xef\xbb\xbf", "vide"),
        (b"Nom;Pr\xe9nom;Adresse e-mail\nA;B;a@m.fr\nC;\x81;c@m.fr\n", "ligne 3"),
        (b"Nom;Pr\xc3\xa9nom;Adresse e-mail\nA;\xe9;a@m.fr\n", "ligne 2"),
        (b'[{"login_email": "a@m.fr"}]', "JSON Lines"),
        (b"\xff\xfeN\x00o\x00m\x00", "UTF-16"),
        (b"Nom;Prenom;Adresse e-mail\n", "aucune ligne"),
    ],
)
def test_ops1_a_file_that_cannot_serve_is_refused_in_one_sentence(
    world, tmp_path, unchanged, content, words
):
    path = tmp_path / "flux.csv"
    path.write_bytes(content)
    with unchanged():
        result = bulk(world, CORINNE, "import", str(path), "--kind", "accounts")
    assert result.exit_code == 2
    assert words.lower() in result.stderr.lower() and "OPS-1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "line, words",
    [
        ('{"login_email": "a@m.fr", "last_name": "A"', "JSON illisible"),
        ('["a@m.fr", "A", "B"]', "objet JSON"),
        ('{"login_email": "a@m.fr", "last_name": "A", "first_name": "B", "phone": ["x"]}', "texte"),
    ],
)
def test_ops1_a_bad_json_line_is_a_bad_row(world, tmp_path, unchanged, line, words):
    good = json.dumps({"login_email": "b@m.fr", "last_name": "B", "first_name": "C",
                       "structure": COMMUNE})  # fmt: skip
    path = tmp_path / "flux.jsonl"
    path.write_text(good + "\n" + line + "\n")
    with unchanged():
        result = imported(world, CORINNE, path)
    assert result.exit_code == 2
    assert result.json()["errors"][0]["line"] == 2
    assert words in result.json()["errors"][0]["message"]


def test_ops1_a_row_with_too_many_fields(world, tmp_path, unchanged):
    path = tmp_path / "flux.csv"
    path.write_text(f"Nom;Prénom;Adresse e-mail;SIRET\nA;B;a@m.fr;{COMMUNE};en trop\n")
    with unchanged():
        result = imported(world, CORINNE, path)
    assert result.exit_code == 2
    assert "5 champs pour 4 colonnes" in result.json()["errors"][0]["message"]


def test_ops1_an_unknown_kind_is_bad_input(world, tmp_path, unchanged):
    with unchanged():
        result = bulk(world, ADA, "import", str(write(tmp_path, "a.csv", agents())),
                      "--kind", "users")  # fmt: skip
    assert result.exit_code == 2
    assert "accounts, structures, attachments" in result.stderr


def test_ops1_control_characters_in_a_name_are_refused(world, tmp_path, unchanged):
    rows = [("Siège\x1b[2J", "Léa", "lea@mairie.fr", "", COMMUNE)]
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows, encoding="utf-8"))
    assert result.exit_code == 2
    assert result.json()["errors"][0]["rule"] == "SEC-1"


# --- what an import writes ------------------------------------------------------------


def test_ops1_accounts_arrive_pending_marked_attached_and_mailed(world, tmp_path):
    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    for _last, _first, email, _phone in AGENTS:
        mail = world.cli.mails(email)[0]
        assert mail["sender"] == PUBLIC_SENDER and "activez" in mail["subject"]
    exported = bulk(world, ADA, "export", "accounts", "--format", "jsonl").stdout
    rows = {r["login_email"]: r for r in map(json.loads, exported.splitlines())}
    elise = rows["elise.durand@mairie-valdebriane.fr"]
    assert (elise["status"], elise["to_complete"], elise["phone"]) == (
        "pending",
        True,
        "+33476112233",
    )
    # The first account of the commune (no primary manager yet) becomes it (PUB-1).
    assert primary_of(world, COMMUNE) == "elise.durand@mairie-valdebriane.fr"
    assert (
        habilitations(world.cli, "noe.lefevre@mairie-valdebriane.fr", COMMUNE)["organisation"]
        == "consultation"
    )
    audit = world(ADA, "audit", "list", "--action", "bulk", "--json").json()
    assert audit[0]["details"]["created"] == 3 and audit[0]["actor"] == CORINNE


def test_ops1_an_imported_account_activates_and_logs_in(world, tmp_path):
    from tests.conftest import PASSWORD

    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    email = AGENTS[0][2]
    activated = world.cli("account", "activate", world.cli.last_link(email), "--password-stdin",
                          input=PASSWORD + "\n")  # fmt: skip
    assert activated.exit_code == 0, activated.stderr
    logged = world.cli.login(email)
    assert logged.exit_code == 0 and "PUB-2" in logged.stderr


def test_ops1_a_rerun_changes_nothing_and_says_so(world, tmp_path):
    path = write(tmp_path, "a.csv", agents())
    assert imported(world, CORINNE, path).exit_code == 0
    before = snapshot(world.cli.url)
    again = imported(world, CORINNE, path)
    assert again.exit_code == 0
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)
    assert "inchangés 3" in again.stderr
    after = snapshot(world.cli.url)
    after.pop("audit_entry"), before.pop("audit_entry")  # the import itself is audited
    after.pop("auth_session"), before.pop("auth_session")  # Corinne's last use
    assert after == before


def test_ops1_rows_that_differ_are_updated(world, tmp_path):
    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    changed = agents()
    changed[1] = ("Lefèvre-Martin", "Noé", AGENTS[1][2], "04 76 99 88 77", COMMUNE)
    result = imported(world, CORINNE, write(tmp_path, "b.csv", changed))
    assert (result.json()["updated"], result.json()["unchanged"]) == (1, 2)
    rows = bulk(world, ADA, "export", "accounts", "--format", "jsonl").stdout
    assert '"last_name": "Lefèvre-Martin"' in rows and "+33476998877" in rows


def test_ops1_an_empty_cell_erases_nothing(world, tmp_path):
    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    blank = [(last, first, email, "", COMMUNE) for last, first, email, _phone in AGENTS]
    assert imported(world, CORINNE, write(tmp_path, "b.csv", blank)).json()["unchanged"] == 3
    assert "+33476112233" in bulk(world, ADA, "export", "accounts").stdout


def test_ops1_dry_run_counts_what_would_change_and_writes_nothing(world, tmp_path, unchanged):
    path = write(tmp_path, "a.csv", agents())
    with unchanged():
        result = imported(world, CORINNE, path, "accounts", "--dry-run")
    assert result.exit_code == 0
    assert result.json()["created"] == 3 and result.json()["written"] is False
    assert "rien n'a été écrit" in result.stderr


def test_ops1_dry_run_reports_bad_rows_too(world, tmp_path, unchanged):
    rows = [*agents(), ("X", "Y", "pas-une-adresse", "", COMMUNE)]
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows), "accounts", "--dry-run")
    assert result.exit_code == 2 and result.json()["failed"] == 1


def test_ops1_no_progress_bar_when_piped(world, tmp_path):
    result = bulk(world, CORINNE, "import", str(write(tmp_path, "a.csv", agents())), "--kind",
                  "accounts")  # fmt: skip
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one summary line
    assert "créés 3, mis à jour 0, inchangés 0, en échec 0" in result.stderr


def test_ops1_big_files_are_checked_by_worker_processes(world, tmp_path, monkeypatch):
    from chorus_cli.bulk import service

    monkeypatch.setattr(service, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(service, "CHUNK", 7)
    rows = [(f"N{i}", "P", f"agent{i}@mairie-valdebriane.fr", "", COMMUNE) for i in range(60)]
    rows[40] = ("N", "P", "agent40@mairie-valdebriane.fr", "0", COMMUNE)
    result = imported(world, CORINNE, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 2
    assert [e["line"] for e in result.json()["errors"]] == [42]
    rows[40] = ("N", "P", "agent40@mairie-valdebriane.fr", "", COMMUNE)
    result = imported(world, CORINNE, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 0 and result.json()["created"] == 60
    assert len(logins(world) & {f"agent{i}@mairie-valdebriane.fr" for i in range(60)}) == 60


# --- who may import (PUB-1) -----------------------------------------------------------


def test_ops1_a_correspondent_outside_their_departments_is_refused(world, tmp_path, unchanged):
    with unchanged():
        result = imported(world, PAUL, write(tmp_path, "a.csv", agents()))
    assert result.exit_code == 4
    assert {e["rule"] for e in result.json()["errors"]} == {"PUB-1"}


def test_ops1_one_row_outside_the_scope_refuses_the_whole_file(world, tmp_path, unchanged):
    rows = [*agents(), ("Curie", "Pierre", "pierre@example.fr", "", BAKERY)]
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 4
    assert [e["line"] for e in result.json()["errors"]] == [5]


def test_ops1_a_correspondent_does_not_load_accounts_without_a_structure(
    world, tmp_path, unchanged
):
    rows = [(last, first, email, phone) for last, first, email, phone in AGENTS]
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows, FRENCH_HEADER[:4]))
    assert result.exit_code == 4


def test_ops1_a_correspondent_does_not_rename_someone_elses_account(world, tmp_path, unchanged):
    rows = [("Curie", "Marion", MARIE, "", COMMUNE)]
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 4


@pytest.mark.parametrize("who", [ADA, SAM])
def test_ops1_admin_and_support_import_anything(world, tmp_path, who):
    rows = [(last, first, email, phone) for last, first, email, phone in AGENTS]
    result = imported(world, who, write(tmp_path, "a.csv", rows, FRENCH_HEADER[:4]))
    assert result.exit_code == 0, result.stderr
    mail = world.cli.mails(AGENTS[0][2])[0]
    assert mail["sender"] != PUBLIC_SENDER  # attached to no public structure


def test_ops1_a_plain_account_may_not_import(world, tmp_path, unchanged):
    with unchanged():
        result = imported(world, MARIE, write(tmp_path, "a.csv", agents()))
    assert result.exit_code == 4


# --- structures and attachments -----------------------------------------------------------


def test_ops1_structures_take_their_data_from_sirene(world, tmp_path):
    header = ("SIRET", "Libellé", "Géré dans Hélios", "Téléphone")
    rows = [(REGIE, "Régie", "oui", "04 76 00 00 00"), (HOSPITAL, "", "non", "")]
    result = imported(world, CORINNE, write(tmp_path, "s.csv", rows, header), "structures")
    assert result.exit_code == 0, result.stderr
    regie = world(ADA, "structure", "show", REGIE, "--json").json()
    assert regie["raison_sociale"] == "RÉGIE DES EAUX DE VAL-DE-BRIANE"
    assert (regie["status"], regie["public"], regie["helios"]) == ("active", True, True)
    assert regie["address"]["postal_code"] == "38350" and regie["label"] == "Régie"
    # A public structure not managed in Hélios waits for support (STR-6).
    assert world(ADA, "structure", "show", HOSPITAL, "--json").json()["status"] == "pending"
    again = imported(world, CORINNE, write(tmp_path, "s.csv", rows, header), "structures")
    assert again.json()["unchanged"] == 2


def test_ops1_structure_rows_checked_against_sirene(world, tmp_path, unchanged):
    header = ("SIRET", "Hélios")
    rows = [
        (SAMPLE_SIRETS["unknown"], "oui"),  # not in the register
        (SAMPLE_SIRETS["commune_closed"], "oui"),  # closed
        (SAMPLE_SIRETS["company"], "oui"),  # Hélios but not public
        ("12345678901234", "oui"),  # Luhn
    ]
    with unchanged():
        result = imported(world, ADA, write(tmp_path, "s.csv", rows, header), "structures")
    assert result.exit_code == 2
    assert [e["rule"] for e in result.json()["errors"]] == ["STR-2", "STR-2", "STR-6", "STR-1"]


def test_ops1_a_structure_with_its_primary_manager(world, tmp_path):
    header = ("id_type", "identifier", "raison_sociale", "primary_manager")
    rows = [("RIDET", "1234567001", "Boulangerie de Nouméa", MARIE)]
    result = imported(world, ADA, write(tmp_path, "s.csv", rows, header), "structures")
    assert result.exit_code == 0, result.stderr
    assert primary_of(world, "1234567001") == MARIE
    assert habilitations(world.cli, MARIE, "1234567001")["organisation"] == "modification"


def test_ops1_structures_of_another_department_are_out_of_scope(world, tmp_path, unchanged):
    with unchanged():
        result = imported(world, PAUL, write(tmp_path, "s.csv", [(REGIE,)], ("SIRET",)),
                          "structures")  # fmt: skip
    assert result.exit_code == 4


def test_ops1_attachments_attach_existing_accounts_with_defaults(world, tmp_path):
    header = ("Adresse e-mail", "SIRET")
    rows = [(MARIE, COMMUNE)]
    # Ada: Marie's bakery puts her outside Corinne's scope (SEC-11, tests/test_scope.py).
    result = imported(world, ADA, write(tmp_path, "t.csv", rows, header), "attachments")
    assert result.exit_code == 0, result.stderr
    assert primary_of(world, COMMUNE) == MARIE  # the commune had none
    assert habilitations(world.cli, MARIE, COMMUNE)["organisation"] == "modification"
    notice = world.cli.mails(MARIE)[0]
    assert notice["sender"] == PUBLIC_SENDER and COMMUNE in notice["body"]
    again = imported(world, ADA, write(tmp_path, "t.csv", rows, header), "attachments")
    assert again.json()["unchanged"] == 1


def test_att1_pub1_a_structure_awaiting_support_takes_nobody_by_flow_or_command(
    world, tmp_path, unchanged
):
    """One rule (``granting.check_open``) for every path: a public structure not managed
    in Hélios waits for support (STR-6) and takes no account, provisioned (PUB-1) or
    attached (ATT-1), by a flow as by a command."""
    waiting = write(tmp_path, "s.csv", [(HOSPITAL, "non")], ("SIRET", "Géré dans Hélios"))
    assert imported(world, CORINNE, waiting, "structures").exit_code == 0
    with unchanged():
        agent = [("Roux", "Léa", "lea.roux@mairie-valdebriane.fr", "", HOSPITAL)]
        flows = [
            imported(world, CORINNE, write(tmp_path, "a.csv", agent)),
            imported(world, ADA, write(tmp_path, "t.csv", [(MARIE, HOSPITAL)],
                                       ("Adresse e-mail", "SIRET")), "attachments"),
        ]  # fmt: skip
        created = world(CORINNE, "account", "create", "--email", agent[0][2], "--last-name",
                        "Roux", "--first-name", "Léa", "--structure", HOSPITAL)  # fmt: skip
        asked = world(MARIE, "attach", "request", "--structure", HOSPITAL, "--comment", "Bonjour")
    said = [(f.exit_code, [(e["line"], e["column"], e["rule"]) for e in f.json()["errors"]])
            for f in flows]  # fmt: skip
    assert said == [(2, [(2, "SIRET", "PUB-1")]), (2, [(2, "SIRET", "ATT-1")])]
    assert (created.exit_code, asked.exit_code) == (1, 1)
    assert "PUB-1" in created.stderr and "ATT-1" in asked.stderr
    assert HOSPITAL in created.stderr and HOSPITAL in flows[0].json()["errors"][0]["message"]


def test_ops1_attachment_rows_name_existing_accounts(world, tmp_path, unchanged):
    header = ("Adresse e-mail", "SIRET")
    with unchanged():
        result = imported(world, CORINNE, write(tmp_path, "t.csv", [("nobody@m.fr", COMMUNE)],
                                                header), "attachments")  # fmt: skip
    assert result.exit_code == 2


# --- export (OPS-2) ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["accounts", "structures", "attachments", "habilitations"])
def test_ops2_an_empty_csv_export_keeps_its_header(world, kind):
    from chorus_cli.bulk.export import FIELDS

    result = bulk(world, PAUL, "export", kind)  # Paris: nothing in the sample
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [",".join(FIELDS[kind])]


def test_ops2_fields_are_those_of_show(world):
    shown = world(ADA, "structure", "show", COMMUNE, "--json").json()
    exported = bulk(world, ADA, "export", "structures", "--format", "jsonl").stdout
    rows = {r["identifier"]: r for r in map(json.loads, exported.splitlines())}
    assert list(rows[COMMUNE]) == list(shown)
    assert rows[COMMUNE] == {**shown, "services": rows[COMMUNE]["services"]}
    me = world(MARIE, "account", "show", "--json").json()
    accounts = bulk(world, ADA, "export", "accounts", "--format", "jsonl").stdout
    mine = next(r for r in map(json.loads, accounts.splitlines()) if r["login_email"] == MARIE)
    # show gives the exported fields, in their order, then MEM-3's view of the account
    assert list(me)[: len(mine)] == list(mine)
    assert {k: me[k] for k in mine} == mine


def test_ops2_the_csv_holds_the_same_values_as_the_json_lines(world):
    tricky = 'Comptable, «paie» et "marchés"\nDeuxième ligne'
    assert world(MARIE, "account", "update", "--biography", tricky).exit_code == 0
    as_csv = bulk(world, ADA, "export", "accounts").stdout
    as_jsonl = bulk(world, ADA, "export", "accounts", "--format", "jsonl").stdout
    from_json = [
        {
            k: "" if v is None else str(v).lower() if isinstance(v, bool) else v
            for k, v in row.items()
        }
        for row in map(json.loads, as_jsonl.splitlines())
    ]
    assert list(csv.DictReader(io.StringIO(as_csv))) == from_json
    assert any(row["biography"] == tricky for row in from_json)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("kind", ["accounts", "structures", "attachments"])
def test_ops2_an_export_reimports_unchanged(world, tmp_path, kind, fmt):
    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    exported = bulk(world, ADA, "export", kind, "--format", fmt)
    assert exported.exit_code == 0, exported.stderr
    path = tmp_path / f"export.{fmt}"
    path.write_text(exported.stdout, encoding="utf-8")
    again = imported(world, ADA, path, kind)
    assert again.exit_code == 0, again.stderr
    summary = again.json()
    assert (summary["created"], summary["updated"], summary["failed"]) == (0, 0, 0)
    assert summary["unchanged"] == len(exported.stdout.strip().splitlines()) - (fmt == "csv")
    assert summary["unknown_columns"] == []


SETTINGS = ("service_code_required", "engagement_number_required")


def settings_of(world, who: str = MARIE) -> tuple[bool, bool]:
    shown = world(who, "structure", "show", BAKERY, "--json")
    assert shown.exit_code == 0, shown.stderr
    return tuple(shown.json()[name] for name in SETTINGS)


def test_api1_structure_settings_round_trip_update_show_export_import(world, tmp_path):
    """consulterStructure's settings (issue 22): set by `structure update`, shown,
    exported, an export reimported unchanged, changed by a sheet as by the command."""
    assert settings_of(world) == (False, False)
    args = ("--service-code-required", "ON", "--engagement-number-required", "off", "--json")
    updated = world(MARIE, "structure", "update", BAKERY, *args)
    assert updated.exit_code == 0, updated.stderr
    assert tuple(updated.json()[name] for name in SETTINGS) == (True, False)
    assert settings_of(world) == (True, False)
    exported = bulk(world, ADA, "export", "structures")
    assert exported.exit_code == 0, exported.stderr
    (row,) = [r for r in csv.DictReader(io.StringIO(exported.stdout)) if r["identifier"] == BAKERY]
    assert (row["service_code_required"], row["engagement_number_required"]) == ("true", "false")
    path = tmp_path / "export.csv"
    path.write_text(exported.stdout, encoding="utf-8")
    again = imported(world, ADA, path, "structures").json()
    assert (again["created"], again["updated"], again["failed"]) == (0, 0, 0)
    header = ("SIRET", "Code service obligatoire", "Numéro EJ obligatoire")
    sheet = write(tmp_path, "s.csv", [(BAKERY, "non", "oui")], header)
    changed = imported(world, ADA, sheet, "structures").json()
    assert (changed["updated"], changed["unknown_columns"]) == (1, [])
    assert settings_of(world) == (False, True)
    blank = write(tmp_path, "b.csv", [(BAKERY, "", "")], header)  # empty: left as is
    assert imported(world, ADA, blank, "structures").json()["unchanged"] == 1
    assert settings_of(world) == (False, True)
    switched = write(tmp_path, "o.csv", [(BAKERY, "ON", "off")], header)  # as the command's
    assert imported(world, ADA, switched, "structures").json()["updated"] == 1
    assert settings_of(world) == (True, False)
    audit = world(ADA, "audit", "list", "--json").json()
    fields = [e["details"].get("fields") for e in audit if e["action"] == "structure.update"]
    assert ["engagement_number_required", "service_code_required"] in fields


def test_ops2_a_correspondent_sees_their_departments(world, tmp_path):
    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    mine = bulk(world, CORINNE, "export", "accounts", "--format", "jsonl").stdout
    seen = {json.loads(line)["login_email"] for line in mine.splitlines()}
    assert seen == {email for _l, _f, email, _p in AGENTS}  # not Marie, not Ada
    structures = bulk(world, CORINNE, "export", "structures").stdout
    assert COMMUNE in structures and BAKERY not in structures
    habil = bulk(world, CORINNE, "export", "habilitations").stdout
    assert len(habil.splitlines()) == 1 + 3 * 9
    assert bulk(world, PAUL, "export", "accounts").stdout.count("\n") == 1


def test_ops2_a_plain_account_may_not_export(world):
    assert bulk(world, MARIE, "export", "accounts").exit_code == 4


def test_ops2_unknown_kind_or_format_is_bad_input(world):
    assert bulk(world, ADA, "export", "users").exit_code == 2
    assert bulk(world, ADA, "export", "accounts", "--format", "xml").exit_code == 2


# --- concurrency and faults -------------------------------------------------------------


def test_ops1_two_imports_at_once_both_land_whole(world, tmp_path):
    from tests.memory_keyring import MemoryKeyring
    from tests.processes import together

    files = []
    for team in ("a", "b"):
        rows = [(f"N{i}", "P", f"{team}{i}@mairie-valdebriane.fr", "", COMMUNE) for i in range(150)]
        files.append(write(tmp_path, f"{team}.csv", rows))
    MemoryKeyring.entries = dict(world.sessions[CORINNE])
    outcomes = together(
        world.cli, [["bulk", "import", str(f), "--kind", "accounts"] for f in files]
    )
    assert [code for code, _err in outcomes] == [0, 0], outcomes
    wanted = {f"{team}{i}@mairie-valdebriane.fr" for team in "ab" for i in range(150)}
    assert wanted <= logins(world)
    assert primary_of(world, COMMUNE) in wanted  # exactly one of them became it


def _import_then_die(env, argv, written) -> None:
    """The import of ``argv`` in this forked process, which says when its first chunk is
    written (not committed), then waits to be killed."""
    import io
    import sys
    import time

    from chorus_cli.bulk import load, service
    from chorus_cli.cli import main
    from chorus_cli.store import engine as engine_module

    for engine in engine_module._engines.values():
        engine.dispose(close=False)
    engine_module._engines.clear()
    import os

    os.environ.update(env)
    service.CHUNK = 50
    flush = load.Loader.flush

    def flush_then_signal(self):  # type: ignore[no-untyped-def]
        flush(self)
        written.set()
        time.sleep(60)

    load.Loader.flush = flush_then_signal
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(), io.StringIO(), io.StringIO()
    main(argv)


def test_ops1_an_import_killed_midway_leaves_the_store_as_it_was(world, tmp_path):
    import multiprocessing
    import os
    import signal

    from tests.memory_keyring import MemoryKeyring

    rows = [(f"N{i}", "P", f"k{i}@mairie-valdebriane.fr", "", COMMUNE) for i in range(400)]
    path = write(tmp_path, "big.csv", rows)
    MemoryKeyring.entries = dict(world.sessions[CORINNE])
    before = snapshot(world.cli.url)
    context = multiprocessing.get_context("fork")
    written = context.Event()
    child = context.Process(
        target=_import_then_die,
        args=(world.cli.env, ["bulk", "import", str(path), "--kind", "accounts"], written),
    )
    child.start()
    assert written.wait(timeout=60), "the import never wrote its first chunk"
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=10)
    assert child.exitcode == -signal.SIGKILL
    from chorus_cli.store import engine as engine_module

    engine_module.dispose_all()
    after = snapshot(world.cli.url)
    assert after == before
    assert imported(world, CORINNE, path).json()["created"] == 400  # and it runs again
