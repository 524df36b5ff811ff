"""Fixtures: a fresh store per test on SQLite and on a real PostgreSQL, a frozen clock,
an in-process CLI runner, and helpers to read the outbox and snapshot the store."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from functools import cache
from pathlib import Path

import pytest

from chorus_cli.domain import secrets
from chorus_cli.inprocess import Outcome, invoke
from chorus_cli.kernel.clock import FrozenClock
from chorus_cli.store import engine as engine_module
from tests.pg import Cluster

PASSWORD = "Vr4i-Mot2Passe!"
NEW_PASSWORD = "Aut7e-Secret#9"


# Under pytest-xdist (``make test``: --dist loadfile) a file runs on one worker: the files
# that take a minute or more start first, so the run does not end on one worker alone.
SLOW_FIRST = ("tests/test_readme_tour.py", "tests/e2e/")


def pytest_collection_modifyitems(items) -> None:
    def rank(item) -> int:
        found = [i for i, slow in enumerate(SLOW_FIRST) if item.nodeid.startswith(slow)]
        return found[0] if found else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: within a file, the same order


# --- Argon2: cheap in process, the production cost proved by the ACC-8 tests -----------

# The smallest parameters Argon2id accepts: ~25 µs a hash instead of ~35 ms. Set here, in
# the test process only, by replacing ``secrets.hasher`` (the production code has no
# switch for it): a ``chorus`` executable started by a test (tests/e2e, the README tour)
# hashes at the production cost.
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
PRODUCTION_HASHER = secrets.hasher


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2():
    """Every password set or checked in process hashes at CHEAP_ARGON2, and the dummy hash
    an unknown address is checked against is made with them too (one check costs the same
    whether the account exists or not, as in production)."""
    from argon2 import PasswordHasher, Type

    cheap = PasswordHasher(**CHEAP_ARGON2, type=Type.ID)
    patch = pytest.MonkeyPatch()
    patch.setattr(secrets, "hasher", cache(lambda: cheap))
    patch.setattr(secrets, "DUMMY_HASH", cheap.hash(secrets.new_token()))
    yield
    patch.undo()


@pytest.fixture
def production_argon2(monkeypatch):
    """For the ACC-8 tests of the cost itself: the hasher and dummy hash chorus ships."""
    monkeypatch.setattr(secrets, "hasher", PRODUCTION_HASHER)
    monkeypatch.setattr(secrets, "DUMMY_HASH", PRODUCTION_DUMMY_HASH)


PRODUCTION_DUMMY_HASH = secrets.DUMMY_HASH


# --- stores: a migrated template per worker, a copy per test -----------------------------


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


def copy_store(source: str, admin=None, path: Path | None = None, name: str = "") -> str:
    """A copy of the store at ``source``, which nothing may be connected to: a file copy
    to ``path`` for SQLite; for PostgreSQL a ``CREATE DATABASE … TEMPLATE`` on the same
    cluster (``admin``: its AUTOCOMMIT engine, ``pg_base``'s), called ``name`` or a new
    name. The one way the tests make a store: ``store_url``, the worlds, HAB-6's cells."""
    if source.startswith("sqlite"):
        shutil.copy(source.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    from sqlalchemy import text

    base, template = source.rsplit("/", 1)
    name = name or "t_" + uuid.uuid4().hex[:12]
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    return f"{base}/{name}"


def drop_store(url: str, admin=None) -> None:
    """Close this process' connections to the store at ``url``, then remove it."""
    engine_module.dispose_all()
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        for extra in ("", "-wal", "-shm", "-journal"):
            Path(path + extra).unlink(missing_ok=True)
        return
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)"))


def template_store(request, kind: str) -> tuple[str, object]:
    """The worker's migrated, empty store of ``kind`` and its admin engine (PostgreSQL)."""
    if kind == "sqlite":
        return f"sqlite:///{request.getfixturevalue('sqlite_template')}", None
    base, admin = request.getfixturevalue("pg_base")
    return f"{base}/chorus_template", admin


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path, sqlite_template):
    """A migrated, empty store: a SQLite file, or a database on the test cluster."""
    template, admin = template_store(request, request.param)
    url = copy_store(template, admin, path=tmp_path / "chorus.db")
    yield url
    if admin is None:
        engine_module.dispose_all()  # the file stays with the test's tmp_path
        return
    drop_store(url, admin)


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


# --- worlds: built once per worker and store kind, copied into each test's store ---------


