"""API-1, API-2, API-3, TECH-1: `chorus serve`, a real server on a loopback port.

Each server is the real command (``python -m chorus_cli serve --port 0``) in a
subprocess, over a SQLite store seeded with `chorus seed --technical-accounts` (and one
scenario on PostgreSQL); the client is httpx, as a third-party integration is: it
changes only the base URL. The domain rules behind the answers (technical accounts'
rights, tokens) are tested on both stores in tests/test_technical.py.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from chorus_cli.kernel.clock import FrozenClock
from tests.conftest import Runner, copy_store, drop_store, template_store

TECH_PASSWORD = "Techn1que-Seed-Pass!"
CLIENT_ID, CLIENT_SECRET = "erp-client-0001", "a-secret-of-the-erp-0123456789abcdef"
STRUCTURES = "/cpro/structures/v1"


@dataclass
class Served:
    """A running `chorus serve` and what a test needs to call it."""

    process: subprocess.Popen
    url: str
    store: str
    log: list[str] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)

    def end(self) -> None:
        """After a failed test: no server left running."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def seed_store(url: str, home: Path, people: str | None = None) -> None:
    """Seeded structures, one technical account each (TECH-1), one API client (API-2);
    ``people``: the accounts' password (else the seed's)."""
    runner = Runner(url, home, FrozenClock())
    chosen = ("--password-stdin",) if people else ()
    seeded = runner("seed", "--accounts", "40", "--structures", "12", "--technical-accounts",
                    *chosen, "--technical-password-stdin",
                    input="".join(f"{p}\n" for p in (people, TECH_PASSWORD) if p))  # fmt: skip
    assert seeded.exit_code == 0, seeded.stderr
    from sqlmodel import text

    from chorus_cli.config import Settings
    from chorus_cli.domain.secrets import token_hash
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.models import ApiClient
    from chorus_cli.store.uow import UnitOfWork

    with UnitOfWork(Settings.from_env(url), SystemClock()) as uow:
        uow.session.add(
            ApiClient(
                name="ERP Test",
                client_id=CLIENT_ID,
                secret_hash=token_hash(CLIENT_SECRET),
                created_at=uow.clock.now(),
                created_by="test",
            )
        )
        # A private structure among them (a supplier): seed's few are all public.
        uow.session.exec(text("UPDATE structure SET public = false WHERE id = 12"))
        uow.commit()


