"""OUT-4 (and SEC-9, SEC-10 for workbooks): spreadsheets both ways, on SQLite and
PostgreSQL. `bulk import` reads .xlsx and .ods as it reads CSV; `bulk export --format
xlsx --output FILE` writes text cells; `--excel` writes what French Excel opens; a SIRET
or a phone that a spreadsheet mangled is read back with a warning naming the line.

The round trips save the export with LibreOffice (headless `soffice`, from the Makefile's
system-deps) when the machine has it, as a user opening and saving it would; without it
the file is produced with openpyxl (and, for .ods, written here), and the test says which
path ran (`print`, shown by `pytest -rA`).
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.test_bulk import AGENTS, agents, bulk, imported, write
from tests.test_provisioning import ADA, COMMUNE, CORINNE, SAM, public

SOFFICE = shutil.which("soffice")
PATH_TAKEN = "LibreOffice" if SOFFICE else "openpyxl (no soffice on this machine)"
# A public structure of Isère whose SIRET starts with zeros: what a spreadsheet mangles.
ZEROS_SIRET = "00552013500012"


@pytest.fixture
def world(cli, worlds):
    return public(worlds, cli)


def export_xlsx(world, kind: str, path: Path, who: str = ADA):
    result = bulk(world, who, "export", kind, "--format", "xlsx", "--output", str(path))
    assert result.exit_code == 0, result.stderr
    return result


def saved_as(source: Path, fmt: str, out: Path) -> Path:
    """``source`` opened and saved as ``fmt`` (xlsx, ods, csv) by a spreadsheet."""
    out.mkdir(exist_ok=True)
    target = out / f"{source.stem}.{fmt}"
    if SOFFICE:
        profile = out / "lo-profile"
        # A CSV is opened as the import dialog reads a French Excel one: «;», UTF-8.
        options = ["--infilter=CSV:59,34,76,1"] if source.suffix == ".csv" else []
        subprocess.run(
            [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", *options,
             "--convert-to", fmt, "--outdir", str(out), str(source)],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
        assert target.is_file(), f"LibreOffice wrote no {target.name}"
        return target
    import openpyxl

    book = openpyxl.load_workbook(source) if source.suffix == ".xlsx" else None
    rows = (
        [[c for c in row] for row in book.active.iter_rows(values_only=True)]
        if book
        else list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig")), delimiter=";"))
    )
    # What a spreadsheet does to digits it reads from a CSV: numbers.
    rows = [[_as_number(c) for c in row] for row in rows]
    if fmt == "xlsx":
        new = openpyxl.Workbook()
        for row in rows:
            new.active.append(row)
        new.save(target)
    elif fmt == "ods":
        _write_ods(target, rows)
    else:
        with open(target, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([["" if c is None else c for c in r] for r in rows])
    return target


def _as_number(cell):
    return int(cell) if isinstance(cell, str) and cell.isdigit() else cell


def _write_ods(path: Path, rows) -> None:
    from xml.sax.saxutils import escape

    table = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    text = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"

    def cell(value):
        if value is None or value == "":
            return "<table:table-cell/>"
        if isinstance(value, int):
            return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>")  # fmt: skip
        return (f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
                "</text:p></table:table-cell>")  # fmt: skip

    body = "".join(
        "<table:table-row>" + "".join(map(cell, row)) + "</table:table-row>" for row in rows
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{office}"'
        f' xmlns:table="{table}" xmlns:text="{text}" office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="Sheet1">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)  # fmt: skip
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)


def xlsx_of(tmp_path: Path, name: str, rows, title: str = "Agents", more: dict | None = None):
    """A workbook as a person makes one, with openpyxl: typed cells (numbers, dates)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for other, other_rows in (more or {}).items():
        extra = book.create_sheet(other)
        for row in other_rows:
            extra.append(list(row))
    path = tmp_path / name
    book.save(path)
    return path


