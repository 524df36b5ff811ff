"""The SIRENE register at a correspondent's scale (STR-2, issue 21): `chorus sirene import
--departments`, `chorus sirene update` from the INSEE Sirene API (a local stand-in on
loopback answering in the API's JSON shape), and the import's bad input; on SQLite and
on PostgreSQL."""

from __future__ import annotations

import copy
import io
import json
import time
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from chorus_cli.sirene.columns import ETABLISSEMENT_HEADER, UNITE_LEGALE_HEADER
from tests.conftest import SAMPLE_SIRETS, SIRENE_OPERATOR, load_sample
from tests.test_sirene import (
    SAMPLE_ESTABLISHMENTS,
    SAMPLE_UNITS,
    LoopbackApi,
    api_answer,
    establishment,
    imported,
    look,
    operator,
    rows_of,
    sirets,
    store_rows,
    write_csv,
)

NEW_SIRET = "73282932000074"  # valid, not in the sample
BAKERY = SAMPLE_SIRETS["bakery"]  # active in the sample, 38350 (Isère)


# --- a stand-in for the Sirene API's search by cursor --------------------------------------


def changed(siret: str, *, state="A", name="EXEMPLE API SAS", commune="75102", unit_diffusion="O"):
    """One establishment of `GET /siret?q=...` (the `etablissements` list)."""
    answer = api_answer(siret, state=state, name=name, unit_diffusion=unit_diffusion)
    found = copy.deepcopy(answer["etablissement"])
    found["dateDernierTraitementEtablissement"] = "2026-12-01T09:30:00.000"
    found["adresseEtablissement"]["codeCommuneEtablissement"] = commune
    found["adresseEtablissement"]["codePostalEtablissement"] = commune[:2] + "000"
    return found


class SireneSearch(LoopbackApi):
    """Answers `GET /api-sirene/3.11/siret?q=&curseur=&nombre=` from ``pages`` (lists of
    establishments), cursor by cursor as INSEE does (``*`` first; the last page's
    ``curseurSuivant`` is its own ``curseur``). ``faults`` are answered first, one per
    request: (status, body, headers), or "cut" (half an answer, then the connection
    closed), or "garbage" (a 200 that is not JSON)."""

    def __init__(self) -> None:
        self.pages: list[list[dict]] = []
        self.faults: list = []
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                query["key"] = self.headers.get("X-INSEE-Api-Key-Integration")
                query["path"] = urlsplit(self.path).path
                query["at"] = time.monotonic()
                stub.requests.append(query)
                if stub.faults:
                    fault = stub.faults.pop(0)
                    if fault == "cut":
                        body = json.dumps(stub.answer(query.get("curseur", "*"))).encode()
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    if fault == "garbage":
                        return self.reply(200, b"<html>Maintenance</html>", "text/html")
                    status, body, headers = fault
                    return self.reply(status, json.dumps(body).encode(), headers=headers)
                self.reply(200, json.dumps(stub.answer(query.get("curseur", "*"))).encode())

            def reply(self, status, payload, kind="application/json", headers=None):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        super().__init__(Handler)

    def answer(self, cursor: str) -> dict:
        index = 0 if cursor == "*" else int(cursor.removeprefix("c"))
        found = self.pages[index] if index < len(self.pages) else []
        following = f"c{index + 1}" if index + 1 < len(self.pages) else cursor
        return {
            "header": {
                "statut": 200,
                "message": "OK",
                "total": sum(len(p) for p in self.pages),
                "debut": 0,
                "nombre": len(found),
                "curseur": cursor,
                "curseurSuivant": following,
            },
            "etablissements": found,
        }


@pytest.fixture
def api(monkeypatch):
    stub = SireneSearch()
    monkeypatch.setenv("CHORUS_INSEE_API_URL", stub.url)
    monkeypatch.setenv("CHORUS_INSEE_API_TIMEOUT", "2")
    monkeypatch.setenv("CHORUS_INSEE_API_INTERVAL", "0")  # no pause between requests
    yield stub
    stub.stop()


