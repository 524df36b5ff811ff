"""Fixtures: a fresh store per test on SQLite and on a real PostgreSQL, a frozen clock,
an in-process CLI runner, and helpers to read the outbox and snapshot the store."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest

from chorus_cli.inprocess import Outcome, invoke
from chorus_cli.kernel.clock import FrozenClock
from chorus_cli.store import engine as engine_module
from tests.pg import Cluster

PASSWORD = "Vr4i-Mot2Passe!"
NEW_PASSWORD = "Aut7e-Secret#9"


@pytest.fixture(scope="session")
def pg_base():
    cluster = Cluster()
    base = cluster.start()
    from sqlalchemy import create_engine, text

    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE chorus_template"))
    template = engine_module.get_engine(base + "/chorus_template")
    template.dispose()
    engine_module._engines.pop(base + "/chorus_template", None)
    yield base, admin
    admin.dispose()
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "chorus.db"
    url = f"sqlite:///{path}"
    engine_module.get_engine(url).dispose()
    engine_module._engines.pop(url, None)
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path, sqlite_template):
    """A migrated, empty store: a SQLite file, or a database on the test cluster."""
    if request.param == "sqlite":
        path = tmp_path / "chorus.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        engine_module.dispose_all()
        return
    from sqlalchemy import text

    base, admin = request.getfixturevalue("pg_base")
    name = "t_" + uuid.uuid4().hex[:12]
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE chorus_template"))
    yield f"{base}/{name}"
    engine_module.dispose_all()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


@pytest.fixture
def clock():
    return FrozenClock()


Result = Outcome


class Runner:
    """Runs ``chorus`` in process, as the console script would, with the frozen clock."""

    def __init__(self, url: str, home: Path, clock: FrozenClock) -> None:
        self.url = url
        self.home = home
        self.clock = clock
        self.env = {
            "CHORUS_DATABASE_URL": url,
            "CHORUS_DATA_DIR": str(home),
            "PYTHON_KEYRING_BACKEND": "tests.memory_keyring.MemoryKeyring",
        }

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return invoke(list(args), env=self.env, clock=self.clock, input=input)

    # --- helpers that read the store like a user would -------------------------------

    def mails(self, to: str | None = None) -> list[dict]:
        args = ["mail", "list", "--json"] + (["--to", to] if to else [])
        return self(*args).json()

    def last_link(self, to: str) -> str:
        return re.search(r"https?://\S+token=\S+", self.mails(to)[0]["body"]).group(0)

    def last_code(self, to: str) -> str:
        return re.search(r"\b\d{6}\b", self.mails(to)[0]["body"]).group(0)

    def create(self, email: str = "marie.curie@example.fr", **extra: str) -> Result:
        args = [
            "account",
            "create",
            "--email",
            email,
            "--last-name",
            extra.get("last", "Curie"),
            "--first-name",
            extra.get("first", "Marie"),
        ]
        return self(*args)

    def active_account(self, email: str = "marie.curie@example.fr", password: str = PASSWORD):
        assert self.create(email).exit_code == 0
        result = self(
            "account", "activate", self.last_link(email), "--password-stdin", input=password + "\n"
        )
        assert result.exit_code == 0, result.stderr
        return email

    def logged_in(self, email: str = "marie.curie@example.fr", password: str = PASSWORD):
        self.active_account(email, password)
        self.login(email, password)
        return email

    def login(self, email: str, password: str = PASSWORD) -> Result:
        first = self("login", email, "--password-stdin", input=password + "\n")
        if first.exit_code != 0:
            return first
        return self("login", email, "--code", self.last_code(email))


@pytest.fixture
def cli(store_url, tmp_path, clock):
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries = {}
    home = tmp_path / "home"
    home.mkdir()
    return Runner(store_url, home, clock)


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, to show that a refused command changed nothing."""
    from sqlalchemy import MetaData, select

    engine = engine_module.get_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        return {
            name: sorted(tuple(map(str, row)) for row in conn.execute(select(table)))
            for name, table in metadata.tables.items()
        }