class Worlds:
    """Each world (accounts, structures, sessions…) is built once per pytest worker and
    store kind on a store of its own, then copied into a test's store: a SQLite file copy,
    a PostgreSQL ``CREATE DATABASE … TEMPLATE``. The copy also brings the builder's data
    dir, its clock's time and its keyring, so the test starts exactly where a test that
    built the world itself would have (the same rows, ids, mails and sessions)."""

    def __init__(self, request, root: Path, images: dict[tuple[str, str], dict]) -> None:
        self.request = request  # the test's: it reaches the session's store fixtures
        self.root = root
        self.images = images

    def _kind(self, url: str) -> str:
        return "sqlite" if url.startswith("sqlite") else "postgresql"

    def _build(self, kind: str, name: str, build) -> dict:
        from tests.memory_keyring import MemoryKeyring

        home = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=self.root))
        template, admin = template_store(self.request, kind)
        url = copy_store(template, admin, path=home / "world.db", name="w_" + uuid.uuid4().hex[:12])
        (home / "home").mkdir()
        saved = MemoryKeyring.entries
        MemoryKeyring.entries = {}
        try:
            runner = Runner(url, home / "home", FrozenClock())
            value = build(runner)
            image = {
                "url": url,
                "home": home / "home",
                "now": runner.clock.now(),
                "keyring": dict(MemoryKeyring.entries),
                "value": value,
            }
        finally:
            MemoryKeyring.entries = saved
            engine_module.dispose_all()  # a template database must have no connection
        return image

    def clone(self, cli: Runner, name: str, build):
        """``build(runner)`` once per worker and store kind, its result copied into
        ``cli``'s store; returns what ``build`` returned, every store id in it (keyring
        entries of sessions) rewritten for ``cli``'s store."""
        from chorus_cli.store.keychain import store_id
        from tests.memory_keyring import MemoryKeyring

        kind = self._kind(cli.url)
        image = self.images.get((kind, name))
        if image is None:
            image = self.images[(kind, name)] = self._build(kind, name, build)
        _template, admin = template_store(self.request, kind)
        drop_store(cli.url, admin)  # the test's empty store, replaced by the world's copy
        path = Path(cli.url.removeprefix("sqlite:///")) if kind == "sqlite" else None
        copy_store(image["url"], admin, path=path, name=cli.url.rsplit("/", 1)[1])
        shutil.copytree(image["home"], cli.home, dirs_exist_ok=True)
        cli.clock._now = image["now"]
        old, new = store_id(image["url"]), store_id(cli.url)
        MemoryKeyring.entries = _moved(image["keyring"], old, new)
        return _moved(image["value"], old, new)


def _moved(value, old: str, new: str):
    """A copy of ``value`` with every string naming store ``old`` naming ``new``."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {_moved(k, old, new): _moved(v, old, new) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_moved(v, old, new) for v in value)
    return value


@pytest.fixture(scope="session")
def _world_images(tmp_path_factory):
    return tmp_path_factory.mktemp("worlds"), {}


@pytest.fixture
def worlds(request, _world_images) -> Worlds:
    """The worker's worlds: ``worlds.clone(cli, "name", build)`` (see Worlds)."""
    return Worlds(request, *_world_images)


_REFLECTED: dict[tuple[str, str], dict] = {}  # (dialect, schema digest) -> its tables


def _tables(conn) -> dict:
    """The store's tables, reflected once per schema: every store of a run is a copy of
    the same migrated template, so one short query tells which reflection to reuse
    (a full ``MetaData.reflect`` costs ~50 ms, this ~1 ms)."""
    import hashlib

    from sqlalchemy import MetaData, text

    if conn.dialect.name == "sqlite":
        query = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    else:
        query = (
            "SELECT table_name, column_name, data_type, ordinal_position"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
            " ORDER BY table_name, ordinal_position"
        )
    digest = hashlib.sha256(repr(conn.execute(text(query)).all()).encode()).hexdigest()
    key = (conn.dialect.name, digest)
    if key not in _REFLECTED:
        metadata = MetaData()
        metadata.reflect(conn)
        _REFLECTED[key] = dict(metadata.tables)
    return _REFLECTED[key]


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, to show that a refused command changed nothing."""
    from sqlalchemy import select

    engine = engine_module.get_engine(url)
    with engine.connect() as conn:
        return {
            name: sorted(tuple(map(str, row)) for row in conn.execute(select(table)))
            for name, table in _tables(conn).items()
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
