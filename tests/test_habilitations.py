"""HAB-1..6: the catalogue, profiles per structure and service, «Mes habilitations»,
grant and revoke, and the table of who may run which structure, attachment and
habilitation command, on SQLite and PostgreSQL.

Same cast as tests/test_attachments.py: Marie's bakery (RIDET, services ACHATS and RH),
Pierre and Paul who join it, Sam from support.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chorus_cli.kernel.clock import FrozenClock
from chorus_cli.store import engine as engine_module
from chorus_cli.store.keychain import store_id
from tests.conftest import Runner, copy_store, drop_store, load_sample, snapshot, template_store
from tests.memory_keyring import MemoryKeyring
from tests.test_attachments import (
    DEFAULTS,
    MARIE,
    PAUL,
    PIERRE,
    SAM,
    approved,
    open_bakery,
    requested,
)
from tests.test_attachments import bakery as bakery  # the shared worlds (fixtures)
from tests.test_attachments import world as world
from tests.test_structures import NAME, RIDET, World, grant_role, mails_of
from tests.test_structures import habilitations as profiles_of

COMMUNE = "21389999000013"  # the bundled SIRENE sample's town hall: public, Isère (38)
GUIDE_CATALOGUE = {  # HAB-1, as the guide and SPEC list it
    "Facturation": [
        "Factures émises",
        "Factures reçues",
        "Factures de travaux",
        "Mémoires de frais de justice",
        "Demandes de remboursement de TIC",
    ],
    "Engagements": ["Engagements"],
    "Sollicitations": ["Sollicitations"],
    "Raccordements": ["Compte technique"],
    "Organisation": ["Organisation"],
}


def grant(world, who, target, app, level, *extra):
    args = ("habil", "grant", target, "--structure", RIDET, "--app", app, "--level", level)
    return world(who, *args, *extra, "--json")


def revoke(world, who, target, app, *extra):
    return world(who, "habil", "revoke", target, "--structure", RIDET, "--app", app, *extra)


def listed(world, who, *args) -> list[dict]:
    result = world(who, "habil", "list", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def make_manager(world, email):
    approved(world, email)
    result = grant(world, MARIE, email, "organisation", "modification")
    assert result.exit_code == 0, result.stderr


# --- HAB-1: the catalogue ships as data ---------------------------------------------


def test_hab1_the_catalogue_is_a_data_file_in_the_package():
    from importlib import resources

    from chorus_cli.domain import authz

    text = resources.files("chorus_cli.data").joinpath("habilitations.json").read_text("utf-8")
    data = json.loads(text)
    assert {d["name"]: [a["name"] for a in d["applications"]] for d in data["domains"]} == (
        GUIDE_CATALOGUE
    )
    assert data["levels"] == ["consultation", "modification"]
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert '"data/*"' in pyproject  # shipped in the wheel
    # authz re-exports the catalogue: the same applications, in the same order.
    assert [code for code, _name, _domain in authz.APPLICATIONS] == [
        "factures_emises",
        "factures_recues",
        "factures_travaux",
        "memoires_frais_justice",
        "remboursement_tic",
        "engagements",
        "sollicitations",
        "compte_technique",
        "organisation",
    ]


def test_hab1_habil_catalogue_lists_domains_applications_and_profiles(world):
    result = world(PIERRE, "habil", "catalogue", "--json")
    assert result.exit_code == 0, result.stderr
    rows = result.json()
    assert len(rows) == 9
    assert rows[0] == {
        "domain": "Facturation",
        "application": "factures_emises",
        "name": "Factures émises",
        "levels": ["consultation", "modification"],
        "profiles": ["Factures émises consultation", "Factures émises modification"],
    }
    assert {r["domain"] for r in rows} == set(GUIDE_CATALOGUE)
    csv = world(PIERRE, "habil", "catalogue", "--format", "csv").stdout
    assert "Organisation consultation, Organisation modification" in csv


# --- HAB-2: a profile is an application and a level, per structure or service -------


def test_hab2_a_profile_is_an_application_and_a_level(bakery, unchanged):
    approved(bakery, PIERRE)
    result = grant(bakery, MARIE, PIERRE, "factures émises", "CONSULTATION")
    assert result.exit_code == 0, result.stderr
    shown = result.json()
    assert list(shown)[:4] == ["structure", "service", "application", "level"]
    assert (shown["structure"], shown["service"]) == (RIDET, None)
    assert (shown["application"], shown["level"]) == ("factures_emises", "consultation")
    assert shown["profile"] == "Factures émises consultation"

    for app, level, needle in [
        ("factures_emises", "lecture", "consultation, modification"),
        ("facturation", "modification", "factures_emises, factures_recues"),
    ]:
        with unchanged():
            refused = grant(bakery, MARIE, PIERRE, app, level)
        assert refused.exit_code == 2
        assert needle in refused.stderr and "(HAB-" in refused.stderr


def test_hab2_a_profile_on_a_service_gives_rights_on_that_service_only(bakery, unchanged):
    approved(bakery, PIERRE)
    approved(bakery, PAUL, "ACHATS", "RH")
    on_achats = grant(bakery, MARIE, PIERRE, "organisation", "modification", "--service", "achats")
    assert on_achats.exit_code == 0, on_achats.stderr
    assert on_achats.json()["service"] == "ACHATS"

    ok = grant(bakery, PIERRE, PAUL, "engagements", "consultation", "--service", "ACHATS")
    assert ok.exit_code == 0, ok.stderr
    with unchanged():
        other = grant(bakery, PIERRE, PAUL, "engagements", "consultation", "--service", "RH")
    assert other.exit_code == 4
    assert "service RH" in other.stderr and "HAB-6" in other.stderr
    for args in (
        ("structure", "update", RIDET, "--label", "Siège"),
        ("habil", "grant", PAUL, "--structure", RIDET, "--app", "engagements", "--level",
         "consultation"),
        ("attach", "approve", str(requested(bakery, SAM))),
    ):  # fmt: skip
        with unchanged():
            assert bakery(PIERRE, *args).exit_code == 4, args
    english = bakery(
        PIERRE, "habil", "revoke", PAUL, "--structure", RIDET, "--app", "engagements",
        "--service", "RH", "--lang", "en",
    )  # fmt: skip
    assert english.exit_code == 4
    assert (
        f"You need the “Organisation modification” profile on structure {RIDET} or on its"
        " service RH (HAB-4, HAB-6)"
    ) in english.stderr


def test_hab2_a_service_member_gets_profiles_on_its_services_only(bakery, unchanged):
    approved(bakery, PAUL, "ACHATS")
    for extra, needle in [((), "--service"), (("--service", "RH"), "RH")]:
        with unchanged():
            refused = grant(bakery, MARIE, PAUL, "engagements", "consultation", *extra)
        assert refused.exit_code == 1
        assert needle in refused.stderr and "(ATT-1, HAB-2)" in refused.stderr
    ok = grant(bakery, MARIE, PAUL, "engagements", "consultation", "--service", "ACHATS")
    assert ok.exit_code == 0, ok.stderr
    with unchanged():  # nor may such a member become primary manager (STR-8)
        moved = bakery(MARIE, "structure", "transfer-primary", RIDET, "--to", PAUL)
    assert moved.exit_code == 1 and "(STR-8)" in moved.stderr


def test_hab2_no_profile_on_an_inactive_service(bakery, unchanged):
    approved(bakery, PIERRE)
    bakery(MARIE, "structure", "service", "deactivate", RIDET, "RH")
    with unchanged():
        refused = grant(bakery, MARIE, PIERRE, "engagements", "consultation", "--service", "RH")
    assert refused.exit_code == 1 and "(STR-7)" in refused.stderr


# --- HAB-3: the default profiles ----------------------------------------------------


def test_hab3_defaults_modification_everywhere_but_organisation_in_consultation(bakery):
    approved(bakery, PIERRE)
    rows = listed(bakery, PIERRE)
    assert {r["application"]: r["level"] for r in rows} == DEFAULTS
    assert len(rows) == 9 and {r["service"] for r in rows} == {None}
    # The creator, primary manager, holds «Organisation modification» too (STR-4).
    assert {r["level"] for r in listed(bakery, MARIE)} == {"modification"}


# --- HAB-4: «Organisation modification» manages the structure -----------------------


def test_hab4_organisation_modification_lets_its_holder_manage_the_structure(bakery):
    approved(bakery, PAUL)
    number = requested(bakery, PIERRE)
    assert bakery(PAUL, "attach", "approve", str(number)).exit_code == 4
    assert grant(bakery, MARIE, PAUL, "organisation", "modification").exit_code == 0
    for args in (
        ("structure", "update", RIDET, "--label", "Siège"),
        ("structure", "service", "add", RIDET, "--code", "COMPTA", "--label", "Compta"),
        ("attach", "approve", str(number)),
        ("habil", "grant", PIERRE, "--structure", RIDET, "--app", "sollicitations",
         "--level", "consultation"),
    ):  # fmt: skip
        result = bakery(PAUL, *args)
        assert result.exit_code == 0, (args, result.stderr)


# --- HAB-5: «Mes habilitations», grant, revoke ---------------------------------------


def test_hab5_my_habilitations_per_structure(bakery):
    bakery.create(PAUL, id_type="TAHITI", id="C12345", name="Atelier de Paul")
    bakery(PAUL, "structure", "service", "add", "C12345", "--code", "ACHATS", "--label", "A")
    approved(bakery, PIERRE)
    approved(bakery, PIERRE, "ACHATS", structure="C12345", manager=PAUL)

    rows = listed(bakery, PIERRE)

    assert [(r["structure"], r["service"]) for r in rows] == [("C12345", "ACHATS")] * 9 + [
        (RIDET, None)
    ] * 9
    assert rows[0]["raison_sociale"] == "Atelier de Paul"
    assert [r["application"] for r in rows[:9]] == list(DEFAULTS)
    only = listed(bakery, PIERRE, "--structure", "1234567.001")
    assert {r["structure"] for r in only} == {RIDET} and len(only) == 9
    table = bakery(PIERRE, "habil", "list", "--structure", RIDET)
    assert table.exit_code == 0 and "profil" in table.stdout.splitlines()[0].split()


@pytest.mark.parametrize(
    ("text", "applications"),
    [
        ("factures", ["factures_emises", "factures_recues", "factures_travaux"]),
        ("Facturation", ["factures_emises", "factures_recues", "factures_travaux",
                         "memoires_frais_justice", "remboursement_tic"]),
        ("FACTURES ÉMISES", ["factures_emises"]),
        ("factures emises modif", ["factures_emises"]),
        ("reçues", ["factures_recues"]),
        ("recues", ["factures_recues"]),
        ("tic", ["remboursement_tic"]),
        ("raccordements", ["compte_technique"]),
        ("consultation", ["organisation"]),
        ("organisation consultation", ["organisation"]),
        ("organisation modification", []),
        ("modif", list(DEFAULTS)[:-1]),
        ("xyz", []),
    ],
)  # fmt: skip
def test_hab5_profile_filter_like_profil_recherche(bakery, text, applications):
    approved(bakery, PIERRE)
    rows = listed(bakery, PIERRE, "--profile", text)
    assert [r["application"] for r in rows] == applications


def test_hab5_an_empty_profile_filter_is_bad_input(bakery):
    assert bakery(PIERRE, "habil", "list", "--profile", " - ").exit_code == 2


def test_hab5_grant_and_revoke_are_mailed_and_audited(bakery):
    approved(bakery, PIERRE)
    lowered = grant(bakery, MARIE, PIERRE, "engagements", "consultation")
    assert lowered.exit_code == 0, lowered.stderr
    assert "« Engagements consultation »" in lowered.stderr
    assert profiles_of(bakery.cli, PIERRE)["engagements"] == "consultation"
    (mail,) = mails_of(bakery.cli, PIERRE, "vos habilitations ont changé")
    assert "« Engagements consultation »" in mail["body"] and MARIE in mail["body"]

    removed = revoke(bakery, MARIE, PIERRE, "engagements")
    assert removed.exit_code == 0, removed.stderr
    assert "engagements" not in profiles_of(bakery.cli, PIERRE)
    (mail,) = mails_of(bakery.cli, PIERRE, "un profil vous a été retiré")
    assert NAME in mail["body"]

    entries = bakery(SAM, "audit", "list", "--action", "habilitation", "--json").json()
    assert [(e["actor"], e["action"], e["target"], e["details"]) for e in reversed(entries)] == [
        (
            MARIE,
            "habilitation.grant",
            PIERRE,
            {
                "structure": RIDET,
                "service": None,
                "application": "engagements",
                "level": "consultation",
                "previous": "modification",
            },
        ),
        (
            MARIE,
            "habilitation.revoke",
            PIERRE,
            {
                "structure": RIDET,
                "service": None,
                "application": "engagements",
                "level": "consultation",
            },
        ),
    ]


def test_hab5_granting_a_level_held_already_changes_nothing(bakery, unchanged):
    approved(bakery, PIERRE)
    with unchanged():
        result = grant(bakery, MARIE, PIERRE, "engagements", "modification")
    assert result.exit_code == 0
    assert "rien n'a changé" in result.stderr


def test_hab5_profiles_go_to_attached_accounts_only(bakery, unchanged):
    with unchanged():
        result = grant(bakery, MARIE, PAUL, "engagements", "consultation")
    assert result.exit_code == 1
    assert "(HAB-2)" in result.stderr and "chorus attach request" in result.stderr
    with unchanged():
        unknown = grant(bakery, MARIE, "nobody@example.fr", "engagements", "consultation")
    assert unknown.exit_code == 3


def test_hab5_one_may_give_up_ones_own_profiles(bakery, unchanged):
    approved(bakery, PIERRE)
    approved(bakery, PAUL)
    own = revoke(bakery, PIERRE, PIERRE.upper(), "engagements")
    assert own.exit_code == 0, own.stderr
    assert "engagements" not in profiles_of(bakery.cli, PIERRE)
    with unchanged():
        again = revoke(bakery, PIERRE, PIERRE, "engagements")
    assert again.exit_code == 3 and "(HAB-5)" in again.stderr
    with unchanged():
        others = revoke(bakery, PIERRE, PAUL, "engagements")
    assert others.exit_code == 4 and "HAB-6" in others.stderr


def test_hab5_the_last_organisation_modification_cannot_be_removed(bakery, unchanged):
    approved(bakery, PIERRE)
    for refused in (
        revoke(bakery, MARIE, MARIE, "organisation"),
        grant(bakery, MARIE, MARIE, "organisation", "consultation"),
    ):
        assert refused.exit_code == 1
        assert "dernier profil « Organisation modification »" in refused.stderr
    with unchanged():
        assert revoke(bakery, MARIE, MARIE, "organisation").exit_code == 1


def test_hab5_the_primary_manager_keeps_organisation_modification(bakery, unchanged):
    make_manager(bakery, PAUL)
    with unchanged():
        refused = revoke(bakery, PAUL, MARIE, "organisation")
    assert refused.exit_code == 1
    assert "(HAB-5, STR-8)" in refused.stderr
    assert bakery(MARIE, "structure", "transfer-primary", RIDET, "--to", PAUL).exit_code == 0
    assert revoke(bakery, PAUL, MARIE, "organisation").exit_code == 0
    assert profiles_of(bakery.cli, MARIE)["factures_emises"] == "modification"
    with unchanged():  # Paul is now the last one
        assert revoke(bakery, PAUL, PAUL, "organisation").exit_code == 1


def test_hab5_a_manager_reads_a_members_profiles(bakery, unchanged):
    approved(bakery, PIERRE)
    rows = listed(bakery, MARIE, "--account", PIERRE, "--structure", RIDET)
    assert {r["application"]: r["level"] for r in rows} == DEFAULTS
    assert bakery(MARIE, "habil", "list", "--account", PIERRE).exit_code == 2
    assert bakery(PAUL, "habil", "list", "--account", PIERRE, "--structure", RIDET).exit_code == 4
    assert len(listed(bakery, SAM, "--account", PIERRE, "--structure", RIDET)) == 9


# --- HAB-6: rights are checked in the domain; platform roles ------------------------


def test_hab6_refusal_names_the_missing_profile(bakery, unchanged):
    approved(bakery, PIERRE)
    with unchanged():
        result = bakery(
            PIERRE, "habil", "grant", PIERRE, "--structure", RIDET, "--app", "organisation",
            "--level", "modification", "--lang", "en",
        )  # fmt: skip
    assert result.exit_code == 4
    assert result.stderr.strip() == (
        f"You need the “Organisation modification” profile on structure {RIDET} (HAB-4,"
        " HAB-6): ask its primary manager."
    )


def test_hab6_a_correspondent_reads_the_public_structures_of_their_department(world):
    load_sample(world.cli, admin=SAM)
    created = world.create(MARIE, id_type="SIRET", id=COMMUNE, name=None)
    assert created.json()["status"] == "pending", created.stderr
    assert world(SAM, "structure", "approve", COMMUNE).exit_code == 0
    grant_role(world.cli, PAUL, "correspondent", "38")
    grant_role(world.cli, PIERRE, "correspondent", "69")
    assert world(PAUL, "structure", "show", COMMUNE).exit_code == 0
    assert world(PAUL, "attach", "pending", "--structure", COMMUNE).exit_code == 0
    assert world(PIERRE, "structure", "show", COMMUNE).exit_code == 4
    # Reading only: a correspondent changes nothing without the profile (HAB-4).
    assert world(PAUL, "structure", "update", COMMUNE, "--label", "Mairie").exit_code == 4


# --- HAB-6: every structure, attachment and habilitation command × every actor ------

ODILE = "odile.manager@example.fr"  # another holder of «Organisation modification»
NINA = "nina.other@example.fr"  # primary manager of another structure only
ADA = "ada.admin@example.fr"
REMI = "remi.requester@example.fr"  # has a pending request, and a pending public structure
ACTORS = {
    "primary": MARIE,
    "manager": ODILE,
    "member": PIERRE,
    "other": NINA,
    "unattached": PAUL,
    "support": SAM,
    "admin": ADA,
}
ME, REQUEST = "{me}", "{request}"
# command -> exit code for (primary, manager, member, other, unattached, support, admin)
AUTHORISATION = {
    # structures (STR, HAB-4)
    ("structure", "create", "--id-type", "RIDET", "--id", "7654321001", "--raison-sociale", "N"):
        (0, 0, 0, 0, 0, 0, 0),
    ("structure", "show", RIDET): (0, 0, 0, 4, 4, 0, 0),
    ("structure", "search", "boulangerie"): (0, 0, 0, 0, 0, 0, 0),
    ("structure", "list"): (4, 4, 4, 4, 4, 0, 0),  # support and admin (PUB-1)
    ("structure", "update", RIDET, "--label", "Siège"): (0, 0, 4, 4, 4, 4, 4),
    ("structure", "transfer-primary", RIDET, "--to", PIERRE): (0, 0, 4, 4, 4, 4, 4),
    ("structure", "service", "add", RIDET, "--code", "COMPTA", "--label", "Compta"):
        (0, 0, 4, 4, 4, 4, 4),
    ("structure", "service", "list", RIDET): (0, 0, 0, 4, 4, 0, 0),
    ("structure", "service", "update", RIDET, "ACHATS", "--label", "Achats publics"):
        (0, 0, 4, 4, 4, 4, 4),
    ("structure", "service", "deactivate", RIDET, "RH"): (0, 0, 4, 4, 4, 4, 4),
    ("structure", "pending"): (4, 4, 4, 4, 4, 0, 0),
    ("structure", "approve", "C99999"): (4, 4, 4, 4, 4, 0, 0),
    ("structure", "refuse", "C99999", "--reason", "Non"): (4, 4, 4, 4, 4, 0, 0),
    # a structure's people (MEM-1, MEM-2): its managers, support and admin
    ("structure", "members", RIDET): (0, 0, 4, 4, 4, 0, 0),
    ("structure", "remove-member", RIDET, PIERRE, "--yes"): (0, 0, 4, 4, 4, 0, 0),
    # attachments (ATT)
    ("attach", "request", "--structure", NAME, "--comment", "J'y travaille"):
        (1, 1, 1, 0, 0, 0, 0),
    ("attach", "pending"): (0, 0, 0, 0, 0, 0, 0),
    ("attach", "pending", "--structure", RIDET): (0, 0, 4, 4, 4, 0, 0),
    ("attach", "approve", REQUEST): (0, 0, 4, 4, 4, 4, 4),
    ("attach", "reject", REQUEST, "--reason", "Inconnu"): (0, 0, 4, 4, 4, 4, 4),
    ("attach", "list"): (0, 0, 0, 0, 0, 0, 0),
    ("attach", "detach", "--structure", RIDET): (1, 0, 0, 1, 1, 1, 1),
    ("account", "history"): (0, 0, 0, 0, 0, 0, 0),
    # habilitations (HAB)
    ("habil", "catalogue"): (0, 0, 0, 0, 0, 0, 0),
    ("habil", "list"): (0, 0, 0, 0, 0, 0, 0),
    ("habil", "list", "--structure", RIDET, "--account", PIERRE): (0, 0, 0, 4, 4, 0, 0),
    ("habil", "grant", PIERRE, "--structure", RIDET, "--app", "engagements",
     "--level", "consultation"): (0, 0, 4, 4, 4, 4, 4),
    ("habil", "grant", PIERRE, "--structure", RIDET, "--app", "engagements",
     "--level", "consultation", "--service", "ACHATS"): (0, 0, 4, 4, 4, 4, 4),
    ("habil", "revoke", PIERRE, "--structure", RIDET, "--app", "engagements"):
        (0, 0, 0, 4, 4, 4, 4),
    ("habil", "revoke", ME, "--structure", RIDET, "--app", "engagements"):
        (0, 0, 0, 3, 3, 3, 3),
    # «Abonnement» (MEM-5): a member of the structure asks; the others are refused (1)
    ("habil", "request", "--structure", RIDET, "--application", "engagements",
     "--level", "consultation", "--comment", "Pour suivre"): (0, 0, 0, 1, 1, 1, 1),
}  # fmt: skip


@dataclass
class Built:
    """The world of the table, built once per store, cloned for every cell."""

    url: str
    home: Path
    clock: FrozenClock
    sessions: dict[str, dict] = field(default_factory=dict)
    request: int = 0
    admin: object = None  # PostgreSQL: the cluster's AUTOCOMMIT engine
    rows: dict = field(default_factory=dict)  # every row of the world: each clone's start

    def clone(self) -> str:
        return copy_store(self.url, self.admin, path=self.home / f"cell_{uuid.uuid4().hex[:8]}.db")

    def drop(self, url: str) -> None:
        drop_store(url, self.admin)

    def run(self, who: str, url: str, *args: str):
        """Run chorus as ``who`` on the clone at ``url`` (their session moved there)."""
        old, new = store_id(self.url), store_id(url)
        MemoryKeyring.entries = {
            (service, user.replace(old, new)): secret
            for (service, user), secret in self.sessions[who].items()
        }
        return Runner(url, self.home, self.clock)(*args)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def table_world(request, tmp_path_factory, sqlite_template):
    """Marie's bakery (RIDET, ACHATS, RH); Odile and Pierre members, Odile a manager;
    Nina the primary manager of C12345; Paul attached nowhere; Sam support; Ada admin;
    Rémi waits for an answer to his request and for support on his public C99999."""
    home = tmp_path_factory.mktemp("hab6")
    template, admin = template_store(request, request.param)
    url = copy_store(template, admin, path=home / "world.db", name="w_" + uuid.uuid4().hex[:12])
    built = Built(url, home, FrozenClock(), admin=admin)
    people = World(Runner(url, home, built.clock))
    for email in (*ACTORS.values(), REMI):
        people.join(email)
    grant_role(people.cli, SAM, "support")
    grant_role(people.cli, ADA, "admin")
    open_bakery(people)
    assert people.create(NINA, id_type="TAHITI", id="C12345", name="Atelier").exit_code == 0
    approved(people, PIERRE)
    approved(people, ODILE)
    assert grant(people, MARIE, ODILE, "organisation", "modification").exit_code == 0
    built.request = requested(people, REMI, "ACHATS")
    public = people.create(REMI, "--public", id_type="TAHITI", id="C99999", name="Commune")
    assert public.json()["status"] == "pending"
    built.sessions = people.sessions
    built.rows = snapshot(url)
    engine_module.dispose_all()
    yield built
    drop_store(url, admin)


@pytest.mark.parametrize(
    "command", list(AUTHORISATION), ids=lambda c: " ".join(a for a in c[:3] if a[0] != "-")
)
def test_hab6_authorisation_of_every_command_for_every_kind_of_actor(table_world, command):
    """Every cell on a fresh copy of the same world: what one actor did never decides
    what the next one may do. A refusal leaves the store exactly as it was."""
    failures = []
    for (kind, who), expected in zip(ACTORS.items(), AUTHORISATION[command], strict=True):
        args = [a.replace(ME, who).replace(REQUEST, str(table_world.request)) for a in command]
        url = table_world.clone()
        try:
            result = table_world.run(who, url, *args)
            if result.exit_code != expected:
                failures.append((kind, expected, result.exit_code, result.stderr.strip()))
            elif expected == 4 and "HAB-6" not in result.stderr:
                failures.append((kind, "names HAB-6", result.stderr.strip()))
            elif expected and snapshot(url) != table_world.rows:
                failures.append((kind, "changed the store"))
        finally:
            table_world.drop(url)
    assert failures == [], failures


def test_hab6_the_table_covers_every_structure_attach_and_habil_command():
    import typer

    from chorus_cli.cli import app
    from tests.test_docs import command_paths

    paths = {p for p in command_paths(typer.main.get_command(app))}
    covered = {" ".join(a for a in c[:3] if not a.startswith("-")) for c in AUTHORISATION}
    groups = ("structure", "attach", "habil")
    wanted = {p for p in paths if p.split()[0] in groups or p == "account history"}
    assert {w for w in wanted if not any(c.startswith(w) for c in covered)} == set()
