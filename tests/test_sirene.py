"""The SIRENE register (STR-1..3): INSEE's stock files as an offline index, the INSEE
Sirene API when a key is configured, `chorus sirene import | lookup | search |
configure-api`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chorus_cli.sirene import sample_files
from chorus_cli.sirene.columns import ETABLISSEMENT_HEADER, UNITE_LEGALE_HEADER
from tests.conftest import PASSWORD, SAMPLE_SIRETS, SIRENE_OPERATOR, load_sample

USER = "marie.curie@example.fr"
SAMPLE_ESTABLISHMENTS, SAMPLE_UNITS = (str(p) for p in sample_files())


# --- helpers -------------------------------------------------------------------------


def operator(cli) -> str:
    """Bootstrap the first admin and log in as it: it may import and configure."""
    booted = cli(
        "admin", "bootstrap", "--email", SIRENE_OPERATOR, "--last-name", "Ops", "--first-name", "S"
    )
    assert booted.exit_code == 0, booted.stderr
    link = cli.last_link(SIRENE_OPERATOR)
    assert (
        cli("account", "activate", link, "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    )
    assert cli.login(SIRENE_OPERATOR).exit_code == 0
    return SIRENE_OPERATOR


def rows_of(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, header, rows, *, encoding="utf-8") -> str:
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def establishment(siret: str, name: str = "", **fields: str) -> dict[str, str]:
    """One row of a StockEtablissement file (its own name in denominationUsuelle)."""
    row = {
        "siren": siret[:9],
        "nic": siret[9:],
        "siret": siret,
        "statutDiffusionEtablissement": "O",
        "etatAdministratifEtablissement": "A",
        "etablissementSiege": "true",
        "numeroVoieEtablissement": "1",
        "typeVoieEtablissement": "RUE",
        "libelleVoieEtablissement": "DE LA PAIX",
        "codePostalEtablissement": "75002",
        "libelleCommuneEtablissement": "PARIS 2",
        "denominationUsuelleEtablissement": name,
    }
    row.update(fields)
    return row


def store_rows(cli, sql: str) -> list[tuple]:
    from sqlalchemy import text

    from chorus_cli.store.engine import get_engine

    with get_engine(cli.url).connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def imported(cli, *args: str):
    result = cli("sirene", "import", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def _sample(cli) -> None:
    load_sample(cli)
    cli.logged_in(USER)


@pytest.fixture
def sample(cli, worlds):
    """The bundled sample imported; Marie (no role) logged in (built once per worker and
    store, copied into the test's store)."""
    worlds.clone(cli, "sirene sample", _sample)
    return cli


def look(cli, siret: str) -> dict:
    result = cli("sirene", "lookup", siret, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def sirets(result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return [row["siret"] for row in result.json()]


# --- STR-2: the import ---------------------------------------------------------------


def test_str2_import_of_the_bundled_sample_reports_a_summary(cli):
    operator(cli)

    result = cli(
        "sirene", "import", SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS, "--json"
    )

    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert summary["establishments"] == 22 and summary["units"] == 15
    assert summary["skipped"] == 0 and summary["skipped_rows"] == []
    assert "STR-2" in result.stderr and "22" in result.stderr
    assert store_rows(cli, "SELECT count(*) FROM sirene_establishment") == [(22,)]
    audit = cli("audit", "list", "--action", "sirene.import", "--json").json()
    assert audit and audit[0]["actor"] == SIRENE_OPERATOR


def test_str2_columns_are_mapped_by_header_name_extra_and_reordered(cli, tmp_path):
    operator(cli)
    header = list(reversed(ETABLISSEMENT_HEADER)) + ["colonneAjouteeEn2027"]
    header.remove("dernierNumeroVoieEtablissement")  # an optional column may be absent
    rows = [dict(row, colonneAjouteeEn2027="x") for row in rows_of(SAMPLE_ESTABLISHMENTS)]
    path = tmp_path / "StockEtablissement_2027.csv"
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=header, restval="", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text("\ufeff" + text.getvalue(), encoding="utf-8")  # with a BOM, as Excel saves
    units_header = ["nouvelleColonne", *UNITE_LEGALE_HEADER[::-1]]
    units = write_csv(tmp_path / "units.csv", units_header, rows_of(SAMPLE_UNITS))

    summary = imported(cli, str(path), "--unites-legales", units)

    assert summary["establishments"] == 22 and summary["skipped"] == 0
    company = look(cli, SAMPLE_SIRETS["company"])
    assert company["raison_sociale"] == "CHORUS DEMO SERVICES"
    assert company["address"] == "BATIMENT B\n12 AVENUE DE LA REPUBLIQUE"  # no range: no column
    assert company["postal_code"] == "69003" and company["commune"] == "LYON 3EME"


def test_str2_zip_files_are_read_as_published(cli, tmp_path):
    operator(cli)
    archives = []
    for source, name in (
        (SAMPLE_ESTABLISHMENTS, "StockEtablissement"),
        (SAMPLE_UNITS, "StockUniteLegale"),
    ):
        archive = tmp_path / f"{name}_utf8.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.write(source, f"{name}_utf8.csv")
        archives.append(str(archive))

    summary = imported(cli, archives[0], "--unites-legales", archives[1])

    assert summary["establishments"] == 22 and summary["units"] == 15
    assert look(cli, SAMPLE_SIRETS["la_poste"])["raison_sociale"] == "LA POSTE"


def test_str2_zip_must_hold_one_csv(cli, tmp_path, unchanged):
    operator(cli)
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(SAMPLE_ESTABLISHMENTS, "a.csv")
        bundle.write(SAMPLE_UNITS, "b.csv")

    with unchanged():
        result = cli("sirene", "import", str(archive))

    assert result.exit_code == 2 and "STR-2" in result.stderr and "2" in result.stderr


def test_str2_malformed_rows_are_skipped_counted_and_reported_by_line(cli, tmp_path):
    operator(cli)
    good = [establishment("82345678500018", "A"), establishment("44123456400017", "B")]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=ETABLISSEMENT_HEADER, restval="", lineterminator="\n")
    writer.writeheader()  # line 1
    writer.writerow(good[0])  # line 2
    # line 3-4: one row over two lines (a quoted newline), which is fine
    writer.writerow(
        establishment("51234567900017", "C", complementAdresseEtablissement="BAT C\nESC 2")
    )
    text.write("51234567900025,too,few,fields\n")  # line 5: wrong field count
    writer.writerow(establishment("1234", "D"))  # line 6: not a SIRET
    writer.writerow(establishment("39912345400015", "E", etatAdministratifEtablissement="X"))  # 7
    writer.writerow(good[1])  # line 8
    path = tmp_path / "StockEtablissement.csv"
    path.write_text(text.getvalue(), encoding="utf-8")

    result = cli("sirene", "import", str(path), "--json")

    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert summary["establishments"] == 3 and summary["skipped"] == 3
    reported = [(row["line"], row["reason"]) for row in summary["skipped_rows"]]
    assert reported == [(5, "columns"), (6, "siret"), (7, "state")]
    assert "ligne 5" in result.stderr and "ligne 6" in result.stderr and "ligne 7" in result.stderr
    assert look(cli, "51234567900017")["address"] == "BAT C\nESC 2\n1 RUE DE LA PAIX"


def test_str2_an_unreadable_csv_line_is_skipped_too(cli, tmp_path):
    operator(cli)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=ETABLISSEMENT_HEADER, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerow(establishment("82345678500018", "BON\0NUL"))  # line 2: a NUL byte
    writer.writerow(establishment("44123456400017", "SUIVANT"))  # line 3
    path = tmp_path / "nul.csv"
    path.write_text(text.getvalue(), encoding="utf-8")

    summary = imported(cli, str(path))

    assert summary["establishments"] == 1 and summary["skipped"] == 1
    assert [(r["line"], r["reason"]) for r in summary["skipped_rows"]] == [(2, "csv")]


def test_str2_a_missing_required_column_is_refused_and_the_index_unchanged(
    cli, tmp_path, unchanged
):
    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)
    header = [c for c in ETABLISSEMENT_HEADER if c != "libelleVoieEtablissement"]
    path = write_csv(tmp_path / "StockEtablissement.csv", header, rows_of(SAMPLE_ESTABLISHMENTS))

    with unchanged():
        result = cli("sirene", "import", path, "--unites-legales", SAMPLE_UNITS)

    assert result.exit_code == 2 and result.stdout == ""
    assert "libelleVoieEtablissement" in result.stderr and "STR-2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_str2_a_units_file_missing_a_column_is_refused_too(cli, tmp_path, unchanged):
    operator(cli)
    header = [c for c in UNITE_LEGALE_HEADER if c != "categorieJuridiqueUniteLegale"]
    units = write_csv(tmp_path / "units.csv", header, rows_of(SAMPLE_UNITS))

    with unchanged():
        result = cli("sirene", "import", SAMPLE_ESTABLISHMENTS, "--unites-legales", units)

    assert result.exit_code == 2 and "categorieJuridiqueUniteLegale" in result.stderr


def test_str2_a_file_not_in_utf8_is_refused_and_the_index_unchanged(cli, tmp_path, unchanged):
    operator(cli)
    rows = [establishment("82345678500018", "SOCIÉTÉ ÉLÉGANTE")]
    path = write_csv(tmp_path / "cp1252.csv", ETABLISSEMENT_HEADER, rows, encoding="cp1252")

    with unchanged():
        result = cli("sirene", "import", path)

    assert result.exit_code == 2 and "UTF-8" in result.stderr


def test_str2_the_line_that_is_not_utf8_is_named_not_line_1(cli, tmp_path, unchanged):
    """A strict decoder fails a whole chunk ahead of the bad byte: the real line is named."""
    operator(cli)
    rows = [establishment("82345678500018", f"SOCIETE {i}") for i in range(300)]
    path = Path(write_csv(tmp_path / "mixed.csv", ETABLISSEMENT_HEADER, rows))
    lines = path.read_bytes().split(b"\r\n")
    lines[151] = lines[151].replace(b"SOCIETE", "SOCIÉTÉ".encode("cp1252"))  # line 152
    path.write_bytes(b"\r\n".join(lines))

    with unchanged():
        result = cli("sirene", "import", str(path))

    assert result.exit_code == 2
    assert "UTF-8 (ligne 152)" in result.stderr


def test_str2_db_upgrade_drops_what_a_killed_import_left(cli):
    """A kill -9 mid-import leaves its staging tables; `db upgrade`
    drops them (the next import did already), and the live index stays."""
    from sqlalchemy import inspect

    from chorus_cli.sirene import build
    from chorus_cli.store import sirene_tables as schema
    from chorus_cli.store.engine import dispose_all, get_engine
    from tests.conftest import SAMPLE_SIRETS, SIRENE_OPERATOR, load_sample

    load_sample(cli)
    loader = build._Loader(get_engine(cli.url), build.IndexSummary(), build._no_progress)
    try:  # what a killed import leaves: its staging tables, created and committed
        loader.create_staging(with_units=True)
    finally:
        loader.close()
    staging = {schema.ESTABLISHMENT + schema.STAGING, schema.UNIT + schema.STAGING}
    assert staging <= set(inspect(get_engine(cli.url)).get_table_names())
    dispose_all()

    upgraded = cli("db", "upgrade")

    assert upgraded.exit_code == 0, upgraded.stderr
    assert "import SIRENE interrompu supprimées" in upgraded.stderr
    assert not staging & set(inspect(get_engine(cli.url)).get_table_names())
    assert cli.login(SIRENE_OPERATOR).exit_code == 0
    assert cli("sirene", "lookup", SAMPLE_SIRETS["bakery"]).exit_code == 0
    again = cli("db", "upgrade")
    assert again.exit_code == 0 and "interrompu" not in again.stderr


def test_str2_db_upgrade_of_a_fresh_store_leaves_only_the_store(tmp_path):
    """`db upgrade` imports nothing: beside the store it leaves no SIRENE import lock
    file (the lock is the import's; a store never imported needs none)."""
    import os

    folder = tmp_path / "store"
    folder.mkdir()
    env = {
        **os.environ,
        "CHORUS_DATA_DIR": str(tmp_path / "data"),
        "CHORUS_DATABASE_URL": f"sqlite:///{folder / 'chorus.db'}",
        "PYTHON_KEYRING_BACKEND": "tests.memory_keyring.MemoryKeyring",
        "CHORUS_LANG": "fr",
    }
    done = subprocess.run([sys.executable, "-m", "chorus_cli", "db", "upgrade"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["chorus.db"]


def test_str2_a_missing_file_is_bad_input(cli, tmp_path):
    operator(cli)

    result = cli("sirene", "import", str(tmp_path / "absent.csv"))

    assert result.exit_code == 2 and "absent.csv" in result.stderr


def test_str2_reimport_replaces_the_index_atomically(cli, tmp_path, monkeypatch):
    from sqlalchemy import create_engine, text

    from chorus_cli.sirene import build

    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)
    fresh = "73282932000074"
    path = write_csv(
        tmp_path / "next.csv", ETABLISSEMENT_HEADER, [establishment(fresh, "NOUVELLE")]
    )
    seen = {}
    build_search = build._Loader.build_search

    def reader_meanwhile(loader):
        # The new rows are loaded, not yet swapped in: another connection (a plain
        # one, which takes no write lock) still sees the whole old index.
        engine = create_engine(cli.url)
        with engine.connect() as conn:
            seen["live"] = conn.execute(text("SELECT count(*) FROM sirene_establishment")).scalar()
            seen["fresh"] = conn.execute(
                text("SELECT count(*) FROM sirene_establishment WHERE siret = :s"),
                {"s": int(fresh)},
            ).scalar()
            seen["staged"] = conn.execute(
                text("SELECT count(*) FROM sirene_establishment_new")
            ).scalar()
        engine.dispose()
        return build_search(loader)

    monkeypatch.setattr(build._Loader, "build_search", reader_meanwhile)
    summary = imported(cli, path)

    assert seen == {"live": 22, "fresh": 0, "staged": 1}
    assert summary["establishments"] == 1 and summary["units_kept"] is True
    assert store_rows(cli, "SELECT siret FROM sirene_establishment") == [(int(fresh),)]
    assert cli("sirene", "lookup", SAMPLE_SIRETS["company"]).exit_code == 3
    tables = store_rows(
        cli,
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if cli.url.startswith("sqlite")
        else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
    )
    assert not [name for (name,) in tables if name.endswith(("_new", "_old"))]


def test_str2_a_failed_import_leaves_the_old_index_and_no_partial_one(cli, monkeypatch, unchanged):
    from chorus_cli.sirene import build

    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)

    def crash(_loader):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build._Loader, "build_search", crash)
    with unchanged(), pytest.raises(RuntimeError):
        cli("sirene", "import", SAMPLE_ESTABLISHMENTS)