def zeros_world(world, tmp_path: Path) -> None:
    """The sample register plus a public structure of Isère whose SIRET starts with 00,
    imported by Ada, the structure created (managed in Hélios: active)."""
    from chorus_cli.data import __file__ as data_init  # noqa: F401  (the package's data)

    sample = Path(__file__).resolve().parent.parent / "chorus_cli" / "data" / "sirene"
    units = (sample / "StockUniteLegale_sample.csv").read_text(encoding="utf-8")
    places = (sample / "StockEtablissement_sample.csv").read_text(encoding="utf-8")
    unit = next(line for line in units.splitlines() if line.startswith("213899990,"))
    place = next(line for line in places.splitlines() if line.startswith("213899990,00013,"))
    units += unit.replace("213899990", ZEROS_SIRET[:9], 1) + "\n"
    places += (
        place.replace("213899990,00013,21389999000013", f"{ZEROS_SIRET[:9]},00012,{ZEROS_SIRET}")
        + "\n"
    )
    (tmp_path / "u.csv").write_text(units, encoding="utf-8")
    (tmp_path / "e.csv").write_text(places, encoding="utf-8")
    loaded = world(ADA, "sirene", "import", str(tmp_path / "e.csv"), "--unites-legales",
                   str(tmp_path / "u.csv"))  # fmt: skip
    assert loaded.exit_code == 0, loaded.stderr


# --- import: workbooks read as CSV ----------------------------------------------------


def test_out4_an_xlsx_flow_reads_as_its_csv_with_row_numbers(world, tmp_path):
    header = ("Nom", "Prénom", "Adresse e-mail", "Téléphone", "SIRET")
    rows = [header, *agents()]
    rows[2] = (*rows[2][:3], "not a phone", rows[2][4])  # row 3 of the sheet
    result = imported(world, CORINNE, xlsx_of(tmp_path, "a.xlsx", rows))
    assert result.exit_code == 2
    assert [(e["line"], e["column"], e["rule"]) for e in result.json()["errors"]] == [
        (3, "Téléphone", "ACC-1")
    ]
    rows[2] = (*rows[2][:3], "", rows[2][4])
    result = imported(world, CORINNE, xlsx_of(tmp_path, "a.xlsx", rows))
    assert result.exit_code == 0, result.stderr
    assert (result.json()["created"], result.json()["format"]) == (3, "xlsx")
    again = imported(world, CORINNE, write(tmp_path, "a.csv", rows[1:]))
    assert again.json()["unchanged"] == 3


def test_out4_numbers_and_dates_come_back_as_their_text(world, tmp_path):
    """A SIRET typed as a number is a float for calamine (2.1389999000013e13), a phone
    typed without spaces too: both come back as their digits."""
    header = ("Nom", "Prénom", "Adresse e-mail", "Téléphone", "SIRET")
    rows = [header, ("Durand", "Élise", "elise@mairie-valdebriane.fr", 476112233,
                     int(COMMUNE))]  # fmt: skip
    result = imported(world, CORINNE, xlsx_of(tmp_path, "n.xlsx", rows))
    assert result.exit_code == 0, result.stderr
    shown = world(ADA, "account", "show", "elise@mairie-valdebriane.fr", "--json").json()
    assert shown["phone"] == "+33476112233"
    from datetime import date, datetime

    from chorus_cli.bulk.sheets import cell_text

    assert cell_text(2.1389999000013e13) == COMMUNE
    assert cell_text(date(2026, 12, 7)) == "2026-12-07"
    assert cell_text(datetime(2026, 12, 7, 9, 30)) == "2026-12-07T09:30:00"
    assert cell_text("") == "" and cell_text(1.5) == "1.5"


def test_out4_control_characters_in_a_cell_are_refused_as_in_csv(world, tmp_path, unchanged):
    header = ("Nom", "Prénom", "Adresse e-mail")
    # XML refuses C0 controls; C1's CSI (U+009B) is what a crafted workbook can carry.
    rows = [header, ("Du\x9b31mrand", "Élise", "elise@mairie-valdebriane.fr")]
    with unchanged():
        result = imported(world, ADA, xlsx_of(tmp_path, "c.xlsx", rows))
    assert result.exit_code == 2
    assert [(e["line"], e["rule"]) for e in result.json()["errors"]] == [(2, "SEC-1")]