def _operator_with_sample(cli) -> None:
    load_sample(cli)
    assert cli.login(SIRENE_OPERATOR).exit_code == 0


@pytest.fixture
def ops(cli, worlds):
    """The bundled sample imported, its operator logged in, an API key configured."""
    from tests.memory_keyring import MemoryKeyring

    worlds.clone(cli, "sirene sample, operator", _operator_with_sample)
    MemoryKeyring.entries[("chorus-insee", "api-key")] = "cle-de-test"
    return cli


def meta(cli) -> dict:
    rows = store_rows(
        cli,
        "SELECT establishments, update_since, update_cursor, update_started, updated_at,"
        " departments FROM sirene_meta",
    )
    names = ("establishments", "since", "cursor", "started", "updated_at", "departments")
    return dict(zip(names, rows[0], strict=True))


def in_index(cli, siret: str) -> int:
    return store_rows(cli, f"SELECT count(*) FROM sirene_establishment WHERE siret = {siret}")[0][0]


def updated(cli, *args: str) -> dict:
    result = cli("sirene", "update", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


# --- STR-2: sirene update --------------------------------------------------------------------


def test_str2_update_closes_adds_and_search_sees_both(ops, api):
    api.pages = [[changed(BAKERY, state="F", name="BOULANGERIE DUPONT")], [changed(NEW_SIRET)]]
    before = meta(ops)

    summary = updated(ops)

    assert (summary["pages"], summary["added"], summary["changed"], summary["closed"]) == (
        2, 1, 1, 1,
    )  # fmt: skip
    # asked from the stock file's newest change, by cursor, at most 1000 a page
    first, second = api.requests
    assert first["path"] == "/api-sirene/3.11/siret" and first["key"] == "cle-de-test"
    assert first["q"] == "dateDernierTraitementEtablissement:[2025-03-14 TO *]"
    assert (first["curseur"], first["nombre"], second["curseur"]) == ("*", "1000", "c1")
    assert look(ops, BAKERY)["active"] is False
    new = look(ops, NEW_SIRET)
    assert new["source"] == "index" and new["raison_sociale"] == "EXEMPLE API SAS"
    assert new["address"] == "10 RUE DE LA PAIX" and new["postal_code"] == "75000"
    assert NEW_SIRET in sirets(ops("sirene", "search", "exemple", "api", "--json"))
    found = ops("sirene", "search", "boulangerie", "dupont", "--json").json()
    assert {r["siret"]: r["active"] for r in found}[BAKERY] is False
    after = meta(ops)
    assert after["establishments"] == before["establishments"] + 1
    assert after["cursor"] is None and after["updated_at"] is not None
    assert after["since"] == after["updated_at"][:10]  # the next run asks from today
    audit = ops("audit", "list", "--action", "sirene.update", "--json").json()
    assert audit and audit[0]["actor"] == SIRENE_OPERATOR


def test_str2_update_new_words_are_found_by_a_prefix_the_index_knew(ops, api):
    """A prefix is searched as the words the index knows (sirene_term on SQLite): a word
    an update brings (BOULANGEX) is found by a prefix older words share (« boulange »)."""
    other = "40483304800014"  # valid, not in the sample either
    api.pages = [[changed(NEW_SIRET, name="BOULANGEX SAS"), changed(other, name="BOULANGEX")]]

    updated(ops)

    found = sirets(ops("sirene", "search", "boulange", "--json"))
    assert NEW_SIRET in found and other in found and BAKERY in found
    if ops.url.startswith("sqlite"):  # the vocabulary counts rows, as the import does
        docs = "SELECT term, docs FROM sirene_term WHERE term IN ('boulangex', 'sas')"
        counts = dict(store_rows(ops, docs))
        assert counts["boulangex"] == 2 and counts["sas"] >= 1


def test_str2_update_twice_asks_from_the_last_run_and_rewrites_search_rows(ops, api):
    api.pages = [[changed(NEW_SIRET, name="ANCIEN NOM")]]
    updated(ops)
    api.pages = [[changed(NEW_SIRET, name="NOUVEAU NOM")]]
    api.requests.clear()

    summary = updated(ops)

    assert summary["changed"] == 1 and summary["added"] == 0
    assert api.requests[0]["q"] == f"dateDernierTraitementEtablissement:[{meta(ops)['since']} TO *]"
    assert NEW_SIRET in sirets(ops("sirene", "search", "nouveau", "--json"))
    assert sirets(ops("sirene", "search", "ancien", "nom", "--json")) == []


def test_str2_update_a_renamed_unit_renames_its_other_establishments_in_search(ops, api):
    company = SAMPLE_SIRETS["company"]  # CHORUS DEMO SERVICES: three establishments
    api.pages = [[changed(company, name="NOUVELLE RAISON SAS", commune="69383")]]

    updated(ops)

    renamed = sirets(ops("sirene", "search", "nouvelle", "raison", "--json"))
    assert len(renamed) == 3 and all(s.startswith(company[:9]) for s in renamed)
    assert sirets(ops("sirene", "search", "chorus", "demo", "services", "--json")) == []
    assert look(ops, company[:9] + "00026")["raison_sociale"] == "NOUVELLE RAISON SAS"


def test_str3_update_a_unit_turned_non_diffusible_keeps_no_address_of_its_establishments(ops, api):
    company, branch = SAMPLE_SIRETS["company"], SAMPLE_SIRETS["company_branch"]
    assert look(ops, branch)["address"]  # diffusible before
    api.pages = [
        [changed(company, name="CHORUS DEMO SERVICES", commune="69383", unit_diffusion="P")]
    ]

    updated(ops)

    for siret in (company, branch):
        shown = look(ops, siret)
        assert shown["non_diffusible"] is True and shown["address"] is None
        assert (shown["postal_code"], shown["commune"]) == (None, None)
    kept = "SELECT address, postal_code, commune, country FROM sirene_establishment"
    assert store_rows(ops, f"{kept} WHERE siret = {branch}") == [(None, None, None, None)]


def test_str2_a_purged_unit_s_establishment_is_known_by_its_own_name_by_import_and_update(
    ops, api, tmp_path
):
    """A legal unit INSEE purged has no name left: its establishment is known by its own
    (denomination usuelle), whether the stock file brought it or `sirene update` did."""
    own = "CAFE DU COIN"
    stock = write_csv(tmp_path / "etab.csv", ETABLISSEMENT_HEADER, [establishment(NEW_SIRET, own)])
    purged = {"siren": NEW_SIRET[:9], "statutDiffusionUniteLegale": "O",
              "unitePurgeeUniteLegale": "true", "etatAdministratifUniteLegale": "C",
              "categorieJuridiqueUniteLegale": "5710"}  # fmt: skip
    units = write_csv(tmp_path / "ul.csv", UNITE_LEGALE_HEADER, [purged])
    name = f"SELECT raison_sociale, enseigne FROM sirene_establishment WHERE siret = {NEW_SIRET}"

    imported(ops, stock, "--unites-legales", units)
    by_import = store_rows(ops, name)
    found = changed(NEW_SIRET, name="")
    found["periodesEtablissement"][0]["denominationUsuelleEtablissement"] = own
    api.pages = [[found]]
    updated(ops)
    by_update = store_rows(ops, name)

    assert by_update == [(own, own)]
    assert by_import == by_update
    assert look(ops, NEW_SIRET)["raison_sociale"] == own
    assert NEW_SIRET in sirets(ops("sirene", "search", "cafe", "coin", "--json"))


def test_str2_update_since_asks_from_that_day(ops, api):
    api.pages = [[]]

    summary = updated(ops, "--since", "2026-11-02")

    assert summary["since"] == "2026-11-02" and summary["added"] == 0
    assert api.requests[0]["q"] == "dateDernierTraitementEtablissement:[2026-11-02 TO *]"


def test_str2_update_spaces_its_requests_within_30_a_minute(monkeypatch):
    from chorus_cli.sirene import update

    monkeypatch.delenv("CHORUS_INSEE_API_INTERVAL", raising=False)
    pauses: list[float] = []
    pacer = update._Pacer(update.interval(), pauses.append)

    for _ in range(3):
        pacer.wait()

    assert update.interval() == 2.0  # 60 s / 30 requests
    assert len(pauses) == 2 and all(1.0 < pause <= 2.0 for pause in pauses)
    assert update._retry_after("7") == 7.0 and update._retry_after(None) == 60.0


def test_str2_update_waits_after_a_429_as_retry_after_says_then_goes_on(ops, api):
    api.pages = [[changed(NEW_SIRET)]]
    api.faults = [(429, {"header": {"statut": 429}}, {"Retry-After": "1"})]

    summary = updated(ops)

    assert summary["added"] == 1
    assert [r["curseur"] for r in api.requests] == ["*", "*"]
    assert api.requests[1]["at"] - api.requests[0]["at"] >= 1.0  # Retry-After: 1 (s)


def test_str2_update_a_5xx_is_retried_then_one_sentence_and_the_index_unchanged(
    ops, api, unchanged
):
    api.pages = [[changed(NEW_SIRET)]]
    api.faults = [(502, {}, {})]
    recovered = updated(ops)  # one 5xx: retried
    api.requests.clear()
    api.faults = [(503, {}, {})] * 3

    with unchanged():
        failed = ops("sirene", "update")

    assert recovered["added"] == 1
    assert failed.exit_code == 1 and "503" in failed.stderr and "STR-2" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1 and len(api.requests) == 3


def test_str2_update_a_cut_connection_keeps_the_pages_applied_and_resumes_there(ops, api):
    other = SAMPLE_SIRETS["bakery_other"]
    api.pages = [
        [changed(BAKERY, state="F", name="BOULANGERIE DUPONT")],
        [changed(NEW_SIRET)],
        [changed(other, state="F", name="BOULANGERIE DUPUIS")],
    ]
    api.faults = [(200, api.answer("*"), {})] + ["cut"] * 3  # page 1, then cut three times

    cut = ops("sirene", "update")

    assert cut.exit_code == 1 and "STR-2" in cut.stderr
    assert "1" in cut.stderr and "chorus sirene update" in cut.stderr
    assert look(ops, BAKERY)["active"] is False  # page 1 stays
    assert in_index(ops, NEW_SIRET) == 0  # page 2 was not
    assert meta(ops)["cursor"] == "c1"
    trail = ops("audit", "list", "--action", "sirene.update", "--json").json()
    assert len(trail) == 1 and "stopped" in json.dumps(trail[0])
    api.requests.clear()
    cut_day = ops.clock.now().date().isoformat()
    ops.clock.advance(days=1)  # resumed the next day
    assert ops.login(SIRENE_OPERATOR).exit_code == 0

    resumed = updated(ops)

    assert resumed["resumed"] is True and resumed["pages"] == 2
    assert [r["curseur"] for r in api.requests] == ["c1", "c2"]
    assert look(ops, NEW_SIRET)["source"] == "index"
    assert look(ops, other)["active"] is False
    assert meta(ops)["cursor"] is None
    assert meta(ops)["since"] == cut_day  # the next run asks from the day the cut one began


def test_str2_update_a_cut_run_asked_since_a_date_resumes_with_that_date(ops, api):
    api.pages = [[changed(BAKERY, state="F", name="BOULANGERIE DUPONT")], [changed(NEW_SIRET)]]
    api.faults = [(200, api.answer("*"), {})] + ["cut"] * 3

    cut = ops("sirene", "update", "--since", "2026-11-02")
    api.requests.clear()
    resumed = updated(ops)

    assert cut.exit_code == 1 and resumed["resumed"] is True
    assert [(r["q"], r["curseur"]) for r in api.requests] == [
        ("dateDernierTraitementEtablissement:[2026-11-02 TO *]", "c1")
    ]


@pytest.mark.parametrize(
    "fault",
    [
        "garbage",  # an HTML maintenance page
        (200, {"header": {"statut": 200, "curseur": "*", "curseurSuivant": "*"},
               "etablissements": [{"siret": "pas-un-siret"}]}, {}),
        (200, {"etablissements": []}, {}),  # no header
    ],
    ids=["html", "bad-siret", "no-header"],
)  # fmt: skip
def test_str2_update_an_answer_that_is_not_json_is_one_sentence(ops, api, unchanged, fault):
    api.pages = [[changed(NEW_SIRET)]]
    api.faults = [fault]

    with unchanged():
        result = ops("sirene", "update")

    assert result.exit_code == 1 and "JSON" in result.stderr and "STR-2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_str2_update_a_refused_key_names_configure_api(ops, api, unchanged, status):
    api.faults = [(status, {"message": "Invalid credentials"}, {})]

    with unchanged():
        result = ops("sirene", "update")

    assert result.exit_code == 2 and "chorus sirene configure-api" in result.stderr
    assert str(status) in result.stderr and "cle-de-test" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and len(api.requests) == 1


def test_str2_update_without_a_key_names_configure_api_and_calls_nobody(ops, api, unchanged):
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries.pop(("chorus-insee", "api-key"))

    with unchanged():
        result = ops("sirene", "update")

    assert result.exit_code == 2 and "chorus sirene configure-api" in result.stderr
    assert api.requests == []


def test_str2_update_before_any_import_says_to_import(cli, api):
    from tests.memory_keyring import MemoryKeyring

    operator(cli)
    MemoryKeyring.entries[("chorus-insee", "api-key")] = "cle-de-test"

    result = cli("sirene", "update")

    assert result.exit_code == 3 and "chorus sirene import" in result.stderr
    assert api.requests == []


def test_str2_update_is_refused_with_dry_run(ops, api, unchanged):
    with unchanged():
        result = ops("sirene", "update", "--dry-run")

    assert result.exit_code == 2 and api.requests == []


# --- STR-2: import --departments ----------------------------------------------------------


def test_str2_import_departments_keeps_theirs_and_their_units(cli):
    operator(cli)

    summary = imported(
        cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS, "--departments", "69,75"
    )

    assert summary["establishments"] == 6 and summary["outside"] == 16
    assert summary["departments"] == ["69", "75"] and summary["units"] == 5
    kept = {f"{row[0]:014d}" for row in store_rows(cli, "SELECT siret FROM sirene_establishment")}
    assert SAMPLE_SIRETS["company"] in kept and BAKERY not in kept
    assert store_rows(cli, "SELECT count(*) FROM sirene_unit") == [(5,)]
    assert look(cli, SAMPLE_SIRETS["company"])["raison_sociale"] == "CHORUS DEMO SERVICES"
    assert store_rows(cli, "SELECT departments FROM sirene_meta") == [("69,75",)]


def test_str2_import_departments_summary_says_kept_and_left_out(cli):
    operator(cli)

    result = cli("sirene", "import", SAMPLE_ESTABLISHMENTS, "--departments", "38")

    assert result.exit_code == 0, result.stderr
    assert "Départements 38 : 15 établissements gardés, 7 " in result.stderr


def test_str2_import_departments_corsica_and_overseas(cli, tmp_path):
    operator(cli)
    rows = [
        establishment("82345678500018", "AJACCIO", codeCommuneEtablissement="2A004",
                      codePostalEtablissement="20000"),
        establishment("44123456400017", "BASTIA", codeCommuneEtablissement="",
                      codePostalEtablissement="20200"),
        establishment("51234567900017", "SAINT-DENIS", codeCommuneEtablissement="97411",
                      codePostalEtablissement="97400"),
        establishment("39912345400015", "GRENOBLE", codeCommuneEtablissement="38185",
                      codePostalEtablissement="38000"),
    ]  # fmt: skip
    path = write_csv(tmp_path / "StockEtablissement.csv", ETABLISSEMENT_HEADER, rows)

    corsica = imported(cli, path, "--departments", "2a,2B")
    haute_corse = imported(cli, path, "--departments", "2B")  # 20200, no commune code
    bastia = look(cli, "44123456400017")
    reunion = imported(cli, path, "--departments", "974")

    assert (corsica["establishments"], corsica["outside"]) == (2, 2)
    assert (haute_corse["establishments"], haute_corse["outside"]) == (1, 3)
    assert bastia["raison_sociale"] == "BASTIA"
    assert (reunion["establishments"], reunion["outside"]) == (1, 3)
    assert look(cli, "51234567900017")["commune"] == "PARIS 2"  # from the row as written


def test_str2_import_departments_lines_passed_over_keep_line_numbers(cli, tmp_path):
    """Lines of other départements are passed over unparsed; a record over three lines
    is still read whole, and a bad line is still named by its number."""
    operator(cli)
    text = io.StringIO()
    import csv

    writer = csv.DictWriter(text, fieldnames=ETABLISSEMENT_HEADER, restval="", lineterminator="\n")
    writer.writeheader()  # line 1
    writer.writerow(establishment("82345678500018", "A"))  # 2: Paris, passed over
    writer.writerow(  # 3-5: Isère, over three lines (the middle one without a quote)
        establishment("51234567900017", "B", complementAdresseEtablissement="BAT C\nESC 2\nPTE 3",
                      codeCommuneEtablissement="38185", codePostalEtablissement="38000")
    )  # fmt: skip
    writer.writerow(  # 6: Paris at number 38: parsed (",38"), then left out
        establishment("44123456400017", "C", numeroVoieEtablissement="38")
    )
    writer.writerow(  # 7: Isère, not a SIRET
        establishment("1234", "D", codeCommuneEtablissement="38185")
    )
    path = tmp_path / "StockEtablissement.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    units = [  # only the Isère establishment's unit is kept
        {"siren": siret[:9], "statutDiffusionUniteLegale": "O", "denominationUniteLegale": name}
        for siret, name in (("82345678500018", "A SA"), ("51234567900017", "B SA"),
                            ("44123456400017", "C SA"))
    ]  # fmt: skip
    unit_file = write_csv(tmp_path / "StockUniteLegale.csv", UNITE_LEGALE_HEADER, units)

    summary = imported(cli, str(path), "--unites-legales", unit_file, "--departments", "38")

    assert summary["establishments"] == 1 and summary["outside"] == 2
    assert summary["units"] == 1 and summary["units_outside"] == 2
    assert look(cli, "51234567900017")["raison_sociale"] == "B SA"
    assert [(r["line"], r["reason"]) for r in summary["skipped_rows"]] == [(7, "siret")]
    assert look(cli, "51234567900017")["address"] == "BAT C\nESC 2\nPTE 3\n1 RUE DE LA PAIX"