def test_str2_without_unites_legales_the_previous_units_name_the_establishments(cli, tmp_path):
    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)

    summary = imported(cli, SAMPLE_ESTABLISHMENTS)

    assert summary["units_kept"] is True and summary["units"] == 15
    assert look(cli, SAMPLE_SIRETS["bakery"])["raison_sociale"] == "BOULANGERIE DUPONT ET FILS"


def test_str2_duplicate_sirets_keep_the_first_row(cli, tmp_path):
    operator(cli)
    rows = [establishment("82345678500018", "PREMIER"), establishment("82345678500018", "SECOND")]
    path = write_csv(tmp_path / "dup.csv", ETABLISSEMENT_HEADER, rows)

    summary = imported(cli, path)

    assert summary["establishments"] == 1 and summary["duplicates"] == 1
    assert look(cli, "82345678500018")["raison_sociale"] == "PREMIER"


def test_str2_establishments_out_of_siren_order_get_their_legal_units(cli, tmp_path, monkeypatch):
    """A batch's legal units are read as one range of SIRENs (INSEE's files are in that
    order); out of order, the range holds far more units than the batch names and they
    are read by SIREN: each establishment still gets its unit's name, and a
    non-diffusible unit's establishments no address (STR-3)."""
    from chorus_cli.sirene import batches

    monkeypatch.setattr(batches, "BATCH", 20)
    operator(cli)
    sirens = [f"{10_000_000 + n * 3:08d}0" for n in range(400)]  # nine digits, key unchecked
    units = [
        {
            "siren": siren,
            "statutDiffusionUniteLegale": "OP"[n % 7 == 0],
            "denominationUniteLegale": f"UNITE {siren}",
        }
        for n, siren in enumerate(sirens)
    ]
    spread = [siren for start in range(20) for siren in sirens[start::20]]  # a batch: all over
    rows = [establishment(siren + "00012", "ENSEIGNE") for siren in spread]
    establishments = write_csv(tmp_path / "e.csv", ETABLISSEMENT_HEADER, rows)
    unit_file = write_csv(tmp_path / "u.csv", UNITE_LEGALE_HEADER, units)

    summary = imported(cli, establishments, "--unites-legales", unit_file)

    assert (summary["establishments"], summary["units"]) == (400, 400)
    kept = store_rows(
        cli,
        "SELECT siret, raison_sociale, address IS NULL FROM sirene_establishment ORDER BY siret",
    )
    assert kept == [
        (int(siren + "00012"), f"UNITE {siren}", n % 7 == 0) for n, siren in enumerate(sirens)
    ]