def test_out4_sheet_picks_a_sheet_and_an_unknown_one_names_them(world, tmp_path, unchanged):
    header = ("Nom", "Prénom", "Adresse e-mail")
    book = xlsx_of(
        tmp_path, "b.xlsx", [("Notes",), ("rien",)], title="Lisez-moi",
        more={"Agents": [header, ("Roux", "Léa", "lea.roux@mairie-valdebriane.fr")]},
    )  # fmt: skip
    with unchanged():
        first = imported(world, ADA, book)
        assert first.exit_code == 2 and "Nom" in first.stderr  # the first sheet has no «Nom»
        missing = imported(world, ADA, book, "accounts", "--sheet", "Agentes")
        assert missing.exit_code == 2
        assert "Lisez-moi, Agents" in missing.stderr and "Agentes" in missing.stderr
        on_csv = imported(world, ADA, write(tmp_path, "a.csv", agents()), "accounts",
                          "--sheet", "Agents")  # fmt: skip
        assert on_csv.exit_code == 2 and "--sheet" in on_csv.stderr
    result = imported(world, ADA, book, "accounts", "--sheet", "Agents")
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == 1


@pytest.mark.parametrize("case", ["not_a_zip", "zip_not_workbook", "bomb", "truncated", "xls"])
def test_out4_a_bad_workbook_is_one_sentence_exit_2(world, tmp_path, unchanged, case):
    path = tmp_path / "bad.xlsx"
    if case == "xls":  # Excel 97-2003's binary format: the sentence says to save as .xlsx
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    elif case == "not_a_zip":
        path.write_bytes(b"Nom;Prenom\r\n\x00\x01binary")
    elif case == "zip_not_workbook":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "hello")
    elif case == "bomb":  # 2 MB of zeros per member, declared honestly: far past 100x
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("xl/workbook.xml", "<workbook/>")
            archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 20_000_000)
    else:
        good = tmp_path / "good.xlsx"
        export_xlsx(world, "accounts", good)
        path.write_bytes(good.read_bytes()[:-200])
    with unchanged():
        result = imported(world, ADA, path)
    assert result.exit_code == 2, result.stderr
    said = result.stderr.strip()
    assert said.count("\n") == 0 and "bad.xlsx" in said and "Traceback" not in said
    assert ("SEC-10" if case == "bomb" else "OUT-4") in said
    assert case != "xls" or ".xlsx" in said


def test_sec10_a_workbook_too_big_to_hold_is_refused_for_csv(world, tmp_path, unchanged):
    """SEC-10: calamine holds the sheet, so a workbook expanding past EXPANDED_MAX (256 MiB;
    1 KiB here) is refused, naming CSV, which is streamed."""
    from chorus_cli.bulk import sheets

    path = tmp_path / "big.xlsx"
    export_xlsx(world, "accounts", path)
    previous, sheets.EXPANDED_MAX = sheets.EXPANDED_MAX, 1024
    try:
        with unchanged():
            result = imported(world, ADA, path)
    finally:
        sheets.EXPANDED_MAX = previous
    assert result.exit_code == 2 and "SEC-10" in result.stderr and "CSV" in result.stderr


def test_out4_calamine_is_not_imported_by_help_or_a_store_command(world):
    """Start-up stays lazy: the spreadsheet code is imported by a workbook's import or
    export only (a store command here runs as far as its session check, exit 5)."""
    import os
    import sys

    probe = (
        "import sys\nfrom chorus_cli.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print('IMPORTED', [m for m in ('python_calamine', 'openpyxl', 'xlsxwriter',"
        " 'chorus_cli.bulk.xlsx', 'chorus_cli.bulk.sheets') if m in sys.modules],"
        " file=sys.stderr)"
    )
    env = {**os.environ, **world.cli.env, "CHORUS_DATA_DIR": str(world.cli.home / "none")}
    for args in (["--help"], ["account", "list"], ["bulk", "export", "accounts"]):
        ran = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                             text=True, env=env, timeout=60)  # fmt: skip
        assert "IMPORTED []" in ran.stderr, (args, ran.stderr[-500:])


