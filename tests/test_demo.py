"""`chorus demo` runs the main flows for real, on a temporary store."""

import os
import re
import subprocess
import sys
from pathlib import Path

CHORUS = Path(sys.executable).parent / "chorus"


def run_demo(tmp_path, *args, env=None):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("CHORUS_", "PYTHON_KEYRING"))
    }
    environment.update({"CHORUS_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120", **(env or {})})
    return subprocess.run(
        [str(CHORUS), *args, "demo", "--plain"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_demo_shows_the_account_flow_without_touching_the_users_store(tmp_path):
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # ACC-3: created pending, activation mail shown; ACC-5: weak password refused (exit 2);
    # AUTH-1: login with the mailed code; ACC-4: an expired link exits 6, reset works.
    assert re.search(r"status +pending", out)
    assert "activate?token=" in out
    assert "Mot de passe refusé (ACC-5)" in out
    assert "Connecté en tant que marie.curie@example.fr" in out
    assert "Ce lien a expiré (ACC-4" in out
    assert out.count("exit 6") == 1 and out.count("exit 2") == 1
    assert "exit 0" not in out  # an exit code is shown only when it is not 0
    assert "account.create" in out  # the audit log
    # STR-2, STR-4: the bundled SIRENE sample is imported, a structure created from it.
    assert "Index SIRENE remplacé (STR-2)" in out
    assert "BOULANGERIE DUPONT ET FILS · primary" in out
    # ATT-1..3, HAB-3: Pierre's request approved by Marie, his default profiles listed.
    assert "pierre.durand@example.fr" in out and "Factures émises" in out
    # MEM-5: his «abonnement» to «Organisation modification», approved, in his history.
    assert "$ chorus habil request --structure" in out
    assert "1 demande approuvée" in out and re.search(r"\d+ +subscription +", out)
    # MFA-2, MFA-3: a QR code drawn in block characters, then a login with a TOTP code.
    assert "█" in out and "chorus mfa totp confirm" in out
    # The guidance first, then the QR code, then the key right after its label.
    scan, qr = out.index("Scannez ce code QR"), out.index("█")
    assert scan < qr < out.index("Ou saisissez cette clé à la main")
    assert re.search(r"à la main [^\n]*:\n(?:[A-Z2-7]{4} ){7}[A-Z2-7]{4}\n", out)
    # SEC-2: the admin re-seals the seed with a new key, and the app still logs Marie in.
    assert "chorus db rotate-key" in out and "1 secret TOTP chiffré" in out
    assert out.count("Connecté en tant que marie.curie@example.fr") == 3
    # OPS-1, OPS-2, PUB-1..3: a correspondent loads the bundled flows (cp1252, `;`), a
    # re-run changes nothing, the mails come from the DGFiP, the export has its header.
    assert "structures_38.csv (structures) : créés 2" in out
    assert "agents_val_de_briane.csv (accounts) : créés 4" in out
    assert "créés 0, mis à jour 0, inchangés 4" in out
    assert "noreply@dgfip.finances.gouv.fr → elise.durand@mairie-valdebriane.fr" in out
    assert re.search(r"primary_manager +elise\.durand@mairie-valdebriane\.fr", out)
    assert "login_email,contact_email,first_name" in out
    assert "Compte noe.lefevre@mairie-valdebriane.fr supprimé" in out
    # TECH-1: Marie's technical account, its password shown once.
    assert "Compte technique TECH_1_44123456400017@cpro.fr créé" in out
    # OPS-6: a batch in one process; an --atomic one rolled back at its failing line.
    assert "$ chorus batch lignes.txt" in out
    assert "Lot annulé à la ligne 3 (OPS-6, --atomic)" in out
    # OPS-3, OPS-7: a seeded store and its copy, counts checked.
    assert "Magasin rempli (OPS-3, graine 7) : 500 comptes" in out
    assert re.search(r"Magasin copié dans .*copie\.db : \d+ lignes, 25 tables", out)
    # MEM-1, MEM-2: Marie lists her bakery's members and removes Pierre, who is mailed.
    assert "$ chorus structure members 44123456400017" in out
    assert re.search(r"pierre\.durand@example\.fr +Durand +Pierre +active +manager", out)  # MEM-5
    assert "pierre.durand@example.fr est retiré de la structure 44123456400017" in out
    assert "marie.curie@example.fr vous a retiré de la structure" in out
    # SET-2: the weekly summary mailed once, the second run sends nothing new.
    assert "Récapitulatif hebdomadaire envoyé à 1 abonné " in out
    assert "Récapitulatif hebdomadaire envoyé à 0 abonné " in out
    # SET-1, SET-5: a photo described by type, size and dimensions.
    assert "image/png, 590 o, 200×200" in out
    # LA-1..3: a login-address change confirmed with the link; SET-4: deactivated, a
    # log-in refused, reactivated with password and mailed code.
    assert "Votre adresse de connexion est désormais paul.martin@nouveau.fr" in out
    assert "Compte paul.martin@nouveau.fr désactivé" in out
    assert "Compte paul.martin@nouveau.fr réactivé." in out
    # MEM-3, MEM-4: support sees Pierre's whole account, suspends it (a log-in refused
    # with its own sentence, a notice with the reason), then restores it.
    assert re.search(r"last_login_at +\d{4}-", out)
    assert "Compte pierre.durand@example.fr suspendu (MEM-4)" in out
    assert "Motif : Poste quitté, en attente du départ" in out
    assert "Connexion refusée (MEM-4, AUTH-4)" in out
    assert "Compte pierre.durand@example.fr rétabli (MEM-4)" in out
    # SEC-8: an SMTP server that does not answer; the mail waits with its attempt and
    # reason, and the operator discards it.
    assert "seront réessayés à partir de" in out and "ConnectionRefusedError" in out
    assert re.search(r"jeanne\.barret@example\.fr +Chorus Pro .* pending +1 ", out)
    assert "à jeanne.barret@example.fr abandonné" in out
    # API-1, API-2: chorus serve answers the bakery's ERP: token, search by SIRET,
    # the structure's settings, its services.
    assert '"token_type": "Bearer"' in out
    assert "$BASE/cpro/structures/v1/rechercher" in out
    assert '"designationStructure": "BOULANGERIE DUPONT ET FILS"' in out
    assert '"codeServiceDoitEtreRenseigne": false' in out
    assert '"codeService": "ACHATS"' in out
    # The user's own store (the data dir) was never created.
    assert not (tmp_path / "data" / "chorus.db").exists()


def test_demo_speaks_english_with_lang_en(tmp_path):
    result = run_demo(tmp_path, "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "Password refused (ACC-5)" in result.stdout
    assert "Logged in as marie.curie@example.fr" in result.stdout


def _csv_blocks(out: str, after: str, rows: int) -> tuple[list[list[str]], set[int]]:
    """The CSV printed after the line ``after``: its header and ``rows`` records, and
    the numbers of the lines they take."""
    import csv
    import io

    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(after))
    start = next(i for i in range(start, len(lines)) if lines[i].startswith("login_email,"))
    reader = csv.reader(io.StringIO("\n".join(lines[start:]) + "\n"))
    records = [next(reader) for _ in range(rows + 1)]
    return records, set(range(start, start + reader.line_num))


def test_out1_the_demo_fits_80_columns_and_keeps_its_csv_and_commands_whole(tmp_path):
    """At 80 columns the demo folded its CSV and its long command lines into noise: no
    line is wider now, but for the CSV, which is data and parses as written; a long
    command is cut between its words with a shell continuation."""
    result = run_demo(tmp_path, env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    exported, export_lines = _csv_blocks(out, "$ chorus bulk export accounts", 4)
    assert all(len(row) == len(exported[0]) == 13 for row in exported), exported
    assert exported[1][0] == "elise.durand@mairie-valdebriane.fr"
    whoami, whoami_lines = _csv_blocks(out, "$ chorus batch lignes.txt", 1)
    assert len(whoami[1]) == len(whoami[0]) and whoami[1][0] == "marie.curie@example.fr"
    lines = out.splitlines()
    wide = [
        line
        for n, line in enumerate(lines)
        if len(line) > 80 and n not in export_lines | whoami_lines
    ]
    assert wide == []
    # A command wider than the terminal goes on the next line after a shell continuation.
    at = lines.index("$ chorus sirene import StockEtablissement_sample.csv \\")
    assert lines[at + 1].split() == ["--unites-legales", "StockUniteLegale_sample.csv"]


def test_tech1_the_demos_api_step_takes_the_technical_password_from_the_record_not_the_table(
    monkeypatch, capsys
):
    """The ERP's ``cpro-account`` carries the password `account technical create` gave
    (TECH-1), taken from the record the command showed, not read back from its table's
    text: with records drawn another way, the API step is still answered (API-2)."""
    from chorus_cli import demo
    from chorus_cli.cli import main
    from chorus_cli.ui import tables

    drawn = tables.print_record

    def another_layout(data, title=None):
        if "password" not in data:
            return drawn(data, title)
        print("\n".join(f"{key.upper()} = {value}" for key, value in data.items()))

    monkeypatch.setattr(tables, "print_record", another_layout)
    monkeypatch.setenv("COLUMNS", "120")
    demo.run(main, "fr", plain=True)
    out = capsys.readouterr().out
    assert "PASSWORD = " in out and '"codeRetour": 401' not in out
    assert '"designationStructure": "BOULANGERIE DUPONT ET FILS"' in out
    assert '"codeService": "ACHATS"' in out