def _messy_stock(folder: Path) -> tuple[str, str]:
    """Stock files with some of everything an import skips, keeps first or reads across
    lines, over more than one batch."""
    from chorus_cli.sirene import batches

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=ETABLISSEMENT_HEADER, restval="", lineterminator="\n")
    writer.writeheader()
    units = []
    for number in range(batches.BATCH + 700):
        body = f"{10_000_000 + number * 3:08d}"
        siren = body + "0"  # the import checks nine digits, not the key
        siret = siren + "00012"
        fields = {"etatAdministratifEtablissement": "AF"[number % 2]}
        if number % 5 == 0:
            fields["codePostalEtablissement"] = "38000"
        if number % 97 == 0:
            fields["complementAdresseEtablissement"] = "BAT C\nESC 2"  # over two lines
        if number % 89 == 0:
            fields["statutDiffusionEtablissement"] = "P"
        writer.writerow(establishment(siret, f"NOM {number}", **fields))
        if number % 101 == 0:
            writer.writerow(establishment(siret, "REPETE"))  # a duplicate: the first stays
        if number % 103 == 0:
            text.write(f"{siret},too,few\n")
        if number % 107 == 0:
            writer.writerow(establishment(siret[:10], "PAS UN SIRET"))
        if number % 211 == 0:
            writer.writerow(establishment(siret[:-1] + "9", "BON\0NUL"))
        units.append(
            {
                "siren": siren,
                "statutDiffusionUniteLegale": "OP"[number % 53 == 0],
                "denominationUniteLegale": f"SOCIETE {number}" if number % 3 else "",
                "nomUniteLegale": "MARTIN",
                "prenom1UniteLegale": "ÉLODIE",
                "categorieJuridiqueUniteLegale": "5710",
            }
        )
    units.insert(40, dict(units[40], siren="12345"))  # not a SIREN
    establishments = folder / "StockEtablissement_utf8.csv"
    establishments.write_text(text.getvalue(), encoding="utf-8")
    return str(establishments), write_csv(
        folder / "StockUniteLegale_utf8.csv", UNITE_LEGALE_HEADER, units
    )