def start(url: str, home: Path, *args: str, wrap: tuple[str, ...] = ()) -> Served:
    """`chorus serve` on a free port (``wrap``: a command it runs under)."""
    env = {
        **os.environ,
        "CHORUS_DATABASE_URL": url,
        "CHORUS_DATA_DIR": str(home),
        "CHORUS_LANG": "en",
        "PYTHON_KEYRING_BACKEND": "tests.memory_keyring.MemoryKeyring",
    }
    env.pop("CHORUS_DEBUG", None)
    process = subprocess.Popen(
        [*wrap, sys.executable, "-m", "chorus_cli", "serve", "--port", "0", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stderr.readline()
    found = re.search(r"https?://\S+:\d+", first)
    assert found, first + process.stderr.read()
    served = Served(process, found.group(0), url, [first])

    def drain() -> None:
        for line in process.stderr:
            served.log.append(line)

    threading.Thread(target=drain, daemon=True).start()
    return served


@pytest.fixture(scope="module")
def store(tmp_path_factory, request):
    home = tmp_path_factory.mktemp("served")
    template, _ = template_store(request, "sqlite")
    url = copy_store(template, None, path=home / "chorus.db")
    seed_store(url, home)
    return url, home


@pytest.fixture(scope="module")
def served(store):
    url, home = store
    server = start(url, home, "--rate", "100000")
    yield server
    server.stop()


def rows(url: str, sql: str) -> list[tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return found


def account_header(login: str, password: str = TECH_PASSWORD) -> str:
    return base64.b64encode(f"{login}:{password}".encode()).decode()


def token(client: httpx.Client) -> str:
    answer = client.post(
        "/api/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": "openid",
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@asynccontextmanager
async def in_process(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """`chorus serve`'s application in this process (httpx's ASGI transport, no socket),
    a client of it and a bearer token of the seeded API client; the server closed after."""
    from chorus_cli.api import app as api_app
    from chorus_cli.config import Settings

    server = api_app.Server(Settings.from_env(url), rate=100_000)
    transport = httpx.ASGITransport(app=server.app(log=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://chorus") as client:
            form = {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET}  # fmt: skip
            bearer = (await client.post("/api/oauth/token", data=form)).json()
            yield client, f"Bearer {bearer['access_token']}"
    finally:
        server.close()


def headers_of(served: Served, structure_id: int = 1) -> dict[str, str]:
    """A bearer token and the cpro-account of the technical account of the structure."""
    (identifier,) = rows(served.store, f"SELECT identifier FROM structure WHERE id={structure_id}")[
        0
    ]
    with served.client() as client:
        bearer = token(client)
    return {
        "Authorization": f"Bearer {bearer}",
        "cpro-account": account_header(f"TECH_1_{identifier}@cpro.fr"),
    }


# --- API-1: the paths, as a third-party client calls them ----------------------------------


def erp_scenario(base_url: str, store: str) -> dict:
    """What an ERP does, written as its code would be, with only the base URL ours:
    token → rechercherStructure by SIRET → consulterStructure → rechercherServicesStructure."""
    own, public_siret = rows(
        store,
        "SELECT (SELECT identifier FROM structure ORDER BY id LIMIT 1), identifier "
        "FROM structure WHERE public AND id IN (SELECT structure_id FROM service) "
        "ORDER BY id DESC LIMIT 1",
    )[0]
    with httpx.Client(base_url=base_url, timeout=30) as http:
        oauth = http.post(
            "/api/oauth/token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                  "client_secret": CLIENT_SECRET, "scope": "openid"},
        )  # fmt: skip
        assert oauth.status_code == 200
        grant = oauth.json()
        assert grant["token_type"] == "Bearer" and grant["scope"] == "openid"
        assert grant["expires_in"] == 3600
        headers = {
            "Authorization": f"Bearer {grant['access_token']}",
            "cpro-account": account_header(f"TECH_1_{own}@cpro.fr"),
            "Content-Type": "application/json;charset=utf-8",
            "Accept": "application/json",
        }
        found = http.post(
            f"{STRUCTURES}/rechercher",
            headers=headers,
            json={"structure": {"identifiantStructure": public_siret,
                                "typeIdentifiantStructure": "SIRET"},
                  "parametres": {"nbResultatsParPage": 10, "pageResultatDemandee": 1}},
        ).json()  # fmt: skip
        assert found["codeRetour"] == 0, found
        (structure,) = found["listeStructures"]
        shown = http.post(
            f"{STRUCTURES}/consulter",
            headers=headers,
            json={"idStructureCPP": structure["idStructureCPP"], "codeLangue": "fr"},
        ).json()
        services = http.post(
            f"{STRUCTURES}/rechercher/services",
            headers=headers,
            json={"idStructure": structure["idStructureCPP"],
                  "parametresRechercherServicesStructure": {"nbResultatsParPage": 50}},
        ).json()  # fmt: skip
    return {"found": found, "structure": structure, "shown": shown, "services": services,
            "siret": public_siret}  # fmt: skip


def test_api1_an_erp_finds_a_recipient_reads_its_settings_and_lists_its_services(served):
    result = erp_scenario(served.url, served.store)
    structure, shown, services = result["structure"], result["shown"], result["services"]
    assert structure["identifiantStructure"] == result["siret"]
    assert structure["typeIdentifiantStructure"] == "SIRET" and structure["statut"] == "ACTIVE"
    assert result["found"]["parametresRetour"] == {
        "nbResultatsParPage": 10, "pageCourante": 1, "pages": 1, "total": 1}  # fmt: skip
    # Stable integer ids: the store's own.
    ((sid, name),) = rows(
        served.store,
        f"SELECT id, raison_sociale FROM structure WHERE identifier='{result['siret']}'",
    )
    assert structure["idStructureCPP"] == sid
    assert shown["codeRetour"] == 0 and shown["libelle"]
    general = shown["informationGenerales"]
    assert general["idStructureCPP"] == sid and general["raisonSocialeStructure"] == name
    assert general["structurePriveePublique"] == "PUBLIQUE"
    assert shown["parametres"]["codeServiceDoitEtreRenseigne"] is False
    assert shown["parametres"]["numeroEJDoitEtreRenseigne"] is False
    stored = rows(
        served.store, f"SELECT id, code FROM service WHERE structure_id={sid} ORDER BY code"
    )
    assert [(s["idService"], s["codeService"]) for s in services["listeServices"]] == stored
    assert services["parametresRetour"]["total"] == len(stored)


def test_api1_consulter_structure_answers_the_settings_its_manager_set(served):
    """Issue 22: codeServiceDoitEtreRenseigne and numeroEJDoitEtreRenseigne are the
    structure's settings, as its primary manager set them (`structure update`)."""
    from chorus_cli.config import Settings
    from chorus_cli.domain import structures
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork

    ((manager_id, identifier),) = rows(
        served.store, "SELECT primary_manager_id, identifier FROM structure WHERE id = 1"
    )

    def update(**changes: str) -> None:
        with UnitOfWork(Settings.from_env(served.store), SystemClock()) as uow:
            manager = uow.session.get(Account, manager_id)
            structures.update(uow, manager, identifier, changes)
            uow.commit()

    def consulted() -> tuple[bool, bool]:
        with served.client() as client:
            shown = client.post(
                f"{STRUCTURES}/consulter", headers=headers_of(served), json={"idStructureCPP": 1}
            ).json()
        assert shown["codeRetour"] == 0, shown
        found = shown["parametres"]
        return found["codeServiceDoitEtreRenseigne"], found["numeroEJDoitEtreRenseigne"]

    assert consulted() == (False, False)
    update(service_code_required="on", engagement_number_required="on")
    try:
        assert consulted() == (True, True)
        update(service_code_required="off")
        assert consulted() == (False, True)
    finally:
        update(service_code_required="off", engagement_number_required="off")


def test_api1_search_by_name_type_postal_code_with_paging_and_sort(served):
    headers = headers_of(served)
    every = rows(
        served.store,
        "SELECT id, identifier FROM structure WHERE status='active' ORDER BY identifier DESC",
    )
    with served.client() as client:

        def search(body):
            answer = client.post(f"{STRUCTURES}/rechercher", headers=headers, json=body)
            assert answer.status_code == 200, answer.text
            return answer.json()

        wanted = {"nbResultatsParPage": 5, "pageResultatDemandee": 2,
                  "triColonne": "IdentifiantStructure", "triSens": "Descendant"}  # fmt: skip
        first = search({"parametres": wanted})
        assert [s["idStructureCPP"] for s in first["listeStructures"]] == [
            i for i, _ in every[5:10]
        ]
        assert first["parametresRetour"] == {
            "nbResultatsParPage": 5, "pageCourante": 2, "pages": -(-len(every) // 5),
            "total": len(every)}  # fmt: skip
        # Past the last page: no rows, and still the whole count (structures, services).
        past = search({"parametres": {"nbResultatsParPage": 5, "pageResultatDemandee": 99}})
        assert past["listeStructures"] == [] and past["parametresRetour"]["total"] == len(every)
        ((services,),) = rows(served.store, "SELECT count(*) FROM service WHERE structure_id = 1")
        paging = {"nbResultatsParPage": 1, "pageResultatDemandee": 99}
        body = {"idStructure": 1, "parametresRechercherServicesStructure": paging}
        listed = client.post(f"{STRUCTURES}/rechercher/services", headers=headers, json=body).json()
        assert listed["listeServices"] == [] and listed["parametresRetour"]["total"] == services
        ((sid, name, postal),) = rows(
            served.store,
            "SELECT id, raison_sociale, postal_code FROM structure "
            "WHERE postal_code IS NOT NULL AND NOT non_diffusible ORDER BY id LIMIT 1",
        )
        word = name.split()[-1]
        by_name = search({"structure": {"raisonSocialeStructure": word.lower()}})
        assert sid in [s["idStructureCPP"] for s in by_name["listeStructures"]]
        by_postal = search(
            {"structure": {"adresseCodePostal": postal, "typeStructure": "PUBLIQUE"}}
        )
        assert sid in [s["idStructureCPP"] for s in by_postal["listeStructures"]]
        assert search({"structure": {"statutStructure": "INACTIF"}})["listeStructures"] == []
        private = search({"structure": {"typeStructure": "PRIVEE"}})["parametresRetour"]["total"]
        public = search({"structure": {"typeStructure": "PUBLIQUE"}})["parametresRetour"]["total"]
        assert private + public == len(every)
        bad = client.post(f"{STRUCTURES}/rechercher", headers=headers,
                          json={"parametres": {"nbResultatsParPage": 5000}})  # fmt: skip
        assert bad.status_code == 400 and bad.json()["codeRetour"] == 400
        assert "API-1" in bad.json()["libelle"]


def test_api1_str3_search_filters_hold_and_an_address_never_finds_a_non_diffusible_one(served):
    """rechercherStructure's other filters (identifier type, city, private ones left out)
    each hold; a non-diffusible structure (STR-3) is never found by its postal code or
    city, which it does not publish."""
    headers = headers_of(served)
    ((sid, identifier, id_type, postal, city),) = rows(
        served.store,
        "SELECT id, identifier, id_type, postal_code, commune FROM structure WHERE public "
        "AND status = 'active' AND commune IS NOT NULL AND NOT non_diffusible ORDER BY id "
        "LIMIT 1",
    )
    ((private,),) = rows(served.store, "SELECT id FROM structure WHERE NOT public LIMIT 1")
    other_type = "RIDET" if id_type != "RIDET" else "SIRET"
    every = {"nbResultatsParPage": 1000}

    def found(wanted: dict, **more: object) -> set[int]:
        body = {"structure": wanted, "parametres": every, **more}
        with served.client() as client:
            answer = client.post(f"{STRUCTURES}/rechercher", headers=headers, json=body)
        assert answer.status_code == 200, answer.text
        return {s["idStructureCPP"] for s in answer.json()["listeStructures"]}

    assert sid in found({"identifiantStructure": identifier, "typeIdentifiantStructure": id_type})
    assert (
        found({"identifiantStructure": identifier, "typeIdentifiantStructure": other_type}) == set()
    )
    assert private in found({}) and sid in found({})
    kept = found({}, restreindreStructuresPrivees=True)
    assert private not in kept and sid in kept
    by_address = ({"adresseCodePostal": postal}, {"adresseVille": city.lower()})
    assert [sid in found(wanted) for wanted in by_address] == [True, True]
    from sqlalchemy import create_engine, text

    engine = create_engine(served.store)

    def hidden(flag: bool) -> None:
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE structure SET non_diffusible = {flag} WHERE id = {sid}"))

    try:
        hidden(True)
        assert [sid in found(wanted) for wanted in by_address] == [False, False]
        assert sid in found({"identifiantStructure": identifier})  # found, but not by address
    finally:
        hidden(False)
        engine.dispose()


def test_api1_str9_a_search_finds_active_structures_only(served):
    """A technical account finds by searching what anyone logged in finds: the active
    structures (authz.technical_findable_structures); pending and refused ones, never."""
    headers = headers_of(served)
    ((sid, identifier, name),) = rows(
        served.store, "SELECT id, identifier, raison_sociale FROM structure WHERE id = 4"
    )
    searches = (
        {"structure": {"identifiantStructure": identifier}},
        {"structure": {"raisonSocialeStructure": name}},
        {"parametres": {"nbResultatsParPage": 1000}},
    )

    def found() -> list[bool]:
        with served.client() as client:
            answers = [
                client.post(f"{STRUCTURES}/rechercher", headers=headers, json=body).json()
                for body in searches
            ]
        return [sid in [s["idStructureCPP"] for s in a["listeStructures"]] for a in answers]

    assert found() == [True, True, True]
    from sqlalchemy import create_engine, text

    engine = create_engine(served.store)
    try:
        for status in ("pending", "refused"):
            with engine.begin() as conn:
                conn.execute(text(f"UPDATE structure SET status = '{status}' WHERE id = {sid}"))
            assert found() == [False, False, False], status
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE structure SET status = 'active' WHERE id = {sid}"))
        engine.dispose()
    assert found() == [True, True, True]


def test_api1_searches_of_one_shape_each_answer_their_own_values(served):
    searches_of_one_shape(served)


@contextmanager
def served_on_postgresql(
    tmp_path: Path, request: pytest.FixtureRequest, *args: str
) -> Iterator[tuple[Served, str]]:
    """A seeded copy of the PostgreSQL template and a `chorus serve ARGS` on it; both gone
    after."""
    template, admin = template_store(request, "postgresql")
    url = copy_store(template, admin)
    try:
        seed_store(url, tmp_path)
        from chorus_cli.store import engine as engine_module

        engine_module.dispose_all()
        server = start(url, tmp_path, *args)
        try:
            yield server, url
        finally:
            server.stop()
    finally:
        drop_store(url, admin)


def test_api1_searches_of_one_shape_each_answer_their_own_values_on_postgresql(tmp_path, request):
    with served_on_postgresql(tmp_path, request) as (server, url):
        searches_of_one_shape(server)


def searches_of_one_shape(served: Served) -> None:
    """The server builds a search's statement once per shape (which filters, how many
    words) and runs it with each request's values: searches of one shape in a row, by
    identifier and by name, each find their own structure, and a page's total is its own."""
    headers = headers_of(served)
    every = rows(
        served.store,
        "SELECT id, identifier, raison_sociale FROM structure WHERE status = 'active' "
        "ORDER BY id LIMIT 6",
    )
    assert len(every) >= 4
    with served.client() as client:

        def search(body: dict) -> dict:
            answer = client.post(f"{STRUCTURES}/rechercher", headers=headers, json=body)
            assert answer.status_code == 200, answer.text
            return answer.json()

        for _round in range(2):
            for sid, identifier, name in every:
                by_id = search({"structure": {"identifiantStructure": identifier}})
                assert [s["idStructureCPP"] for s in by_id["listeStructures"]] == [sid]
                by_name = search({"structure": {"raisonSocialeStructure": name}})
                found = [s["idStructureCPP"] for s in by_name["listeStructures"]]
                assert sid in found, (name, found)
                assert all(name.split()[0].upper() in s["designationStructure"].upper()
                           for s in by_name["listeStructures"])  # fmt: skip
        for size in (1, 2, 3):
            page = search({"parametres": {"nbResultatsParPage": size, "pageResultatDemandee": 2}})
            assert len(page["listeStructures"]) == size
            assert page["parametresRetour"]["pageCourante"] == 2
            assert page["parametresRetour"]["pages"] == -(
                -page["parametresRetour"]["total"] // size
            )


def test_str9_api1_a_one_letter_word_beside_another_is_searched_the_server_stays_up(served):
    """SQLite 3.40's FTS5 crashed the server on a one-letter LIKE beside another in 0015's
    trigram index (found by schemathesis); the word index (0017) serves every term."""
    headers = headers_of(served)
    ((name,),) = rows(served.store, "SELECT raison_sociale FROM structure WHERE id = 1")
    with served.client() as client:
        for text in ("p þ", "p " + name, name, "a b c"):
            body = {"structure": {"raisonSocialeStructure": text}}
            answer = client.post(f"{STRUCTURES}/rechercher", headers=headers, json=body)
            assert answer.status_code == 200, (text, answer.text)
        by_name = {"structure": {"raisonSocialeStructure": name}}
        found = client.post(f"{STRUCTURES}/rechercher", headers=headers, json=by_name).json()
        assert 1 in [s["idStructureCPP"] for s in found["listeStructures"]]
    assert served.process.poll() is None


def test_api1_own_attachments_user_attachments_and_health_check(served):
    headers = headers_of(served, 1)
    with served.client() as client:
        mine = client.post(
            "/cpro/utilisateurs/v1/monCompte/recuperer/rattachements", headers=headers
        )
        assert mine.status_code == 200
        assert [r["idStructure"] for r in mine.json()["listeRattachements"]] == [1]
        for method in ("GET", "POST"):
            health = client.request(method, "/cpro/transverses/v1/health-check", headers=headers)
            assert health.status_code == 200 and health.json()["codeRetour"] == 0
            assert health.json()["statusCodeValue"] == 200  # as PISTE (published clients read it)
        ((email,),) = rows(
            served.store,
            "SELECT a.login_email FROM account a JOIN attachment t ON t.account_id = a.id "
            "WHERE t.structure_id = 1 ORDER BY a.id LIMIT 1",
        )
        listed = client.post(f"{STRUCTURES}/lister/rattachementsutilisateur", headers=headers,
                             json={"idStructure": 1,
                                   "adresseEmailConnexionUtilisateur": email})  # fmt: skip
        assert listed.status_code == 200, listed.text
        assert listed.json()["idStructure"] == 1
        services = rows(served.store, "SELECT id FROM service WHERE structure_id = 1")
        assert {s["idService"] for s in listed.json()["listeServices"]} <= {i for (i,) in services}
        missing = client.post(
            f"{STRUCTURES}/consulter", headers=headers, json={"idStructureCPP": 999999}
        )
        assert missing.status_code == 404 and missing.json()["codeRetour"] == 404


# --- TECH-1, API-2: who may call, with which rights ----------------------------------------


def test_api2_bearer_and_cpro_account_both_required_same_401_for_unknown_login_and_wrong_password(
    served,
):
    headers = headers_of(served)
    path = f"{STRUCTURES}/rechercher"
    with served.client() as client:
        assert client.post(path, headers=headers, json={}).status_code == 200
        no_bearer = client.post(path, headers={"cpro-account": headers["cpro-account"]})
        no_account = client.post(path, headers={"Authorization": headers["Authorization"]})
        bad_bearer = client.post(path, headers={**headers, "Authorization": "Bearer forged"})
        (identifier,) = rows(served.store, "SELECT identifier FROM structure WHERE id=1")[0]
        known_login = account_header(f"TECH_1_{identifier}@cpro.fr", "Wrong-1a")
        unknown_login = account_header("TECH_9_00000000000000@cpro.fr", "Wrong-1a")
        wrong = client.post(path, headers={**headers, "cpro-account": known_login})
        unknown = client.post(path, headers={**headers, "cpro-account": unknown_login})
        garbled = client.post(path, headers={**headers, "cpro-account": "%%%not base64"})
        for answer in (no_bearer, no_account, bad_bearer, wrong, unknown, garbled):
            assert answer.status_code == 401, answer.text
            assert answer.json()["codeRetour"] == 401 and answer.json()["libelle"]
        assert wrong.json() == unknown.json()  # nothing says whether the login exists
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "no"}
        refused = client.post("/api/oauth/token", data=form)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
        grant = client.post("/api/oauth/token", data={"grant_type": "password"})
        assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


def test_tech1_technical_account_reads_public_structures_and_its_own_403_elsewhere(served):
    private = rows(served.store, "SELECT id FROM structure WHERE NOT public ORDER BY id LIMIT 2")
    assert private, "the seeded store has private structures"
    (other,) = private[-1]
    public = rows(served.store, f"SELECT id FROM structure WHERE public AND id != {other} LIMIT 1")
    (own,) = public[0]
    headers = headers_of(served, own)
    with served.client() as client:
        refused = client.post(
            f"{STRUCTURES}/consulter", headers=headers, json={"idStructureCPP": other}
        )
        assert refused.status_code == 403 and refused.json()["codeRetour"] == 403
        assert "TECH-1" in refused.json()["libelle"]
        services = client.post(
            f"{STRUCTURES}/rechercher/services", headers=headers, json={"idStructure": other}
        )
        assert services.status_code == 403
        members = client.post(f"{STRUCTURES}/lister/rattachementsutilisateur", headers=headers,
                              json={"idStructure": other, "idUtilisateur": 1})  # fmt: skip
        assert members.status_code == 403
        # Its own private structure, it reads (its primary manager's rights).
        mine = headers_of(served, other)
        assert client.post(f"{STRUCTURES}/consulter", headers=mine,
                           json={"idStructureCPP": other}).status_code == 200  # fmt: skip


def test_tech2_every_call_is_audited_with_the_technical_account_as_actor(store, request):
    url, home = store
    server = start(url, home)
    request.addfinalizer(server.end)
    headers = headers_of(server, 2)
    (identifier,) = rows(server.store, "SELECT identifier FROM structure WHERE id=2")[0]
    login = f"TECH_1_{identifier}@cpro.fr"
    with server.client() as client:
        assert client.post(f"{STRUCTURES}/consulter", headers=headers,
                           json={"idStructureCPP": 2}).status_code == 200  # fmt: skip
        health = client.get("/cpro/transverses/v1/health-check", headers=headers)
        assert health.status_code == 200
    assert server.stop() == 0  # the journal's last rows are written as it stops
    audit = rows(server.store, f"SELECT action FROM audit_entry WHERE actor = '{login}'")
    assert ("api.consulter_structure",) in audit
    assert ("api.health_check",) in audit  # a health check is a use too
    (used,) = rows(
        server.store, f"SELECT last_used_at FROM technical_account WHERE login='{login}'"
    )[0]
    assert used is not None


def test_api2_a_reset_password_stops_working_at_once_despite_the_cache(served):
    headers = headers_of(served, 3)
    path = "/cpro/transverses/v1/health-check"
    with served.client() as client:
        assert client.get(path, headers=headers).status_code == 200  # now cached
        from chorus_cli.config import Settings
        from chorus_cli.domain import technical
        from chorus_cli.kernel.clock import SystemClock
        from chorus_cli.store.uow import UnitOfWork

        (identifier,) = rows(served.store, "SELECT identifier FROM structure WHERE id=3")[0]
        with UnitOfWork(Settings.from_env(served.store), SystemClock()) as uow:
            account = technical.find(uow, f"TECH_1_{identifier}@cpro.fr")
            set_at = account.password_set_at
            technical._set_password(uow, account, "Another-Passw0rd-For-It")
            account.password_set_at = set_at  # reset within the second it was verified
            uow.commit()
        assert client.get(path, headers=headers).status_code == 401


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_api2_tech1_who_calls_reads_the_client_and_the_account_together_token_first(
    kind, tmp_path, request
):
    """A call's client and technical account, read in one statement (``who_calls``) and
    checked as two reads checked them: the token is answered for first (a removed client,
    another server's key: TokenRefused, whether the account is there or not), then the
    account (gone, or another password hash: TechnicalRefused)."""
    from chorus_cli.config import Settings
    from chorus_cli.domain import api_clients, integration, technical
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.uow import UnitOfWork

    template, admin = template_store(request, kind)
    url = copy_store(template, admin, path=tmp_path / "chorus.db")  # its own: a removal
    request.addfinalizer(lambda: drop_store(url, admin))
    seed_store(url, tmp_path)
    ((account_id, password_hash),) = rows(
        url, "SELECT id, password_hash FROM technical_account ORDER BY id LIMIT 1"
    )
    tokens = api_clients.Tokens()
    with UnitOfWork(Settings.from_env(url), SystemClock()) as uow:
        client = api_clients.verify(uow, CLIENT_ID, CLIENT_SECRET)
        token = tokens.issue(uow, client).access_token
        uow.commit()
    with UnitOfWork(Settings.from_env(url), SystemClock()) as uow:
        name, account = integration.who_calls(uow, tokens, token, account_id)
        assert name == "ERP Test" and account.id == account_id
        assert integration.verified(uow, account, password_hash).id == account_id
        with pytest.raises(technical.TechnicalRefused):
            integration.verified(uow, account, password_hash + "x")
        assert integration.who_calls(uow, tokens, token, 10**6) == ("ERP Test", None)
        with pytest.raises(technical.TechnicalRefused):
            integration.verified(uow, None, password_hash)
        with pytest.raises(api_clients.TokenRefused):  # not this server's key
            integration.who_calls(uow, api_clients.Tokens(), token, account_id)
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM api_client"))
    engine.dispose()
    with UnitOfWork(Settings.from_env(url), SystemClock()) as uow:
        for account in (account_id, 10**6):  # the token first, the account there or not
            with pytest.raises(api_clients.TokenRefused):
                integration.who_calls(uow, tokens, token, account)


def test_api2_a_rehashed_password_is_verified_again_not_refused_from_the_cache(served):
    """The same password hashed again by another process (other Argon2 parameters, as a
    rehash writes): the remembered header no longer matches the stored hash, so it is
    verified again and the call answered, not refused until the cache forgets it."""
    from argon2 import PasswordHasher
    from sqlalchemy import create_engine, text

    headers = headers_of(served, 4)
    path = "/cpro/transverses/v1/health-check"
    (identifier,) = rows(served.store, "SELECT identifier FROM structure WHERE id=4")[0]
    rehashed = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(TECH_PASSWORD)
    with served.client() as client:
        assert client.get(path, headers=headers).status_code == 200  # now remembered
        engine = create_engine(served.store)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE technical_account SET password_hash = :hash WHERE login = :login"),
                {"hash": rehashed, "login": f"TECH_1_{identifier}@cpro.fr"},
            )
        engine.dispose()
        assert client.get(path, headers=headers).status_code == 200


def test_api2_the_event_loop_never_verifies_a_header_a_worker_thread_does(store):
    """A read served on the event loop (a budget given) whose caller is not remembered
    (new, or forgotten: its minute over, or the cache full) is handed to a worker thread
    (OverBudget, not a 401): no Argon2 on the loop, nothing remembered nor recorded there;
    the worker thread verifies it and answers."""
    import hashlib

    from chorus_cli.api import app as api_app
    from chorus_cli.config import Settings
    from chorus_cli.domain import integration

    url, _home = store
    (identifier,) = rows(url, "SELECT identifier FROM structure WHERE id = 6")[0]
    login = f"TECH_1_{identifier}@cpro.fr"
    checks = (
        f"SELECT count(*) FROM audit_entry WHERE actor = '{login}' AND action = 'api.health_check'"
    )
    header = account_header(login)
    key = hashlib.sha256(header.encode()).hexdigest()
    server = api_app.Server(Settings.from_env(url))
    form = f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
    bearer = server._token(form.encode(), None, {})["access_token"]
    before = rows(url, checks)[0][0]
    try:
        with pytest.raises(api_app.OverBudget):
            server._call(integration.health, bearer, header, None, {}, key, api_app.INLINE_BUDGET)
        assert server.callers.get(key) is None
        assert server.journal.pending() == 0
        shown = server._call(integration.health, bearer, header, None, {}, key)
        assert shown["statusCodeValue"] == 200
        assert server.callers.get(key) is not None
    finally:
        server.close()
    assert rows(url, checks)[0][0] == before + 1


# --- API-3: limits, binding, failures, logs ---------------------------------------------------


def test_api3_body_over_one_mebibyte_is_refused_with_413(served):
    headers = headers_of(served)
    big = b'{"structure": {"raisonSocialeStructure": "' + b"x" * (1024 * 1024) + b'"}}'
    with served.client() as client:
        declared = client.post(f"{STRUCTURES}/rechercher", headers=headers, content=big)
        assert declared.status_code == 413 and declared.json()["codeRetour"] == 413

        def chunks():
            for start in range(0, len(big), 65536):
                yield big[start : start + 65536]

        streamed = client.post(f"{STRUCTURES}/rechercher", headers=headers, content=chunks())
        assert streamed.status_code == 413


def test_api3_over_the_rate_a_client_gets_429(store):
    url, home = store
    server = start(url, home, "--rate", "5")
    try:
        with server.client() as client:
            statuses = [
                client.get("/cpro/transverses/v1/health-check").status_code for _ in range(30)
            ]
        assert 429 in statuses and statuses[0] == 401
        assert statuses.count(429) >= 30 - 5 * 2  # at most two one-second windows
    finally:
        server.stop()


def test_api3_the_rate_counts_per_client_minting_tokens_does_not_escape_it(store):
    url, home = store
    server = start(url, home, "--rate", "5")
    try:
        with server.client() as client:
            bearers = [token(client) for _ in range(4)]  # each a new token of one client
            headers = headers_of(server)
            statuses = [
                client.get(
                    "/cpro/transverses/v1/health-check",
                    headers={**headers, "Authorization": f"Bearer {bearers[n % 4]}"},
                ).status_code
                for n in range(40)
            ]
        assert statuses[0] == 200
        assert statuses.count(429) >= 40 - 5 * 2  # at most two one-second windows
    finally:
        server.stop()


def test_api3_one_client_over_its_rate_does_not_hold_up_another_from_the_same_address(
    tmp_path, request
):
    """The rate is counted per client (API-3), by the client its bearer token names, not
    by the address the requests come from: two ERPs behind one address each have their
    own 5 a second; the first over its rate (429), the second's next call is answered."""
    import asyncio

    from chorus_cli.api import app as api_app
    from chorus_cli.config import Settings
    from chorus_cli.domain.secrets import token_hash
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.models import ApiClient
    from chorus_cli.store.uow import UnitOfWork

    template, _ = template_store(request, "sqlite")
    url = copy_store(template, None, path=tmp_path / "chorus.db")
    seed_store(url, tmp_path)
    other_id, other_secret = "erp-client-0002", "another-secret-of-an-erp-0123456789"
    with UnitOfWork(Settings.from_env(url), SystemClock()) as uow:
        uow.session.add(ApiClient(name="Other ERP", client_id=other_id,
                                  secret_hash=token_hash(other_secret),
                                  created_at=uow.clock.now(), created_by="test"))  # fmt: skip
        uow.commit()
    (identifier,) = rows(url, "SELECT identifier FROM structure WHERE id = 1")[0]
    server = api_app.Server(Settings.from_env(url), rate=5)
    transport = httpx.ASGITransport(app=server.app(log=False))  # one address for both
    account = account_header(f"TECH_1_{identifier}@cpro.fr")

    async def scenario() -> tuple[list[int], int]:
        async with httpx.AsyncClient(transport=transport, base_url="http://chorus") as client:

            async def bearer(client_id: str, secret: str) -> str:
                form = {"grant_type": "client_credentials", "client_id": client_id,
                        "client_secret": secret}  # fmt: skip
                return (await client.post("/api/oauth/token", data=form)).json()["access_token"]

            async def call(token: str) -> int:
                headers = {"Authorization": f"Bearer {token}", "cpro-account": account}
                answer = await client.get("/cpro/transverses/v1/health-check", headers=headers)
                return answer.status_code

            first, second = (
                await bearer(CLIENT_ID, CLIENT_SECRET),
                await bearer(other_id, other_secret),
            )
            over = [await call(first)]
            while over[-1] != 429 and len(over) < 20:  # until the first is over its rate
                over.append(await call(first))
            return over, await call(second)  # at once, in the same second

    try:
        over, other = asyncio.run(scenario())
    finally:
        server.close()
    assert over[0] == 200 and over[-1] == 429  # the first client over its rate
    assert other == 200  # the second's own count


def snapshot_but_audit(url: str) -> dict[str, list[tuple]]:
    """Every table but the audit, and technical accounts without their last-use time (nor
    their hash, which a first use rehashes if made at other Argon2 parameters: the tests
    make them cheap)."""
    tables = [t for (t,) in rows(url, "SELECT name FROM sqlite_master WHERE type='table'")]
    shown = {t: sorted(map(repr, rows(url, f"SELECT * FROM {t}"))) for t in tables}
    del shown["audit_entry"]
    shown["technical_account"] = sorted(
        map(repr, rows(url, "SELECT id, login, password_set_at, expires_at FROM technical_account"))
    )
    return shown


def test_api3_tokens_and_calls_write_only_audit_rows_and_last_use_time(store, request):
    url, home = store
    server = start(url, home)
    request.addfinalizer(server.end)
    before = snapshot_but_audit(url)
    audited = len(rows(url, "SELECT id FROM audit_entry"))
    headers = headers_of(server, 4)  # a token issued
    with server.client() as client:
        for path in ("/rechercher", "/consulter"):
            answer = client.post(f"{STRUCTURES}{path}", headers=headers, json={"idStructureCPP": 4})
            assert answer.status_code == 200, answer.text
    assert server.stop() == 0
    assert snapshot_but_audit(url) == before
    assert len(rows(url, "SELECT id FROM audit_entry")) >= audited + 3


def test_api3_binding_outside_loopback_without_tls_is_refused(tmp_path):
    env = {**os.environ, "CHORUS_DATABASE_URL": "sqlite:///" + str(tmp_path / "none.db"),
           "CHORUS_DATA_DIR": str(tmp_path), "CHORUS_LANG": "en"}  # fmt: skip

    def serve(*args: str) -> subprocess.CompletedProcess:
        # A real process with a deadline: were the address allowed, it would serve on.
        command = [sys.executable, "-m", "chorus_cli", "serve", "--port", "0", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    for host in ("0.0.0.0", "::", "192.0.2.1", "localhost.example.org"):
        refused = serve("--host", host)
        assert refused.returncode == 2, (host, refused.stderr)
        assert "API-3" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    half = serve("--tls-cert", str(tmp_path / "c.pem"))
    assert half.returncode == 2 and "API-3" in half.stderr


def test_api3_serve_defaults_have_one_definition_each(tmp_path):
    """`chorus serve`'s --rate and --audit-every default to the server's RATE and the
    journal's EVERY, defined once: changed there, the help and the server follow."""
    probe = """
import inspect
import chorus_cli.domain.serving as serving, chorus_cli.store.journal as journal
serving.RATE, journal.EVERY = 7, 0.25
from chorus_cli.api.app import Server
print("server", inspect.signature(Server).parameters["rate"].default,
      inspect.signature(Server).parameters["audit_every"].default)
from chorus_cli.cli import main
main(["--lang", "en", "serve", "--help"])
"""
    env = {**os.environ, "CHORUS_DATABASE_URL": "sqlite:///" + str(tmp_path / "none.db"),
           "CHORUS_DATA_DIR": str(tmp_path), "COLUMNS": "200", "NO_COLOR": "1"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "server 7 0.25" in done.stdout
    shown = " ".join(done.stdout.split())
    assert "Requests a second per client (API-3). [default: 7;" in shown
    assert "together (TECH-2). [default: 0.25;" in shown


def test_api3_behind_a_proxy_another_address_is_allowed(store):
    url, home = store
    server = start(url, home, "--host", "0.0.0.0", "--behind-proxy")
    try:
        assert re.search(r"listening on http://0\.0\.0\.0:\d+", server.log[0])
        port = server.url.rsplit(":", 1)[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/cpro/transverses/v1/health-check").status_code == 401
    finally:
        assert server.stop() == 0


def test_api3_a_failing_store_answers_500_envelope_without_trace_or_sql(tmp_path, request):
    template, _ = template_store(request, "sqlite")
    url = copy_store(template, None, path=tmp_path / "chorus.db")
    seed_store(url, tmp_path)
    server = start(url, tmp_path)
    try:
        headers = headers_of(server)
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE service_attachment"))
            conn.execute(text("ALTER TABLE service RENAME TO service_gone"))
        engine.dispose()
        with server.client() as client:
            answer = client.post(
                f"{STRUCTURES}/rechercher/services", headers=headers, json={"idStructure": 1}
            )
        assert answer.status_code == 500
        body = answer.json()
        assert body["codeRetour"] == 500 and set(body) == {"codeRetour", "libelle"}
        for leak in ("Traceback", "SELECT", "sqlite", "service_gone", "File "):
            assert leak not in answer.text
    finally:
        server.stop()
        drop_store(url)


def test_api1_logs_one_line_per_request_without_secrets_and_stops_cleanly_on_ctrl_c(store):
    url, home = store
    server = start(url, home)
    headers = headers_of(server)
    with server.client() as client:
        client.post(f"{STRUCTURES}/rechercher", headers=headers, json={})
        client.post(f"{STRUCTURES}/rechercher", headers={"cpro-account": headers["cpro-account"]})
    assert server.stop() == 0
    out = server.process.stdout.read()
    log = "".join(server.log)
    assert re.search(r"listening on http://127\.0\.0\.1:\d+", server.log[0])
    assert re.search(rf"POST {STRUCTURES}/rechercher 200 \d+ ms ERP Test", log)
    assert re.search(rf"POST {STRUCTURES}/rechercher 401 \d+ ms", log)
    assert re.search(r"POST /api/oauth/token 200 \d+ ms ERP Test", log)
    for secret in (TECH_PASSWORD, CLIENT_SECRET, headers["cpro-account"],
                   headers["Authorization"].split()[1]):  # fmt: skip
        assert secret not in log + out
    assert "Traceback" not in log and log.strip().endswith("chorus serve stopped.")


def test_api3_each_request_is_a_short_unit_of_work_the_store_stays_writable(served):
    """No lock held across answers: between requests, another process writes at once
    (once the journal has written the calls' audit rows: its batch is a short write)."""
    headers = headers_of(served)
    calls = "SELECT count(*) FROM audit_entry WHERE action = 'api.rechercher_structure'"
    with served.client() as client:
        before = rows(served.store, calls)[0][0]
        for _ in range(5):
            assert (
                client.post(f"{STRUCTURES}/rechercher", headers=headers, json={}).status_code == 200
            )
        deadline = time.monotonic() + 30
        while rows(served.store, calls)[0][0] < before + 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        from sqlalchemy import create_engine, text

        engine = create_engine(served.store, connect_args={"timeout": 0})
        with engine.begin() as conn:  # fails at once if the server held a write lock
            conn.execute(text("UPDATE structure SET label = label WHERE id = 1"))
        engine.dispose()
        assert client.post(f"{STRUCTURES}/rechercher", headers=headers, json={}).status_code == 200


def test_api3_a_read_past_its_budget_stops_and_leaves_the_connection_sound(store_url, monkeypatch):
    """A read given a budget (`chorus serve` on SQLite, on its event loop) stops with
    OverBudget once past it, and the connection serves the next unit as before; on
    PostgreSQL (reads in threads) a budget is not applied."""
    from sqlalchemy import func, select

    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store import reads as reads_module
    from chorus_cli.store.models import Structure

    monkeypatch.setattr(reads_module, "PROGRESS_STEPS", 1)  # looked at every step
    reads = reads_module.Reads(store_url)
    counted = select(func.count()).select_from(Structure.__table__)
    try:
        with reads.unit(SystemClock(), None, budget=0.0) as uow:  # type: ignore[arg-type]
            if store_url.startswith("sqlite"):
                with pytest.raises(reads_module.OverBudget):
                    uow.rows(counted)
            else:
                assert uow.rows(counted)[0][0] >= 0
        with reads.unit(SystemClock(), None) as uow:  # type: ignore[arg-type]
            assert uow.rows(counted)[0][0] >= 0
    finally:
        reads.close()


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_api3_read_connections_go_back_to_the_pool_out_of_autocommit(store_url):
    """On PostgreSQL the reads run in autocommit; the connections go back to the pool
    as it gave them (a unit of work's transaction there is one again), whether the
    server closes them or a failed read drops one."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import Integer, bindparam, literal_column, select

    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.engine import get_engine
    from chorus_cli.store.reads import Reads

    reads = Reads(store_url)
    clock = SystemClock()
    failing = select(literal_column("1 / 0"))  # the server's error: the connection dropped
    try:
        with reads.unit(clock, None) as uow:  # type: ignore[arg-type]
            assert uow.first(select(bindparam("n", type_=Integer)), {"n": 1})[0] == 1
        with ThreadPoolExecutor(1) as other:  # another thread: a connection of its own
            other.submit(failed_read, reads, failing).result()
    finally:
        reads.close()
    pool = get_engine(store_url).pool
    given = [pool.connect() for _ in range(pool.checkedin() or 1)]
    try:
        assert [c.dbapi_connection.autocommit for c in given] == [False] * len(given)
    finally:
        for connection in given:
            connection.close()


def failed_read(reads, statement) -> None:
    import psycopg

    from chorus_cli.kernel.clock import SystemClock

    with pytest.raises(psycopg.errors.DivisionByZero), reads.unit(SystemClock(), None) as uow:
        uow.first(statement)
    assert reads._local.connection is None  # dropped


def test_tech2_a_read_unit_stopped_past_its_budget_has_recorded_no_use(store_url, monkeypatch):
    """A use recorded in a read unit of work reaches the journal once the unit ends
    well: one stopped past its budget (run again then in a worker thread, which records
    it) has recorded nothing, whatever the order of the use case's reads and record."""
    from sqlalchemy import func, select

    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store import reads as reads_module
    from chorus_cli.store.journal import Journal, Use
    from chorus_cli.store.models import Structure

    monkeypatch.setattr(reads_module, "PROGRESS_STEPS", 1)  # looked at every step
    journal = Journal(store_url, every=3600)
    reads = reads_module.Reads(store_url)
    counted = select(func.count()).select_from(Structure.__table__)
    clock = SystemClock()
    try:
        if store_url.startswith("sqlite"):  # a budget applies there only
            stopped = reads.unit(clock, journal, budget=0.0)
            with pytest.raises(reads_module.OverBudget), stopped as uow:
                uow.journal.record(Use(clock.now(), "system", "api.test", "stopped"))
                uow.rows(counted)
            assert journal.pending() == 0
        with reads.unit(clock, journal) as uow:
            uow.journal.record(Use(clock.now(), "system", "api.test", "answered"))
            assert uow.rows(counted)[0][0] >= 0
        assert journal.pending() == 1
    finally:
        reads.close()
        journal.close()


def test_api3_tech2_a_search_stopped_on_the_event_loop_is_answered_from_a_thread_once(
    store, monkeypatch
):
    """Every read on the event loop stopped at once (a budget of nothing, looked at every
    step): each call is answered from a worker thread, the same answers as without a
    budget, and each is recorded once (TECH-2), not once per try."""
    import asyncio

    from chorus_cli.api import app as api_app
    from chorus_cli.store import reads as reads_module

    url, home = store
    (identifier,) = rows(url, "SELECT identifier FROM structure WHERE id = 1")[0]
    headers = {"cpro-account": account_header(f"TECH_1_{identifier}@cpro.fr")}
    bodies = [{}, {"structure": {"identifiantStructure": identifier}},
              {"structure": {"raisonSocialeStructure": "commune"}}]  # fmt: skip
    calls = "SELECT count(*) FROM audit_entry WHERE action = 'api.rechercher_structure'"

    async def answers() -> list[dict]:
        async with in_process(url) as (client, bearer):
            headers["Authorization"] = bearer
            found = []
            for body in bodies * 2:  # the second time, the caller is known: on the loop
                answer = await client.post(f"{STRUCTURES}/rechercher", headers=headers,
                                           json=body)  # fmt: skip
                assert answer.status_code == 200, answer.text
                found.append(answer.json())
            return found

    free = asyncio.run(answers())
    before = rows(url, calls)[0][0]
    monkeypatch.setattr(api_app, "INLINE_BUDGET", 0.0)
    monkeypatch.setattr(reads_module, "PROGRESS_STEPS", 1)
    stopped = asyncio.run(answers())
    assert stopped == free
    assert rows(url, calls)[0][0] == before + len(bodies) * 2


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_api2_concurrent_first_calls_with_one_header_verify_its_password_once(
    kind, tmp_path, request, monkeypatch
):
    """20 calls at once bringing the same new ``cpro-account``: one verification of its
    password (one Argon2, a rehash once if any), the others wait and use its result; all
    answered 200. With a wrong password, all 401 with one envelope, and one Argon2 as
    well: the refusal is remembered with the hash it was checked against, and the callers
    that waited for it are refused from it (the hash read again, unchanged)."""
    import asyncio

    from chorus_cli.domain import technical
    from chorus_cli.store import engine as engine_module

    template, admin = template_store(request, kind)
    url = copy_store(template, admin, path=tmp_path / "chorus.db")  # its own: a rehash
    request.addfinalizer(lambda: drop_store(url, admin))
    seed_store(url, tmp_path)
    engine_module.dispose_all()
    (identifier,) = rows(url, "SELECT identifier FROM structure WHERE id = 2")[0]
    login = f"TECH_1_{identifier}@cpro.fr"
    real = technical.verify_password
    counted = {"calls": 0}
    lock = threading.Lock()

    def verify_password(password_hash, password):  # the real Argon2, counted
        with lock:
            counted["calls"] += 1
        time.sleep(0.05)  # the others arrive meanwhile (the window made wide)
        return real(password_hash, password)

    monkeypatch.setattr(technical, "verify_password", verify_password)

    async def at_once(password: str) -> list[httpx.Response]:
        async with in_process(url) as (client, bearer):
            headers = {"Authorization": bearer, "cpro-account": account_header(login, password)}
            return await asyncio.gather(
                *(client.post(f"{STRUCTURES}/rechercher", headers=headers, json={})
                  for _ in range(20))
            )  # fmt: skip

    assert [a.status_code for a in asyncio.run(at_once(TECH_PASSWORD))] == [200] * 20
    assert counted["calls"] == 1
    counted.update(calls=0)
    refused = asyncio.run(at_once("Not-The-Password-1!"))
    assert [a.status_code for a in refused] == [401] * 20
    assert len({a.text for a in refused}) == 1  # one envelope, remembered or not
    assert counted["calls"] == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_api2_a_refused_header_stays_refused_without_argon2_until_reset_to_its_password(
    kind, tmp_path, request, monkeypatch
):
    """A wrong password and an unknown login: each header verified once (one Argon2
    each), then refused again and again from the remembered refusal with the same 401
    envelope as the first time, the one for both. `account technical reset-password`
    giving the account exactly the password the header brings: the next call with it is
    answered (the account's hash changed, the header verified again)."""
    import asyncio

    from chorus_cli.domain import technical
    from chorus_cli.store import engine as engine_module
    from tests.conftest import PASSWORD

    template, admin = template_store(request, kind)
    url = copy_store(template, admin, path=tmp_path / "chorus.db")  # its own: a reset
    request.addfinalizer(lambda: drop_store(url, admin))
    seed_store(url, tmp_path, people=PASSWORD)
    engine_module.dispose_all()
    ((identifier, manager),) = rows(
        url,
        "SELECT s.identifier, a.login_email FROM structure s "
        "JOIN account a ON a.id = s.primary_manager_id WHERE s.id = 2",
    )
    login = f"TECH_1_{identifier}@cpro.fr"
    tried = "Tried-Passw0rd_0123456789abcdefXY"
    real = technical.verify_password
    argon2 = []

    def verify_password(password_hash, password):  # the real Argon2, counted
        argon2.append(1)
        return real(password_hash, password)

    monkeypatch.setattr(technical, "verify_password", verify_password)

    async def scenario() -> tuple[list[httpx.Response], int, httpx.Response]:
        async with in_process(url) as (client, bearer):

            async def call(header: str) -> httpx.Response:
                return await client.post(f"{STRUCTURES}/rechercher", json={},
                                         headers={"Authorization": bearer,
                                                  "cpro-account": header})  # fmt: skip

            wrong = account_header(login, tried)
            unknown = account_header("TECH_9_00000000000000@cpro.fr", tried)
            refused = [await call(header) for header in (wrong, unknown) * 3]
            spent = len(argon2)
            cli = Runner(url, tmp_path, FrozenClock())
            assert cli.login(manager).exit_code == 0
            monkeypatch.setattr(technical, "new_password", lambda: tried)
            reset = cli("account", "technical", "reset-password", login, "--json")
            assert reset.exit_code == 0, reset.stderr
            assert reset.json()["password"] == tried
            return refused, spent, await call(wrong)

    refused, spent, after = asyncio.run(scenario())
    assert [a.status_code for a in refused] == [401] * 6
    assert len({a.text for a in refused}) == 1  # wrong password, unknown login: one answer
    assert spent == 2  # one Argon2 for each header, the first time only
    assert after.status_code == 200, after.text


def test_api2_remembered_refusals_are_bounded_and_never_push_out_verified_callers(
    store, monkeypatch
):
    """Endless distinct wrong headers: the refusals remembered stay within ``CACHE_MAX``
    (here made 4), in a cache of their own; the verified caller is still remembered."""
    import hashlib

    from chorus_cli.api import app as api_app
    from chorus_cli.config import Settings
    from chorus_cli.domain import integration, technical

    monkeypatch.setattr(api_app, "CACHE_MAX", 4)
    url, _home = store
    (identifier,) = rows(url, "SELECT identifier FROM structure WHERE id = 7")[0]
    login = f"TECH_1_{identifier}@cpro.fr"
    server = api_app.Server(Settings.from_env(url))
    form = f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
    bearer = server._token(form.encode(), None, {})["access_token"]

    def call(header: str) -> dict:
        key = hashlib.sha256(header.encode()).hexdigest()
        return server._call(integration.health, bearer, header, None, {}, key)

    try:
        right = account_header(login)
        assert call(right)["statusCodeValue"] == 200
        for n in range(10):
            with pytest.raises(technical.TechnicalRefused):
                call(account_header(login, f"Wrong-Passw0rd-{n}"))
            assert 1 <= len(server.refusals) <= 4
        assert server.callers.get(hashlib.sha256(right.encode()).hexdigest()) is not None
    finally:
        server.close()


def test_tech2_api2_a_remembered_caller_is_refused_once_its_password_has_expired(store):
    """A header verified a moment ago is remembered (no Argon2), yet the 424 days of its
    password (TECH-2) are read at each call: past them, the same header is refused
    (401, PasswordExpired) without waiting for the cache's minute to end."""
    import hashlib

    from chorus_cli.api import app as api_app
    from chorus_cli.config import Settings
    from chorus_cli.domain import integration, technical

    url, _home = store
    (identifier,) = rows(url, "SELECT identifier FROM structure WHERE id = 7")[0]
    clock = FrozenClock()
    server = api_app.Server(Settings.from_env(url), clock=clock)
    form = f"grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
    header = account_header(f"TECH_1_{identifier}@cpro.fr")
    key = hashlib.sha256(header.encode()).hexdigest()

    def call() -> dict:
        bearer = server._token(form.encode(), None, {})["access_token"]  # one valid now
        return server._call(integration.health, bearer, header, None, {}, key)

    try:
        assert call()["statusCodeValue"] == 200
        assert server.callers.get(key) is not None  # remembered
        clock.advance(seconds=technical.PASSWORD_LIFETIME.total_seconds())
        with pytest.raises(technical.PasswordExpired) as expired:
            call()
        assert api_app.status_of(expired.value) == 401
    finally:
        server.close()


def test_api3_no_reader_stays_open_after_the_answers_on_sqlite(served):
    """No read transaction left open either (a snapshot held keeps the WAL from being
    checkpointed): a TRUNCATE checkpoint completes once the answers are in."""
    import sqlite3

    headers = headers_of(served)
    with served.client() as client:
        for body in ({}, {"structure": {"raisonSocialeStructure": "commune"}}):
            answer = client.post(f"{STRUCTURES}/rechercher", headers=headers, json=body)
            assert answer.status_code == 200
        assert client.post(f"{STRUCTURES}/consulter", headers=headers,
                           json={"idStructureCPP": 1}).status_code == 200  # fmt: skip
    db = sqlite3.connect(served.store.removeprefix("sqlite:///"), timeout=30)
    try:
        busy, _log, _done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.close()
    assert busy == 0


# --- TECH-2: the calls' audit rows, written in batches (store.journal) ------------------------


def test_tech2_the_journal_writes_nothing_until_its_batch_and_everything_on_close(
    store_url, tmp_path
):
    """Recorded uses wait in memory (no write transaction per request); close() writes
    them all in one batch, the account's last use the latest of them; a use recorded
    after close() is written at once."""
    from datetime import timedelta

    from chorus_cli.config import Settings
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.journal import Journal, Use
    from chorus_cli.store.models import TechnicalAccount
    from chorus_cli.store.uow import UnitOfWork

    seed_store(store_url, tmp_path)
    ((account_id, login),) = rows(
        store_url, "SELECT id, login FROM technical_account ORDER BY id LIMIT 1"
    )
    actions = f"SELECT action, target FROM audit_entry WHERE actor = '{login}' ORDER BY id"
    journal = Journal(store_url, every=3600).start()  # no batch before close()
    now = SystemClock().now()
    times = [now - timedelta(minutes=5), now - timedelta(minutes=1), now - timedelta(minutes=3)]
    for n, at in enumerate(times):
        journal.record(Use(at, login, "api.test", f"target-{n}", {"n": n}, account_id))
    assert journal.pending() == 3
    assert rows(store_url, actions) == []
    assert journal.close() == 3
    assert rows(store_url, actions) == [("api.test", f"target-{n}") for n in range(3)]

    def last_use():
        with UnitOfWork(Settings.from_env(store_url), SystemClock()) as uow:
            return uow.session.get(TechnicalAccount, account_id).last_used_at

    assert last_use() == max(times)
    journal.record(Use(now - timedelta(hours=1), login, "api.late", "x", {}, account_id))
    assert rows(store_url, actions)[-1] == ("api.late", "x")
    assert last_use() == max(times)  # an older use does not move it back


@pytest.mark.parametrize("process", [False, True], ids=["thread", "process"])
def test_tech2_a_batch_the_store_refuses_stays_queued_and_is_written_next_time(store_url, process):
    """A batch the store refuses (here its audit table is briefly gone) is kept, in
    order, ahead of newer rows, and written by the next flush: no row lost; by the
    journal itself or by its writing process (`chorus serve`'s)."""
    from sqlalchemy import create_engine, text

    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.journal import Journal, Use

    def rename(old: str, new: str) -> None:
        engine = create_engine(store_url)
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
        engine.dispose()

    journal = Journal(store_url, every=3600, process=process).start()
    now = SystemClock().now()
    journal.record(Use(now, "system", "api.first", "a"))
    rename("audit_entry", "audit_entry_away")
    try:
        with pytest.raises(Exception):  # noqa: B017  (the driver's error, whichever store)
            journal.flush()
    finally:
        from chorus_cli.store import engine as engine_module

        engine_module.dispose_all()
        rename("audit_entry_away", "audit_entry")
    journal.record(Use(now, "system", "api.second", "b"))
    assert journal.pending() == 2
    assert journal.flush() == 2
    found = rows(store_url, "SELECT action FROM audit_entry WHERE actor = 'system' ORDER BY id")
    assert found[-2:] == [("api.first",), ("api.second",)]
    assert journal.close() == 0


def test_tech2_the_journal_process_writes_the_batches_and_everything_on_close(store_url, tmp_path):
    """`chorus serve`'s journal writes in a process of its own (forked, not this one):
    a flush is written when it returns, close() writes the rest and ends that process;
    killed, the journal writes in its own process from then on, no later row lost."""
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store import engine as engine_module
    from chorus_cli.store.journal import Journal, Use

    now = SystemClock().now()
    actions = "SELECT target FROM audit_entry WHERE action = 'api.test' ORDER BY id"
    engine_module.dispose_all()  # this process holds no engine: a write here would make one
    journal = Journal(store_url, every=3600, process=True).start()
    writer = journal.writer_pid
    assert writer is not None and writer != os.getpid()
    for n in range(3):
        journal.record(Use(now, "system", "api.test", f"t{n}"))
    assert rows(store_url, actions) == []  # an hour between batches: none yet
    assert journal.flush() == 3
    assert rows(store_url, actions) == [("t0",), ("t1",), ("t2",)]
    journal.record(Use(now, "system", "api.test", "t3"))
    assert journal.close() == 1
    assert rows(store_url, actions)[-1] == ("t3",)
    assert engine_module._engines == {}  # all written by the writing process
    assert journal.writer_pid is None
    with pytest.raises(ProcessLookupError):  # ended, and waited for
        os.kill(writer, 0)

    killed = Journal(store_url, every=3600, process=True).start()
    os.kill(killed.writer_pid, signal.SIGKILL)
    killed.record(Use(now, "system", "api.test", "after-kill"))
    assert killed.flush() == 1  # written here: the writing process is gone
    assert killed.writer_pid is None
    killed.record(Use(now, "system", "api.test", "last"))
    assert killed.close() == 1
    assert rows(store_url, actions)[-2:] == [("after-kill",), ("last",)]


def test_tech2_the_journal_process_writes_the_batches_handed_over_without_a_flush(store_url):
    """`chorus serve`'s journal hands its batches over to its writing process in the
    background (every ``every`` seconds, no answer awaited): they are written without a
    flush, and close() finds nothing left to write."""
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.journal import Journal, Use

    now = SystemClock().now()
    actions = "SELECT target FROM audit_entry WHERE action = 'api.handed' ORDER BY id"
    journal = Journal(store_url, every=0.01, process=True).start()
    try:
        for n in range(3):
            journal.record(Use(now, "system", "api.handed", f"h{n}"))
        deadline = time.monotonic() + 30
        while len(rows(store_url, actions)) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rows(store_url, actions) == [("h0",), ("h1",), ("h2",)]
    finally:
        written = journal.close()
    assert written == 0


def test_tech2_the_journal_process_keeps_its_rows_through_sigterm_until_close(store_url):
    """A service manager stops `chorus serve` by sending SIGTERM to each of its
    processes: the writing process keeps what it holds (here a batch the store refused)
    and writes it when the server, stopping, closes the journal; not one row lost. A
    process that ends without closing the journal does not wait for its writer."""
    from sqlalchemy import create_engine, text

    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store import engine as engine_module
    from chorus_cli.store.journal import Journal, Refused, Use

    def rename(old: str, new: str) -> None:
        engine = create_engine(store_url)
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
        engine.dispose()

    actions = "SELECT target FROM audit_entry WHERE action = 'api.term' ORDER BY id"
    journal = Journal(store_url, every=3600, process=True).start()
    writer = journal.writer_pid
    journal.record(Use(SystemClock().now(), "system", "api.term", "held"))
    rename("audit_entry", "audit_entry_away")
    try:
        with pytest.raises(Refused):
            journal.flush()  # the row stays with the writing process
        os.kill(writer, signal.SIGTERM)
        time.sleep(0.2)  # a signal's delivery: the writer, had it ended, would be gone
    finally:
        engine_module.dispose_all()
        rename("audit_entry_away", "audit_entry")
    assert journal.close() == 1
    assert rows(store_url, actions) == [("held",)]

    ends = (  # flush(): the writer answers, so it is in its loop, its signals set
        "import sys; from chorus_cli.store.journal import Journal;"
        " Journal(sys.argv[1], every=3600, process=True).start().flush(); sys.exit(0)"
    )
    subprocess.run([sys.executable, "-c", ends, store_url], timeout=30, check=True)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_tech2_ctrl_c_loses_no_audit_row_every_call_is_there_after_the_stop(
    kind, tmp_path, request
):
    """Many calls at once, then Ctrl-C: every call has its audit row, none lost. With
    batches an hour apart (--audit-every), none is written while the server answers:
    they are all written as it stops; it stops cleanly."""
    from concurrent.futures import ThreadPoolExecutor

    template, admin = template_store(request, kind)
    url = copy_store(template, admin, path=tmp_path / "chorus.db")
    try:
        seed_store(url, tmp_path)
        from chorus_cli.store import engine as engine_module

        engine_module.dispose_all()
        server = start(url, tmp_path, "--rate", "100000", "--audit-every", "3600")
        request.addfinalizer(server.end)
        headers = headers_of(server, 5)
        (identifier,) = rows(url, "SELECT identifier FROM structure WHERE id=5")[0]
        audited = (
            f"SELECT count(*) FROM audit_entry WHERE actor = 'TECH_1_{identifier}@cpro.fr'"
            " AND action = 'api.rechercher_structure'"
        )
        calls = 60

        def call(n: int) -> int:
            body = {"parametres": {"pageResultatDemandee": 1 + n % 3, "nbResultatsParPage": 2}}
            with server.client() as client:
                return client.post(
                    f"{STRUCTURES}/rechercher", headers=headers, json=body
                ).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(call, range(calls)))
        assert statuses == [200] * calls
        assert rows(url, audited) == [(0,)]  # deferred: not one write per call
        assert server.stop() == 0
        log = "".join(server.log)
        assert "Traceback" not in log and log.strip().endswith("chorus serve stopped.")
        assert rows(url, audited) == [(calls,)]
    finally:
        drop_store(url, admin)


def test_api1_the_web_stack_is_imported_by_chorus_serve_only():
    for argv in (["--help"], ["whoami"]):
        ran = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "chorus_cli", *argv],
            capture_output=True,
            text=True,
            env={**os.environ, "CHORUS_DATABASE_URL": "sqlite:////nonexistent/x.db"},
        )
        imported = {
            line.split("|")[-1].strip().split(".")[0]
            for line in ran.stderr.splitlines()
            if "|" in line
        }
        assert not imported & {"starlette", "uvicorn", "anyio", "h11"}, argv


# --- PostgreSQL: the scenario on the other store ---------------------------------------------


def test_api1_erp_scenario_on_postgresql(tmp_path, request):
    with served_on_postgresql(tmp_path, request) as (server, url):
        result = erp_scenario(server.url, url)
        assert result["structure"]["identifiantStructure"] == result["siret"]
        assert result["shown"]["codeRetour"] == 0 and result["services"]["listeServices"]


def test_api3_no_transaction_stays_open_after_the_answers_on_postgresql(tmp_path, request):
    """On PostgreSQL: once the answers are in, no transaction of the server holds a lock
    on what it read (an exclusive lock is granted at once). The journal writes only when
    the server stops (``--audit-every 3600``): its own short batches would race the lock."""
    with served_on_postgresql(tmp_path, request, "--audit-every", "3600") as (server, url):
        headers = headers_of(server)
        with server.client() as client:
            for path, body in (("/rechercher", {}), ("/consulter", {"idStructureCPP": 1}),
                               ("/rechercher/services", {"idStructure": 1})):  # fmt: skip
                answer = client.post(f"{STRUCTURES}{path}", headers=headers, json=body)
                assert answer.status_code == 200, answer.text
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.begin() as conn:
                for table in ("structure", "service", "technical_account", "api_client"):
                    conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE NOWAIT"))
            engine.dispose()
            health = client.get("/cpro/transverses/v1/health-check", headers=headers)
            assert health.status_code == 200


# --- API-1: the OpenAPI description, checked by schemathesis -----------------------------------


def test_api1_schemathesis_finds_no_server_error_and_every_response_conforms(served, tmp_path):
    headers = headers_of(served)
    description = httpx.get(served.url + "/openapi.json").json()
    assert description["openapi"].startswith("3.")
    ran = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", served.url + "/openapi.json",
         "--url", served.url,
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                     "response_schema_conformance",
         "--max-examples", "25", "--seed", "1",
         "-H", f"Authorization: {headers['Authorization']}",
         "-H", f"cpro-account: {headers['cpro-account']}",
         "--exclude-path", "/api/oauth/token"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,  # its cache goes there
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert "passed" in ran.stdout.lower() or "no issues" in ran.stdout.lower(), ran.stdout[-2000:]
    json.dumps(description)


# --- API-1: the server's threads on one processor -------------------------------------------


def cpus_of(pid: int) -> dict[str, set[int]]:
    """The processors each thread of ``pid`` may run on, by thread."""

    def parse(text: str) -> set[int]:
        cpus: set[int] = set()
        for part in text.split(","):
            first, _, last = part.partition("-")
            cpus.update(range(int(first), int(last or first) + 1))
        return cpus

    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        found[f"{fields['Name'].strip()}-{tid}"] = parse(fields["Cpus_allowed_list"].strip())
    return found


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def test_api1_the_servers_threads_run_on_one_processor_unless_all_cpus(store):
    """`chorus serve`'s threads (the event loop's, the workers' started by a call, the
    journal's) all on one processor of those it may use; its journal's writer (a
    process) on all of them; with --all-cpus, every thread on all of them."""
    url, home = store
    allowed = os.sched_getaffinity(0)
    for args, one in (((), True), (("--all-cpus",), False)):
        server = start(url, home, "--rate", "100000", *args)
        try:
            with server.client() as client:  # a call in a worker thread (not a search)
                answer = client.post(f"{STRUCTURES}/consulter", headers=headers_of(server),
                                     json={"idStructureCPP": 1})  # fmt: skip
                assert answer.status_code == 200, answer.text
            threads = cpus_of(server.process.pid)
            assert len(threads) >= 3, threads  # the loop's, the journal's, a worker made since
            shared = set.union(*threads.values())
            if one:
                assert len(shared) == 1 and shared <= allowed, threads
            else:
                assert shared == allowed and all(c == allowed for c in threads.values()), threads
            (writer,) = children_of(server.process.pid)
            assert set.union(*cpus_of(writer).values()) == allowed
        finally:
            assert server.stop() == 0


def test_api1_a_server_without_proc_mounted_serves_on_every_processor(store):
    """Where /proc is not mounted (a chroot, a sandbox), the processors a thread runs on
    cannot be read nor its threads listed: `chorus serve` starts anyway (its own thread
    confined, or none) and answers, rather than stopping on FileNotFoundError."""
    url, home = store
    # A mount namespace of its own whose /proc is an empty tmpfs (this machine's tests run as root).
    hide = ("unshare", "--mount", "sh", "-c", 'mount -t tmpfs none /proc && exec "$@"', "sh")
    server = start(url, home, "--rate", "100000", wrap=hide)
    try:
        with server.client() as client:
            answer = client.post(f"{STRUCTURES}/consulter", headers=headers_of(server),
                                 json={"idStructureCPP": 1})  # fmt: skip
            assert answer.status_code == 200, answer.text
    finally:
        assert server.stop() == 0, "".join(server.log)