@pytest.mark.parametrize("value", ["20", "99", "38,ISERE", "977", ","])
def test_str2_import_departments_refuses_what_is_no_department(cli, unchanged, value):
    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)

    with unchanged():
        result = cli("sirene", "import", SAMPLE_ESTABLISHMENTS, "--departments", value)

    assert result.exit_code == 2 and "--departments" in result.stderr and "STR-2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_str2_departments_kept_are_those_pub1_scopes_know():
    """One list of départements (``domain.departments``) for `--departments` and for
    PUB-1 scopes: 975 (Saint-Pierre-et-Miquelon, INSEE commune codes 975xx) included."""
    from chorus_cli.domain import departments

    assert departments.parse_list("1, 2a;975") == {"01", "2A", "975"}
    assert all(departments.DEPARTMENT.match(code) for code in departments.parse_list("971,976"))
    assert departments.of_establishment("97502", "97500") == "975"
    assert departments.of_establishment("", "20200") == departments.department("20200") == "2B"


def test_str2_update_keeps_the_departments_of_the_import(cli, api):
    from tests.memory_keyring import MemoryKeyring

    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS, "--departments", "38")
    MemoryKeyring.entries[("chorus-insee", "api-key")] = "cle-de-test"
    lyon = "55203253400034"
    api.pages = [[changed(NEW_SIRET, commune="38185"), changed(lyon, commune="69383")]]

    summary = updated(cli)

    assert (summary["added"], summary["outside"]) == (1, 1)
    assert "codeCommuneEtablissement:38*" in api.requests[0]["q"]
    assert look(cli, NEW_SIRET)["source"] == "index"
    assert in_index(cli, lyon) == 0