@pytest.mark.parametrize("kept", [[], ["--departments", "75"]], ids=["all", "departments"])
def test_str2_rows_read_in_a_second_process_make_the_same_index(cli, tmp_path, monkeypatch, kept):
    """The stock file is read in a second process where a core is free (sirene/batches.py):
    the same summary (counts, skipped rows and their lines) and the same index."""
    from chorus_cli.sirene import batches

    operator(cli)
    establishments, units = _messy_stock(tmp_path)
    seen = []
    for second in (False, True):
        monkeypatch.setattr(batches, "SECOND_PROCESS", second)
        summary = imported(cli, establishments, "--unites-legales", units, *kept)
        summary.pop("seconds")
        index = store_rows(cli, "SELECT * FROM sirene_establishment ORDER BY siret")
        index += store_rows(cli, "SELECT * FROM sirene_unit ORDER BY siren")
        found = sirets(cli("sirene", "search", "societe 12", "--json", "--limit", "50"))
        seen.append((summary, index, found))
    assert seen[0] == seen[1]
    summary = seen[0][0]
    assert summary["skipped"] > 50 and summary["duplicates"] > 0
    if not kept:  # more than one batch, more skipped rows than the summary describes
        assert summary["establishments"] > batches.BATCH and len(summary["skipped_rows"]) == 100


def test_str2_a_cut_file_read_in_a_second_process_is_refused_and_the_index_unchanged(
    cli, tmp_path, monkeypatch, unchanged
):
    from chorus_cli.sirene import batches

    monkeypatch.setattr(batches, "SECOND_PROCESS", True)
    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)
    whole = Path(SAMPLE_ESTABLISHMENTS).read_bytes()
    path = tmp_path / "StockEtablissement.csv"
    path.write_bytes(whole[: whole.rstrip(b"\n").rindex(b"\n") + 41])  # stopped mid-row

    with unchanged():
        result = cli("sirene", "import", str(path))

    assert result.exit_code == 2 and "tronqué" in result.stderr and "STR-2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_str2_the_reading_process_killed_leaves_the_index_as_it_was(cli, monkeypatch, unchanged):
    """The second process reading the stock killed mid-file (the kernel short of memory,
    ``kill -9``): one sentence naming the file and the signal, exit 1, and the index as
    it was (no staging table left either)."""
    import os
    import signal

    from chorus_cli.sirene import batches

    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)
    monkeypatch.setattr(batches, "SECOND_PROCESS", True)
    monkeypatch.setattr(batches, "BATCH", 2)
    first, read = os.getpid(), batches.establishments

    def killed_at_the_second_batch(*args):
        for number, item in enumerate(read(*args)):
            if number == 1 and os.getpid() != first:
                os.kill(os.getpid(), signal.SIGKILL)
            yield item

    monkeypatch.setattr(batches, "establishments", killed_at_the_second_batch)

    with unchanged():
        result = cli("sirene", "import", SAMPLE_ESTABLISHMENTS)

    assert result.exit_code == 1 and "STR-2" in result.stderr
    assert "SIGKILL" in result.stderr and Path(SAMPLE_ESTABLISHMENTS).name in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_str2_a_write_failing_mid_import_stops_the_reading_process_at_once(
    cli, monkeypatch, unchanged
):
    """The index's writing fails (a full disk): the second process reading the stock
    has stopped before the partial index is dropped (long on a big one), not only once
    the error is let go; the index stays as it was."""
    import errno
    import multiprocessing

    from chorus_cli.sirene import batches, build
    from chorus_cli.store import sirene_tables as schema

    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)
    monkeypatch.setattr(batches, "SECOND_PROCESS", True)
    monkeypatch.setattr(batches, "BATCH", 2)
    insert, abandon = build._Loader._insert, build._Loader.abandon
    readers = []

    def full_disk(self, table, batch):
        if table == schema.ESTABLISHMENT + schema.STAGING:
            raise OSError(errno.ENOSPC, "No space left on device")
        insert(self, table, batch)

    def abandoning(self):
        readers.append(multiprocessing.active_children())
        abandon(self)

    monkeypatch.setattr(build._Loader, "_insert", full_disk)
    monkeypatch.setattr(build._Loader, "abandon", abandoning)

    with unchanged(), pytest.raises(OSError):  # CHORUS_DEBUG: the error itself
        cli("sirene", "import", SAMPLE_ESTABLISHMENTS)

    assert readers == [[]]


def test_str2_an_error_in_the_reading_process_is_said_as_if_read_in_the_first(
    cli, monkeypatch, unchanged
):
    """An unexpected error of the reading (here a disk's) crosses to the first process as
    it was: the same exit code and sentence, naming its type, either way."""
    import errno

    from chorus_cli.sirene import batches

    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)
    monkeypatch.delenv("CHORUS_DEBUG")  # the sentence a user reads, not a traceback

    def unreadable(*args):
        yield from ()
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(batches, "establishments", unreadable)
    said = []
    for second in (False, True):
        monkeypatch.setattr(batches, "SECOND_PROCESS", second)
        with unchanged():
            result = cli("sirene", "import", SAMPLE_ESTABLISHMENTS)
        said.append((result.exit_code, result.stderr))

    assert said[0] == said[1]
    assert said[0][0] == 1 and "OSError" in said[0][1]


def test_str2_the_index_keeps_its_shape_across_imports(cli):
    """Migration 0003 and the import build the same tables (no drift between them)."""
    from sqlalchemy import inspect

    from chorus_cli.store.engine import get_engine

    def shape():
        inspector = inspect(get_engine(cli.url))
        return {
            table: [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ]
            for table in ("sirene_establishment", "sirene_unit")
        }

    def search_ddl():
        if cli.url.startswith("sqlite"):
            (sql,) = store_rows(
                cli, "SELECT sql FROM sqlite_master WHERE name = 'sirene_name_fts'"
            )[0]
            return sql.split("USING", 1)[1]
        return store_rows(
            cli, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'sirene_%'"
        )

    before = shape(), search_ddl()
    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)

    assert (shape(), search_ddl()) == before


# --- STR-3: non-diffusible ------------------------------------------------------------