# --- export ------------------------------------------------------------------------------


def test_out4_xlsx_export_writes_identifiers_as_text_cells(world, tmp_path):
    import openpyxl
    from python_calamine import CalamineWorkbook

    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    path = tmp_path / "out" / "structures.xlsx"
    path.parent.mkdir()
    export_xlsx(world, "structures", path)
    export_xlsx(world, "accounts", tmp_path / "out" / "accounts.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["structures"]
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["id_type", "identifier", "raison_sociale"]
    column = header.index("identifier") + 1
    identifiers = [sheet.cell(row, column) for row in range(2, sheet.max_row + 1)]
    assert COMMUNE in {c.value for c in identifiers}
    assert {(c.data_type, c.number_format) for c in identifiers} == {("s", "@")}
    accounts = openpyxl.load_workbook(tmp_path / "out" / "accounts.xlsx").active
    header = [c.value for c in accounts[1]]
    phones = {
        accounts.cell(r, header.index("phone") + 1).value for r in range(2, accounts.max_row + 1)
    }
    # SEC-9: the + that starts a phone is quoted as in CSV; text, never the number 33476112233.
    assert "'+33476112233" in phones
    cells = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert all(isinstance(v, str) for v in cells[1][:3])


def test_out4_xlsx_cells_read_back_as_written_whatever_they_hold(tmp_path):
    """The workbook stays well-formed XML and each cell reads back as its text: a control
    character XML cannot hold, a carriage return, a text that looks like ECMA-376's
    ``_xHHHH_`` escape, a float that is no number; the sheet's name keeps Excel's rules."""
    import xml.etree.ElementTree as ElementTree

    import openpyxl
    from python_calamine import CalamineWorkbook

    from chorus_cli.bulk import xlsx

    cells = ["a\x01b\x1fc", "x_x0041_y", "one\r\ntwo\tthree", "_x005F_", "plain"]
    path = tmp_path / "odd.xlsx"
    with open(path, "wb") as out:
        xlsx.write(out, "Agents: 2026/27 [draft]?*' and a name far too long", ["a"] * 8,
                   [[*cells, float("nan"), float("-inf"), "\ufffe\ud800"]])  # fmt: skip
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            ElementTree.fromstring(archive.read(name))  # well-formed, every part
    book = CalamineWorkbook.from_path(str(path))
    (name,) = book.sheet_names
    assert len(name) <= 31 and not set(name) & set(":\\/?*[]") and name[0] != "'" != name[-1]
    assert name == "Agents_ 2026_27 _draft___' and "
    assert book.get_sheet_by_index(0).to_python()[1][:-1] == [*cells, "nan", "-inf"]
    assert openpyxl.load_workbook(path).sheetnames == [name]


def test_out4_xlsx_needs_output_and_excel_is_for_csv(world, tmp_path):
    result = bulk(world, ADA, "export", "accounts", "--format", "xlsx")
    assert result.exit_code == 2 and "--output" in result.stderr
    result = bulk(world, ADA, "export", "accounts", "--format", "jsonl", "--excel")
    assert result.exit_code == 2 and "--excel" in result.stderr


def test_out4_output_replaces_a_link_never_writes_through_it(world, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    link = tmp_path / "export.csv"
    link.symlink_to(victim)
    result = bulk(world, ADA, "export", "accounts", "--output", str(link))
    assert result.exit_code == 0, result.stderr
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert not link.is_symlink() and link.read_text(encoding="utf-8").startswith("login_email,")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_out4_excel_csv_is_semicolons_bom_crlf_and_imports_back(world, tmp_path):
    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    path = tmp_path / "excel.csv"
    result = bulk(world, ADA, "export", "accounts", "--excel", "--output", str(path))
    assert result.exit_code == 0, result.stderr
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbflogin_email;contact_email;first_name;")
    lines = data.count(b"\n")
    assert data.count(b"\r\n") == lines > len(AGENTS)
    again = imported(world, ADA, path)
    assert again.exit_code == 0, again.stderr
    summary = again.json()
    assert (summary["delimiter"], summary["created"], summary["updated"]) == (";", 0, 0)
    assert summary["unchanged"] == lines - 1


# --- spreadsheets' damage undone, with a warning ----------------------------------------


def test_out4_a_siret_that_lost_its_zeros_is_restored_with_a_warning(world, tmp_path):
    zeros_world(world, tmp_path)
    bare = ZEROS_SIRET.lstrip("0")  # 552013500012
    structures = xlsx_of(tmp_path, "s.xlsx", [("SIRET", "Géré dans Hélios"), (int(bare), "oui")])
    result = imported(world, ADA, structures, "structures")
    assert result.exit_code == 0, result.stderr
    assert f"{bare}" in result.stderr and ZEROS_SIRET in result.stderr and "2" in result.stderr
    assert [(w["line"], w["column"], w["rule"]) for w in result.json()["warnings"]] == [
        (2, "SIRET", "OUT-4")
    ]
    rows = [("Roux", "Léa", "lea.roux@mairie-valdebriane.fr", "", bare)]
    result = imported(world, ADA, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 0, result.stderr
    assert [(w["line"], w["column"]) for w in result.json()["warnings"]] == [(2, "SIRET")]
    assert "Ligne 2, colonne « SIRET »" in result.stderr.replace("\u00a0", " ")
    shown = world(ADA, "account", "show", "lea.roux@mairie-valdebriane.fr", "--json").json()
    assert ZEROS_SIRET in str(shown)


def test_out4_a_siret_without_its_zeros_reads_alike_in_every_kind(world, tmp_path, unchanged):
    """Before, a structures flow said «14 digits» and an attachments flow «no structure
    552013500012»: now both read 00552013500012, say so for line 2, and refuse it for
    what it is (not in the register; no such structure)."""
    bare = ZEROS_SIRET.lstrip("0")
    with unchanged():
        one = imported(world, ADA, write(tmp_path, "s.csv", [(bare,)], ("SIRET",)), "structures")
        two = imported(world, ADA, write(tmp_path, "t.csv", [(ADA, bare)],
                                         ("login_email", "structure")), "attachments")  # fmt: skip
    assert one.exit_code == 2 and two.exit_code == 2
    warned = [(s.json()["warnings"], s.json()["errors"]) for s in (one, two)]
    assert [w[0]["message"] for w, _e in warned] == [warned[0][0][0]["message"]] * 2
    assert [w[0]["line"] for w, _e in warned] == [2, 2]
    assert all(ZEROS_SIRET in e[0]["message"] for _w, e in warned)


def test_out4_a_ridet_is_no_siret_that_lost_its_zeros(world, tmp_path):
    """8152116060 is a RIDET (10 digits) and, padded to 00008152116060, a valid SIRET too:
    in a column that may hold any type's identifier, it is the RIDET, with no warning."""
    ridet = "8152116060"
    made = write(tmp_path, "s.csv", [("RIDET", ridet, "Boulangerie de Nouméa")],
                 ("id_type", "identifier", "raison_sociale"))  # fmt: skip
    assert imported(world, ADA, made, "structures").exit_code == 0
    rows = [(SAM, ridet)]
    result = imported(world, ADA, write(tmp_path, "t.csv", rows, ("login_email", "structure")),
                      "attachments")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (result.json()["created"], result.json()["warnings"]) == (1, [])


def test_out4_in_a_siret_column_ten_digits_are_a_siret_that_lost_its_zeros(
    world, tmp_path, unchanged
):
    """The same 8152116060 under a «SIRET» heading: a SIRET, its zeros put back."""
    rows = [(SAM, "8152116060")]
    with unchanged():
        result = imported(world, ADA, write(tmp_path, "t.csv", rows, ("login_email", "SIRET")),
                          "attachments")  # fmt: skip
    assert result.exit_code == 2, result.stderr  # a bad row: no such structure
    assert [(w["line"], w["column"], w["rule"]) for w in result.json()["warnings"]] == [
        (2, "SIRET", "OUT-4")
    ]
    assert "00008152116060" in result.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("typed", "e164"), [("33612345678", "+33612345678"), ("4915112345678", "+4915112345678")]
)
def test_out4_a_phone_that_lost_its_plus_is_read_international(world, tmp_path, typed, e164):
    rows = [("Roux", "Léa", "lea.roux@mairie-valdebriane.fr", typed, COMMUNE)]
    result = imported(world, CORINNE, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 0, result.stderr
    assert [(w["line"], w["column"]) for w in result.json()["warnings"]] == [(2, "Téléphone")]
    assert typed in result.stderr and e164 in result.stderr
    shown = world(ADA, "account", "show", "lea.roux@mairie-valdebriane.fr", "--json").json()
    assert shown["phone"] == e164


def test_out4_a_french_number_is_still_french_and_nonsense_still_refused(world, tmp_path):
    rows = [
        ("Roux", "Léa", "lea.roux@mairie-valdebriane.fr", "0612345678", COMMUNE),
        ("Roux", "Noé", "noe.roux@mairie-valdebriane.fr", "999999999999999", COMMUNE),
    ]
    result = imported(world, CORINNE, write(tmp_path, "a.csv", rows))
    assert result.exit_code == 2
    assert [(e["line"], e["rule"]) for e in result.json()["errors"]] == [(3, "ACC-1")]
    assert result.json()["warnings"] == []


# --- round trips through a spreadsheet ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
@pytest.mark.parametrize("kind", ["accounts", "structures"])
def test_out4_export_saved_by_a_spreadsheet_imports_unchanged(world, tmp_path, kind, fmt):
    """Text cells keep what a spreadsheet would mangle (a SIRET's leading zeros, a
    phone's +): saved again, they read back as they were, with no warning."""
    print(f"OUT-4 round trip through {PATH_TAKEN}")
    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    if kind == "structures":
        zeros_world(world, tmp_path)
        zeros = write(tmp_path, "z.csv", [(ZEROS_SIRET, "oui")], ("SIRET", "Géré dans Hélios"))
        assert imported(world, ADA, zeros, "structures").exit_code == 0
    exported = tmp_path / f"{kind}.xlsx"
    export_xlsx(world, kind, exported)
    saved = saved_as(exported, fmt, tmp_path / "saved")
    result = imported(world, ADA, saved, kind)
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert (summary["created"], summary["updated"], summary["failed"]) == (0, 0, 0)
    rows = bulk(world, ADA, "export", kind, "--format", "jsonl").stdout.count("\n")
    assert summary["unchanged"] == rows > 0
    assert summary["unknown_columns"] == [] and summary["warnings"] == []


def test_out4_french_excel_csv_saved_by_a_spreadsheet_imports_unchanged(world, tmp_path):
    """The --excel CSV opened by a spreadsheet (digits become numbers: a SIRET, a phone
    lose their zeros and +) and saved as xlsx: unchanged, with warnings for what it
    mangled."""
    print(f"OUT-4 round trip through {PATH_TAKEN}")
    assert imported(world, CORINNE, write(tmp_path, "a.csv", agents())).exit_code == 0
    zeros_world(world, tmp_path)
    zeros = write(tmp_path, "z.csv", [(ZEROS_SIRET, "oui")], ("SIRET", "Géré dans Hélios"))
    assert imported(world, ADA, zeros, "structures").exit_code == 0
    assert imported(world, CORINNE, write(tmp_path, "b.csv", agents(ZEROS_SIRET))).exit_code == 0
    path = tmp_path / "attachments.csv"
    result = bulk(world, ADA, "export", "attachments", "--excel", "--output", str(path))
    assert result.exit_code == 0, result.stderr
    saved = saved_as(path, "xlsx", tmp_path / "saved")
    result = imported(world, ADA, saved, "attachments")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert (summary["created"], summary["updated"], summary["failed"]) == (0, 0, 0)
    assert summary["unchanged"] >= 2 * len(AGENTS)
    warned = [(w["column"], w["rule"], ZEROS_SIRET in w["message"]) for w in summary["warnings"]]
    assert warned == [("structure", "OUT-4", True)] * len(AGENTS)