@pytest.fixture
def unchanged(cli):
    """``with unchanged(): <refused command>`` asserts the store is the same afterwards."""
    from contextlib import contextmanager

    @contextmanager
    def check():
        before = snapshot(cli.url)
        yield
        assert snapshot(cli.url) == before

    return check


@pytest.fixture(autouse=True)
def _tracebacks_in_tests(monkeypatch):
    """In process, an unexpected error keeps its traceback (the CLI prints one sentence
    instead unless CHORUS_DEBUG is set); tests/e2e runs the real executable without it."""
    monkeypatch.setenv("CHORUS_DEBUG", "1")


# --- SIRENE: the bundled sample, imported through the CLI (issue 3) ----------------------

SIRENE_OPERATOR = "sirene.operator@example.fr"
# SIRETs of chorus_cli/data/sirene/*_sample.csv (synthetic rows in INSEE's layout).
SAMPLE_SIRETS = {
    "commune": "21389999000013",  # COMMUNE DE VAL-DE-BRIANE, town hall, head office, 7210
    "school": "21389999000021",  # the same commune's school (enseigne), active
    "commune_closed": "21389999000039",  # the same commune's closed technical centre (F)
    "regie": "25389999100017",  # RÉGIE DES EAUX DE VAL-DE-BRIANE, public (7344)
    "hospital": "26389998100017",  # CENTRE HOSPITALIER DE VAL-DE-BRIANE, public (7364)
    "ddfip": "13009999700012",  # a DDFiP, State service (7172), Grenoble
    "la_poste": "35600000000048",  # LA POSTE head office: La Poste's check rule, not Luhn
    "la_poste_office": "35600000049837",  # a post office, La Poste's rule too
    "company": "82345678500018",  # CHORUS DEMO SERVICES SAS (5710), head office, Lyon
    "company_branch": "82345678500026",  # its Lyon branch
    "bakery": "44123456400017",  # BOULANGERIE DUPONT ET FILS, head office
    "bakery_closed": "44123456400025",  # its closed second shop (F)
    "bakery_other": "51234567900017",  # BOULANGERIE DUPUIS, Paris
    "individual": "80012345700015",  # DUPONT MARIE, entrepreneur individuel (1000)
    "non_diffusible": "90012345600015",  # individual, statutDiffusion P: no name, no address
    "non_diffusible_unit": "77712345600017",  # SOCIETE DISCRETE: unit P, establishment O
    "abroad": "49912345300015",  # EUROTECH BELGIUM, BRUXELLES, BELGIQUE
    "association": "78812345300011",  # ASSOCIATION LES AMIS DU VIEUX MOULIN (9220)
    "pharmacy": "52212345400012",  # PHARMACIE DU CENTRE (5485)
    "closed_company": "39912345400015",  # TRANSPORTS MARTIN: unit ceased, establishment F
    "unknown": "55203253400034",  # a valid SIRET the sample does not hold
}


def load_sample(cli, admin: str | None = None) -> dict:
    """Import chorus' bundled SIRENE sample through `chorus sirene import`; returns the
    JSON summary. An operator task: it logs in as ``admin`` (an admin or support account
    with the tests' PASSWORD) or, by default, bootstraps SIRENE_OPERATOR as the store's
    first admin; it logs out at the end, so call it before logging your own user in."""
    from chorus_cli.sirene import sample_files

    if admin is None:
        admin = SIRENE_OPERATOR
        booted = cli(
            "admin", "bootstrap", "--email", admin, "--last-name", "Sirene", "--first-name", "Ops"
        )
        if booted.exit_code == 0 and cli.mails(admin):  # a new account: activate it
            link = cli.last_link(admin)
            cli("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    logged = cli.login(admin)
    assert logged.exit_code == 0, (
        f"load_sample: cannot log in as {admin} ({logged.stderr.strip()}); pass admin= when"
        " the store already has an admin"
    )
    establishments, units = sample_files()
    result = cli("sirene", "import", str(establishments), "--unites-legales", str(units), "--json")
    assert result.exit_code == 0, result.stderr
    cli("logout")
    return result.json()