def test_str3_a_non_diffusible_establishment_keeps_no_address(sample):
    found = look(sample, SAMPLE_SIRETS["non_diffusible"])

    assert found["non_diffusible"] is True and found["active"] is True
    assert found["raison_sociale"] == "[ND]"  # INSEE withholds the name of this person
    assert [found[k] for k in ("address", "postal_code", "commune", "country")] == [None] * 4
    stored = store_rows(
        sample,
        "SELECT address, postal_code, commune, country FROM sirene_establishment"
        f" WHERE siret = {int(SAMPLE_SIRETS['non_diffusible'])}",
    )
    assert stored == [(None, None, None, None)]  # not stored at all, not just hidden


@pytest.mark.parametrize("status", ["P", "N"])
@pytest.mark.parametrize("with_units", [True, False], ids=["units", "no_units"])
def test_str3_an_establishment_non_diffusible_itself_keeps_no_address(
    cli, tmp_path, status, with_units
):
    """The establishment's own statutDiffusion P or N hides its address, its legal unit
    diffusible (the sample's non-diffusible establishment has a non-diffusible unit:
    that alone hid the address) or no legal-unit file given."""
    operator(cli)
    rows = [
        establishment("82345678500018", "VISIBLE"),
        establishment("82345678500026", "CACHE", statutDiffusionEtablissement=status),
    ]
    units = [
        {"siren": "823456785", "statutDiffusionUniteLegale": "O", "denominationUniteLegale": "SA"}
    ]
    args = [write_csv(tmp_path / "e.csv", ETABLISSEMENT_HEADER, rows)]
    if with_units:
        args += ["--unites-legales", write_csv(tmp_path / "u.csv", UNITE_LEGALE_HEADER, units)]

    imported(cli, *args)

    kept = "SELECT siret, non_diffusible, address, postal_code, commune, country"
    assert store_rows(cli, f"{kept} FROM sirene_establishment ORDER BY siret") == [
        (82345678500018, False, "1 RUE DE LA PAIX", "75002", "PARIS 2", None),
        (82345678500026, True, None, None, None, None),
    ]


def test_str3_a_non_diffusible_unit_hides_its_establishments_addresses(sample):
    found = look(sample, SAMPLE_SIRETS["non_diffusible_unit"])

    assert found["non_diffusible"] is True and found["raison_sociale"] == "SOCIETE DISCRETE"
    assert found["address"] is None and found["commune"] is None
    stored = store_rows(
        sample,
        "SELECT count(*) FROM sirene_establishment WHERE address LIKE '%SECRET%'",
    )
    assert stored == [(0,)]


def test_str3_search_shows_no_place_for_a_non_diffusible_establishment(sample):
    rows = sample("sirene", "search", "discrete", "--json").json()
    from chorus_cli.sirene.index import SEARCH_FIELDS

    assert tuple(rows[0]) == SEARCH_FIELDS  # as `search` declares, in order (OUT-3)
    assert [(r["siret"], r["commune"], r["postal_code"]) for r in rows] == [
        (SAMPLE_SIRETS["non_diffusible_unit"], None, None)
    ]


# --- STR-1, STR-2: lookup ----------------------------------------------------------------


def test_str2_lookup_shows_the_establishment(sample):
    found = look(sample, SAMPLE_SIRETS["commune"])

    assert found == {
        "siret": "21389999000013",
        "siren": "213899990",
        "nic": "00013",
        "raison_sociale": "COMMUNE DE VAL-DE-BRIANE",
        "active": True,
        "non_diffusible": False,
        "public": True,
        "categorie_juridique": "7210",
        "address": "1 PLACE DE LA MAIRIE",
        "postal_code": "38350",
        "commune": "VAL-DE-BRIANE",
        "country": None,
        "source": "index",
    }
    table = sample("sirene", "lookup", SAMPLE_SIRETS["commune"])
    assert table.exit_code == 0 and "COMMUNE DE VAL-DE-BRIANE" in table.stdout


def test_str2_a_closed_establishment_is_found_and_says_so(sample):
    found = look(sample, SAMPLE_SIRETS["commune_closed"])

    assert found["active"] is False and found["raison_sociale"] == "COMMUNE DE VAL-DE-BRIANE"


def test_str2_individuals_abroad_and_address_details(sample):
    person = look(sample, SAMPLE_SIRETS["individual"])
    abroad = look(sample, SAMPLE_SIRETS["abroad"])
    hospital = look(sample, SAMPLE_SIRETS["hospital"])

    assert person["raison_sociale"] == "DUPONT MARIE" and person["public"] is False
    assert (abroad["commune"], abroad["country"], abroad["postal_code"]) == (
        "BRUXELLES",
        "BELGIQUE",
        None,
    )
    assert hospital["address"] == "HALL A\n30 AVENUE DU DOCTEUR ROUX\nCS 20001"
    assert look(sample, SAMPLE_SIRETS["company_branch"])["address"] == "7 B QUAI DES CELESTINS"


def test_str1_lookup_checks_the_siret_with_the_la_poste_exception(sample):
    poste = sample("sirene", "lookup", "356 000 000 00048", "--json")
    checksum = sample("sirene", "lookup", "82345678500019")
    length = sample("sirene", "lookup", "8234567850001")
    letters = sample("sirene", "lookup", "8234567850001A", "--json")

    assert poste.exit_code == 0 and poste.json()["siret"] == "35600000000048"
    assert checksum.exit_code == 2 and "STR-1" in checksum.stderr and "clé" in checksum.stderr
    assert length.exit_code == 2 and "14" in length.stderr
    assert letters.exit_code == 2
    assert json.loads(letters.stderr)["error"]["code"] == 2


def test_str2_an_unknown_siret_is_exit_3(sample):
    result = sample("sirene", "lookup", SAMPLE_SIRETS["unknown"])

    assert result.exit_code == 3 and result.stdout == ""
    assert "STR-2" in result.stderr and SAMPLE_SIRETS["unknown"] in result.stderr


def test_str2_an_empty_index_says_to_import(cli):
    cli.logged_in(USER)

    result = cli("sirene", "lookup", SAMPLE_SIRETS["company"], "--lang", "en")

    assert result.exit_code == 3 and "chorus sirene import" in result.stderr


def test_str2_the_python_lookup_serves_the_structures_domain(sample, monkeypatch):
    from chorus_cli.config import Settings
    from chorus_cli.domain.sirene import find as lookup
    from chorus_cli.kernel.clock import FrozenClock
    from chorus_cli.sirene import Establishment
    from chorus_cli.store import keychain
    from chorus_cli.store.uow import UnitOfWork

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.memory_keyring.MemoryKeyring")
    keychain._system_backend.cache_clear()

    with UnitOfWork(Settings(database_url=sample.url), FrozenClock()) as uow:
        found = lookup(uow, SAMPLE_SIRETS["ddfip"])
        missing = lookup(uow, SAMPLE_SIRETS["unknown"])

    assert isinstance(found, Establishment) and found.public and found.source == "index"
    assert found.categorie_juridique == "7172" and missing is None