# --- STR-2: bad input of the import ---------------------------------------------------------


@pytest.mark.parametrize("kept", [[], ["--departments", "38"]], ids=["all", "departments"])
def test_str2_a_file_cut_in_the_middle_of_a_row_is_refused_and_the_index_unchanged(
    cli, tmp_path, unchanged, kept
):
    """Also when the import keeps some départements: the cut line, too short to name
    its own, is read, not passed over as another département's."""
    operator(cli)
    imported(cli, SAMPLE_ESTABLISHMENTS, "--unites-legales", SAMPLE_UNITS)
    whole = Path(SAMPLE_ESTABLISHMENTS).read_bytes()
    last = whole.rstrip(b"\n").rindex(b"\n") + 1
    path = tmp_path / "StockEtablissement.csv"
    path.write_bytes(whole[: last + 40])  # a download that stopped mid-row (before 38...)

    with unchanged():
        result = cli("sirene", "import", str(path), *kept)

    assert result.exit_code == 2 and "tronqué" in result.stderr and "STR-2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_str2_a_zip_holding_something_else_is_refused(cli, tmp_path, unchanged):
    operator(cli)
    archive = tmp_path / "StockEtablissement_utf8.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("StockEtablissement_utf8.parquet", b"PAR1" + bytes(200))
    units = tmp_path / "units_as_establishments.zip"
    with zipfile.ZipFile(units, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(SAMPLE_UNITS, "StockEtablissement_utf8.csv")  # the wrong file inside

    with unchanged():
        other = cli("sirene", "import", str(archive))
        wrong = cli("sirene", "import", str(units))

    assert other.exit_code == 2 and "0" in other.stderr and "CSV" in other.stderr
    assert wrong.exit_code == 2 and "siret" in wrong.stderr


def test_str2_the_2019_layout_is_still_read(cli, tmp_path):
    """INSEE's layout before 2023: no dernierNumeroVoie, no Lambert coordinates, no NAF
    2025, no dateDernierTraitement; read by name, the update then asks from the import."""
    operator(cli)
    newer = {
        "dernierNumeroVoieEtablissement", "indiceRepetitionDernierNumeroVoieEtablissement",
        "identifiantAdresseEtablissement", "coordonneeLambertAbscisseEtablissement",
        "coordonneeLambertOrdonneeEtablissement", "activitePrincipaleNAF25Etablissement",
        "dateDernierTraitementEtablissement",
    }  # fmt: skip
    header = [c for c in ETABLISSEMENT_HEADER if c not in newer]
    path = write_csv(
        tmp_path / "StockEtablissement_2019.csv", header, rows_of(SAMPLE_ESTABLISHMENTS)
    )

    summary = imported(cli, path, "--unites-legales", SAMPLE_UNITS)

    assert summary["establishments"] == 22 and summary["skipped"] == 0
    assert summary["data_date"] is None
    since = store_rows(cli, "SELECT update_since, imported_at FROM sirene_meta")[0]
    assert since[0] == since[1][:10]