# --- STR-2: search -----------------------------------------------------------------------


def test_str2_search_matches_every_word_whole_or_as_a_prefix(sample):
    found = sirets(sample("sirene", "search", "boul", "dup", "--json"))

    assert found == [
        SAMPLE_SIRETS["bakery_other"],  # BOULANGERIE DUPUIS: the shortest name
        SAMPLE_SIRETS["bakery"],  # BOULANGERIE DUPONT ET FILS (AU BON PAIN), active
        SAMPLE_SIRETS["bakery_closed"],  # the same name, closed: after the active one
    ]


def test_str2_search_ranks_whole_words_before_prefixes(cli, tmp_path):
    operator(cli)
    rows = [
        establishment("44123456400017", "MARTINEZ"),  # prefix only, shorter, lower SIRET
        establishment("82345678500018", "TRANSPORTS MARTIN"),  # the whole word
        establishment("51234567900017", "MARTINET FRERES"),
    ]
    imported(cli, write_csv(tmp_path / "m.csv", ETABLISSEMENT_HEADER, rows))

    found = sirets(cli("sirene", "search", "martin", "--json"))

    assert found[0] == "82345678500018" and set(found) == {r["siret"] for r in rows}


def test_str2_search_folds_case_and_accents(sample):
    plain = sirets(sample("sirene", "search", "regie", "--json"))
    accented = sirets(sample("sirene", "search", "RÉGIE des EAUX", "--json"))

    assert plain == accented == [SAMPLE_SIRETS["regie"]]


def test_str2_search_finds_the_establishments_own_name(sample):
    assert sirets(sample("sirene", "search", "jules ferry", "--json")) == [SAMPLE_SIRETS["school"]]


def test_str2_search_by_siren_lists_its_establishments_head_office_first(sample):
    found = sirets(sample("sirene", "search", "823 456 785", "--json"))

    assert found == [
        SAMPLE_SIRETS["company"],
        SAMPLE_SIRETS["company_branch"],
        "82345678500034",
    ]


def test_str2_search_limit_table_and_empty_results(sample):
    limited = sirets(sample("sirene", "search", "val", "--limit", "2", "--json"))
    table = sample("sirene", "search", "boulangerie")
    nothing = sample("sirene", "search", "introuvable")
    empty = sample("sirene", "search", "?!")

    assert len(limited) == 2
    assert table.exit_code == 0 and "DUPONT" in table.stdout
    assert nothing.exit_code == 0 and "Aucun" in nothing.stderr
    assert empty.exit_code == 2 and "STR-2" in empty.stderr


def test_str2_a_broad_search_says_it_ranked_only_the_first_matches(sample, monkeypatch):
    from chorus_cli.sirene import index

    monkeypatch.setattr(index, "SEARCH_CANDIDATES", 3)

    result = sample("sirene", "search", "val", "--json")

    assert result.exit_code == 0 and len(result.json()) == 3
    assert "3" in result.stderr and "préciser" in result.stderr


def test_str2_search_ranks_a_name_holding_every_word_whole_first(cli, tmp_path):
    """Whole words before prefixes, however short the prefix-only name (bm25 and
    ts_rank let a short name that only starts with the words come first)."""
    operator(cli)
    rows = [
        establishment("44123456400017", "BOULANGERIES SAVOIES"),  # prefixes only
        establishment(
            "82345678500018", "SOCIETE COOPERATIVE DE LA BOULANGERIE ARTISANALE DE SAVOIE"
        ),
    ]
    imported(cli, write_csv(tmp_path / "b.csv", ETABLISSEMENT_HEADER, rows))

    found = sirets(cli("sirene", "search", "boulangerie", "savoie", "--json"))

    assert found == ["82345678500018", "44123456400017"]


def test_str2_search_prefixes_are_the_words_of_the_latest_import(cli, tmp_path):
    """A prefix is searched as the index's words it starts: the words of the index
    swapped in, not of the one before."""
    operator(cli)
    first = [establishment("44123456400017", "ZYGOMAR")]
    second = [establishment("82345678500018", "ZYGOTEC"), *first]
    imported(cli, write_csv(tmp_path / "1.csv", ETABLISSEMENT_HEADER, first))
    imported(cli, write_csv(tmp_path / "2.csv", ETABLISSEMENT_HEADER, second))

    found = sirets(cli("sirene", "search", "zygo", "--json"))

    assert sorted(found) == ["44123456400017", "82345678500018"]


def test_str2_search_works_on_an_index_imported_before_the_vocabulary(sample):
    """An index imported by an older chorus has no vocabulary: search reads the
    prefixes as the full-text index does until the next import."""
    if sample.url.startswith("sqlite"):
        from sqlalchemy import text

        from chorus_cli.store.engine import get_engine

        with get_engine(sample.url).begin() as conn:
            conn.execute(text("DROP TABLE sirene_term"))

    found = sirets(sample("sirene", "search", "boul", "dup", "--json"))

    assert found == [
        SAMPLE_SIRETS["bakery_other"],
        SAMPLE_SIRETS["bakery"],
        SAMPLE_SIRETS["bakery_closed"],
    ]


def test_str2_a_prefix_of_many_words_is_searched_as_the_most_frequent(cli, tmp_path, monkeypatch):
    """On SQLite a prefix stands for its ``PREFIX_TERMS`` most frequent words, and the
    search says it was narrowed; PostgreSQL reads every word of the prefix."""
    from chorus_cli.sirene import index

    monkeypatch.setattr(index, "PREFIX_TERMS", 1)
    operator(cli)
    rows = [
        establishment("44123456400017", "MARTINEZ"),
        establishment("82345678500018", "TRANSPORTS MARTINET"),
        establishment("51234567900017", "GARAGE MARTINET"),
    ]
    imported(cli, write_csv(tmp_path / "m.csv", ETABLISSEMENT_HEADER, rows))

    result = cli("sirene", "search", "mart", "--json")

    if cli.url.startswith("sqlite"):
        assert sorted(sirets(result)) == ["51234567900017", "82345678500018"]
        assert "préciser" in result.stderr
    else:
        assert len(sirets(result)) == 3 and "préciser" not in result.stderr


def test_str2_words_added_outside_an_import_are_found_by_their_prefix(cli, tmp_path):
    """A name added to the index between imports (as ``sirene update`` does) has its
    words noted in the vocabulary: a prefix finds it beside the imported ones."""
    from sqlalchemy import text

    from chorus_cli.config import Settings
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.sirene import index
    from chorus_cli.store import sirene_tables as schema
    from chorus_cli.store.uow import UnitOfWork

    operator(cli)
    rows = [establishment("44123456400017", "ZYGOMAR")]
    imported(cli, write_csv(tmp_path / "z.csv", ETABLISSEMENT_HEADER, rows))
    with UnitOfWork(Settings(database_url=cli.url), SystemClock()) as uow:
        connection = uow.session.connection()
        connection.execute(
            text(
                f"INSERT INTO {schema.ESTABLISHMENT} (siret, raison_sociale, active,"
                " non_diffusible, siege) VALUES (82345678500018, 'ZYGOTEC', true, false, true)"
            )
        )
        if connection.dialect.name == "sqlite":
            connection.execute(
                text(f"INSERT INTO {schema.FTS} (rowid, name) VALUES (82345678500018, 'ZYGOTEC')")
            )
        index.note_words(uow.session.connection(), ["ZYGOTEC"])
        uow.commit()

    found = sirets(cli("sirene", "search", "zygo", "--json"))

    assert sorted(found) == ["44123456400017", "82345678500018"]


# --- who may: sessions and roles -------------------------------------------------------


def test_str2_lookup_and_search_need_a_session(cli):
    load_sample(cli)

    assert cli("sirene", "lookup", SAMPLE_SIRETS["company"]).exit_code == 5
    assert cli("sirene", "search", "dupont").exit_code == 5


def test_str2_import_and_configure_api_are_for_admin_or_support(sample, unchanged):
    from tests.memory_keyring import MemoryKeyring

    with unchanged():
        refused = sample("sirene", "import", SAMPLE_ESTABLISHMENTS)
        key = sample("sirene", "configure-api", input="typed-before-the-check\n")

    assert refused.exit_code == 4 and "HAB-6" in refused.stderr
    assert key.exit_code == 4 and "admin" in key.stderr
    assert ("chorus-insee", "api-key") not in MemoryKeyring.entries


def test_str2_support_may_import(cli):
    operator(cli)
    cli.active_account(USER)
    assert cli("admin", "grant-role", USER, "support").exit_code == 0
    cli.login(USER)

    assert imported(cli, SAMPLE_ESTABLISHMENTS)["establishments"] == 22


# --- the INSEE API -----------------------------------------------------------------------


def api_answer(siret: str, *, state="A", diffusion="O", unit_diffusion="O", **unit):
    """An answer of the Sirene API 3.11 (`GET /siret/{siret}`), as INSEE shapes it."""
    hidden = "[ND]" if diffusion != "O" or unit_diffusion != "O" else None
    return {
        "header": {"statut": 200, "message": "ok"},
        "etablissement": {
            "siren": siret[:9],
            "nic": siret[9:],
            "siret": siret,
            "statutDiffusionEtablissement": diffusion,
            "dateCreationEtablissement": "2019-07-01",
            "trancheEffectifsEtablissement": "11",
            "etablissementSiege": True,
            "nombrePeriodesEtablissement": 2,
            "uniteLegale": {
                "etatAdministratifUniteLegale": "A",
                "statutDiffusionUniteLegale": unit_diffusion,
                "categorieJuridiqueUniteLegale": unit.get("category", "5710"),
                "denominationUniteLegale": unit.get("name", "EXEMPLE API SAS"),
                "nomUniteLegale": None,
                "nomUsageUniteLegale": None,
                "prenom1UniteLegale": None,
                "prenomUsuelUniteLegale": None,
                "activitePrincipaleUniteLegale": "62.01Z",
            },
            "adresseEtablissement": {
                "complementAdresseEtablissement": hidden,
                "numeroVoieEtablissement": hidden or "10",
                "indiceRepetitionEtablissement": None,
                "dernierNumeroVoieEtablissement": None,
                "indiceRepetitionDernierNumeroVoieEtablissement": None,
                "typeVoieEtablissement": hidden or "RUE",
                "libelleVoieEtablissement": hidden or "DE LA PAIX",
                "codePostalEtablissement": "75002",
                "libelleCommuneEtablissement": "PARIS 2",
                "libelleCommuneEtrangerEtablissement": None,
                "distributionSpecialeEtablissement": None,
                "codeCommuneEtablissement": "75102",
                "codeCedexEtablissement": None,
                "libelleCedexEtablissement": None,
                "codePaysEtrangerEtablissement": None,
                "libellePaysEtrangerEtablissement": None,
                "identifiantAdresseEtablissement": None,
                "coordonneeLambertAbscisseEtablissement": hidden or "651234.5",
                "coordonneeLambertOrdonneeEtablissement": hidden or "6862000.1",
            },
            "adresse2Etablissement": {"numeroVoie2Etablissement": None},
            "periodesEtablissement": [
                {
                    "dateFin": None,
                    "dateDebut": "2022-01-01",
                    "etatAdministratifEtablissement": state,
                    "changementEtatAdministratifEtablissement": state == "F",
                    "enseigne1Etablissement": None,
                    "denominationUsuelleEtablissement": None,
                    "activitePrincipaleEtablissement": "62.01Z",
                    "caractereEmployeurEtablissement": "O",
                },
                {
                    "dateFin": "2021-12-31",
                    "dateDebut": "2019-07-01",
                    "etatAdministratifEtablissement": "A" if state == "F" else "F",
                },
            ],
        },
    }


class LoopbackApi:
    """A local stand-in for api.insee.fr on loopback, answered by ``handler`` in a
    thread; ``url`` is its base, as CHORUS_INSEE_API_URL takes it."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api-sirene/3.11"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeInsee(LoopbackApi):
    """The single-SIRET lookup: answers from a plan, records every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.plans: dict[str, list[tuple[float, int, dict]]] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                stub.requests.append((self.path, self.headers.get("X-INSEE-Api-Key-Integration")))
                plan = stub.plans.get(self.path.rsplit("/", 1)[-1]) or []
                delay, status, body = plan.pop(0) if plan else (0, 404, {"header": {"statut": 404}})
                time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        super().__init__(Handler)

    def plan(self, siret: str, *steps: tuple[float, int, dict]) -> None:
        self.plans[siret] = list(steps)


API_SIRET = "73282932000074"  # valid, not in the sample


@pytest.fixture
def insee(monkeypatch):
    stub = FakeInsee()
    monkeypatch.setenv("CHORUS_INSEE_API_URL", stub.url)
    monkeypatch.setenv("CHORUS_INSEE_API_TIMEOUT", "0.4")
    yield stub
    stub.stop()


@pytest.fixture
def with_key(sample):
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries[("chorus-insee", "api-key")] = "cle-de-test"
    return sample


def test_str2_no_network_call_without_an_api_key(sample, insee, monkeypatch):
    import httpx

    def no_network(*_args, **_kwargs):
        raise AssertionError("network call without an API key")

    monkeypatch.setattr(httpx.Client, "send", no_network)
    insee.plan(API_SIRET, (0, 200, api_answer(API_SIRET)))

    result = sample("sirene", "lookup", API_SIRET)

    assert result.exit_code == 3 and insee.requests == []


def test_str2_the_api_answers_for_a_siret_missing_from_the_index(with_key, insee):
    insee.plan(API_SIRET, (0, 200, api_answer(API_SIRET)))

    found = look(with_key, API_SIRET)

    assert insee.requests == [(f"/api-sirene/3.11/siret/{API_SIRET}", "cle-de-test")]
    assert found["source"] == "api" and found["raison_sociale"] == "EXEMPLE API SAS"
    assert found["active"] is True and found["address"] == "10 RUE DE LA PAIX"
    assert (found["postal_code"], found["commune"]) == ("75002", "PARIS 2")


def test_str2_the_index_answers_first_even_with_a_key(with_key, insee):
    assert look(with_key, SAMPLE_SIRETS["company"])["source"] == "index"
    assert insee.requests == []


def test_str3_a_non_diffusible_api_answer_keeps_no_address(with_key, insee):
    insee.plan(API_SIRET, (0, 200, api_answer(API_SIRET, diffusion="P")))

    found = look(with_key, API_SIRET)

    assert found["non_diffusible"] is True
    assert [found[k] for k in ("address", "postal_code", "commune", "country")] == [None] * 4


def test_str2_a_closed_public_establishment_from_the_api(with_key, insee):
    answer = api_answer(API_SIRET, state="F", name="COMMUNE D'EXEMPLE", category="7210")
    insee.plan(API_SIRET, (0, 200, answer))

    found = look(with_key, API_SIRET)

    assert found["active"] is False and found["public"] is True


def test_str2_api_404_is_not_found(with_key, insee):
    result = with_key("sirene", "lookup", API_SIRET)

    assert result.exit_code == 3 and "INSEE" in result.stderr and len(insee.requests) == 1


def test_str2_api_401_says_the_key_is_refused(with_key, insee):
    insee.plan(API_SIRET, (0, 401, {"message": "Invalid credentials"}))

    result = with_key("sirene", "lookup", API_SIRET)

    assert result.exit_code == 2 and "configure-api" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "cle-de-test" not in result.stderr


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [(403, 2, "403"), (429, 1, "30"), (418, 1, "418")],
)
def test_str2_other_api_refusals_are_one_sentence(with_key, insee, status, code, words):
    insee.plan(API_SIRET, (0, status, {"header": {"statut": status}}))

    result = with_key("sirene", "lookup", API_SIRET)

    assert result.exit_code == code and words in result.stderr and "STR-2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and len(insee.requests) == 1


def test_str2_api_timeout_is_retried_once(with_key, insee):
    insee.plan(API_SIRET, (1.0, 200, api_answer(API_SIRET)), (0, 200, api_answer(API_SIRET)))

    found = look(with_key, API_SIRET)

    assert found["source"] == "api" and len(insee.requests) == 2


def test_str2_api_timeout_twice_is_one_clear_error(with_key, insee):
    slow = (1.0, 200, api_answer(API_SIRET))
    insee.plan(API_SIRET, slow, slow)

    result = with_key("sirene", "lookup", API_SIRET, "--json")

    assert result.exit_code == 1 and len(insee.requests) == 2
    assert "STR-2" in json.loads(result.stderr)["error"]["message"]


def test_str2_api_5xx_is_retried_once_then_reported(with_key, insee):
    insee.plan(API_SIRET, (0, 503, {}), (0, 200, api_answer(API_SIRET)))
    recovered = with_key("sirene", "lookup", API_SIRET)
    insee.plan(API_SIRET, (0, 500, {}), (0, 502, {}))
    failed = with_key("sirene", "lookup", API_SIRET)

    assert recovered.exit_code == 0 and failed.exit_code == 1 and "502" in failed.stderr
    assert len(insee.requests) == 4


def test_str2_configure_api_keeps_the_key_in_the_keyring_and_removes_it(cli, insee):
    from tests.memory_keyring import MemoryKeyring

    operator(cli)
    saved = cli("sirene", "configure-api", "--key-stdin", input="ma-cle-insee\n")
    stored = MemoryKeyring.entries.get(("chorus-insee", "api-key"))
    lookup = cli("sirene", "lookup", API_SIRET)
    removed = cli("sirene", "configure-api", "--remove")
    again = cli("sirene", "configure-api", "--remove")
    offline = cli("sirene", "lookup", API_SIRET)

    assert saved.exit_code == 0 and stored == "ma-cle-insee"
    assert lookup.exit_code == 3 and insee.requests == [
        (f"/api-sirene/3.11/siret/{API_SIRET}", "ma-cle-insee")
    ]
    assert removed.exit_code == 0 and ("chorus-insee", "api-key") not in MemoryKeyring.entries
    assert again.exit_code == 0 and offline.exit_code == 3 and len(insee.requests) == 1
    audit = cli("audit", "list", "--action", "sirene.api_key", "--json")
    assert len(audit.json()) == 2 and "ma-cle-insee" not in audit.stdout


def test_str2_configure_api_prompt_reads_one_piped_line_and_refuses_an_empty_key(cli):
    from tests.memory_keyring import MemoryKeyring

    operator(cli)
    empty = cli("sirene", "configure-api", input="\n")
    typed = cli("sirene", "configure-api", input="cle-tapee\n")

    assert empty.exit_code == 2 and "STR-2" in empty.stderr
    assert typed.exit_code == 0
    assert MemoryKeyring.entries[("chorus-insee", "api-key")] == "cle-tapee"


# --- start-up ----------------------------------------------------------------------------


def test_str2_sirene_help_imports_no_heavy_library():
    code = (
        "import sys, contextlib, io\n"
        "from chorus_cli.cli import main\n"
        "for argv in (['--help'], ['sirene', '--help'], ['sirene', 'import', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try: main(argv)\n"
        "        except SystemExit: pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'httpx', 'rich', 'stdnum') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
