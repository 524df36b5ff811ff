"""STR-1..9, HAB-4, HAB-6: structures and their services, on SQLite and PostgreSQL.

The cast: Marie creates structures (so she is their primary manager), Pierre is a plain
member (attached with HAB-3's default profiles, written straight into the store since
attachment requests come with the next issue), Paul belongs to nothing, Sam is support.
Each keeps their own session; ``world(who, *args)`` runs chorus as that person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from chorus_cli.domain import identifiers
from chorus_cli.kernel.errors import BadInput
from chorus_cli.store import engine as engine_module
from tests.conftest import Runner
from tests.memory_keyring import MemoryKeyring

MARIE = "marie.curie@example.fr"
PIERRE = "pierre.curie@example.fr"
PAUL = "paul.langevin@example.fr"
SAM = "sam.support@example.fr"
RIDET = "1234567001"
NAME = "Boulangerie de Nouméa"


# --- the cast -----------------------------------------------------------------------


@dataclass
class World:
    cli: Runner
    sessions: dict[str, dict] = field(default_factory=dict)

    def join(self, email: str) -> None:
        """A new account, activated and logged in; its session is kept for later."""
        MemoryKeyring.entries = {}
        self.cli.logged_in(email)
        self.sessions[email] = dict(MemoryKeyring.entries)

    def __call__(self, who: str, *args: str, input: str | None = None):
        MemoryKeyring.entries = dict(self.sessions[who])
        return self.cli(*args, input=input)

    def create(self, who: str = MARIE, *args: str, id_type="RIDET", id=RIDET, name=NAME):
        extra = ("--raison-sociale", name) if name else ()
        return self(
            who, "structure", "create", "--id-type", id_type, "--id", id, *extra, *args, "--json"
        )


def store_session(cli):
    from sqlmodel import Session

    return Session(engine_module.get_engine(cli.url), expire_on_commit=False)


def account_id(cli, email: str) -> int:
    from sqlmodel import col, select

    from chorus_cli.store.models import Account

    with store_session(cli) as s:
        return s.exec(select(Account.id).where(col(Account.login_email) == email)).one()


def structure_row(cli, identifier: str = RIDET):
    from sqlmodel import col, select

    from chorus_cli.store.models import Structure

    with store_session(cli) as s:
        return s.exec(select(Structure).where(col(Structure.identifier) == identifier)).one()


def grant_role(cli, email: str, role: str, department: str | None = None) -> None:
    """A platform role, as `chorus admin grant-role` would leave it (tested in test_auth)."""
    from chorus_cli.store.models import RoleGrant

    with store_session(cli) as s:
        s.add(
            RoleGrant(
                account_id=account_id(cli, email),
                role=role,
                department=department,
                granted_at=cli.clock.now(),
            )
        )
        s.commit()


def attach_member(cli, email: str, identifier: str = RIDET) -> None:
    """A plain member: attached with HAB-3's defaults (Organisation in consultation)."""
    from chorus_cli.domain.authz import APPLICATIONS
    from chorus_cli.store.models import Attachment, Habilitation

    who, where = account_id(cli, email), structure_row(cli, identifier).id
    now = cli.clock.now()
    with store_session(cli) as s:
        s.add(Attachment(account_id=who, structure_id=where, created_at=now))
        for application, _name, _domain in APPLICATIONS:
            level = "consultation" if application == "organisation" else "modification"
            s.add(
                Habilitation(
                    account_id=who,
                    structure_id=where,
                    application=application,
                    level=level,
                    granted_at=now,
                )
            )
        s.commit()


def habilitations(cli, email: str, identifier: str = RIDET) -> dict[str, str]:
    from sqlmodel import col, select

    from chorus_cli.store.models import Habilitation

    with store_session(cli) as s:
        found = s.exec(
            select(Habilitation).where(
                col(Habilitation.account_id) == account_id(cli, email),
                col(Habilitation.structure_id) == structure_row(cli, identifier).id,
            )
        ).all()
    return {h.application: h.level for h in found}


def mails_of(cli, to: str, kind_words: str) -> list[dict]:
    return [m for m in cli.mails(to) if kind_words in m["subject"]]


def cast(cli) -> World:
    """Marie, Pierre, Paul and Sam (support), each logged in."""
    made = World(cli)
    for email in (MARIE, PIERRE, PAUL, SAM):
        made.join(email)
    grant_role(cli, SAM, "support")
    return made


def cloned(worlds, cli, name: str, build) -> World:
    """The world ``build(cli)`` makes, built once per worker and store (tests/conftest.py
    ``worlds``) and copied into ``cli``'s store: a World of ``cli`` with its sessions."""
    return World(cli, worlds.clone(cli, name, lambda runner: build(runner).sessions))


@pytest.fixture
def world(cli, worlds):
    """Marie, Pierre, Paul and Sam (support), each logged in."""
    return cloned(worlds, cli, "cast", cast)


def _with_ridet(cli) -> World:
    made = cast(cli)
    result = made.create()
    assert result.exit_code == 0, result.stderr
    attach_member(cli, PIERRE)
    made.sessions["ridet"] = result.json()
    return made


@pytest.fixture
def ridet(world, worlds):
    """Marie's active structure (a private RIDET), Pierre a plain member of it."""
    sessions = worlds.clone(world.cli, "ridet", lambda runner: _with_ridet(runner).sessions)
    created = sessions.pop("ridet")
    world.sessions.clear()
    world.sessions.update(sessions)
    return created


# --- STR-1: identifiers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "typed", "canonical"),
    [
        ("SIRET", "732 829 320 00074", "73282932000074"),
        ("SIRET", "732.829.320.00074", "73282932000074"),
        ("siret", "35600000049837", "35600000049837"),  # La Poste: sum of digits % 5
        ("UE_HORS_FRANCE", "de 136 695 976", "DE136695976"),
        ("UE_HORS_FRANCE", "EL094259216", "EL094259216"),
        ("HORS_UE", "us-Acme Corp", "US-ACME CORP"),
        ("HORS_UE", "CH  Société  Générale", "CH-SOCIETE GENERALE"),
        ("HORS_UE", "GB-0123456789ABCDEF", "GB-0123456789ABCDEF"),
        ("RIDET", "1234567001", "1234567001"),
        ("RIDET", "123456.001", "0123456001"),
        ("RIDET", "1 234 567.001", "1234567001"),
        ("TAHITI", "c12345", "C12345"),
        ("TAHITI", "C12345 001", "C12345001"),
        ("TAHITI", "123456", "123456"),
        ("EN_COURS_IMMATRICULATION", "j 000 123/2026", "J000123/2026"),
        ("PARTICULIER", "dupont-jean-1980", "DUPONT-JEAN-1980"),
    ],
)
def test_str1_identifiers_are_normalised_per_type(id_type, typed, canonical):
    assert identifiers.normalise(id_type, typed) == canonical


def test_str1_la_poste_sirets_skip_luhn_but_not_their_own_check():
    from stdnum import luhn

    assert not luhn.is_valid("35600000049837")
    assert identifiers.normalise("SIRET", "35600000049837") == "35600000049837"
    with pytest.raises(BadInput) as refused:
        identifiers.normalise("SIRET", "35600000049838")
    assert refused.value.key == "str1.siret_checksum"


@pytest.mark.parametrize(
    ("id_type", "typed", "key"),
    [
        ("SIRET", "73282932000075", "str1.siret_checksum"),
        ("SIRET", "7328293200007", "str1.siret_length"),
        ("SIRET", "7328293200007A", "str1.siret_format"),
        ("UE_HORS_FRANCE", "DE136695977", "str1.ue_hors_france"),
        ("UE_HORS_FRANCE", "GB123456789", "str1.ue_hors_france"),
        ("UE_HORS_FRANCE", "FR40303265045", "str1.own_type"),
        ("HORS_UE", "ACME CORP", "str1.hors_ue"),
        ("HORS_UE", "ZZ-ACME", "str1.country_unknown"),
        ("HORS_UE", "DE-ACME", "str1.own_type"),
        ("HORS_UE", "NC-ACME", "str1.own_type"),
        ("HORS_UE", "US-ACME CORPORATION INC", "str1.hors_ue_name_long"),
        ("HORS_UE", "US-ACME*CORP", "str1.hors_ue"),
        ("RIDET", "123456789", "str1.ridet"),
        ("RIDET", "12345678.001", "str1.ridet"),
        ("TAHITI", "C1234", "str1.tahiti"),
        ("TAHITI", "CC12345", "str1.tahiti"),
        ("PARTICULIER", "AB", "str1.reference"),
        ("EN_COURS_IMMATRICULATION", "dépôt 12", "str1.reference"),
    ],
)
def test_str1_bad_identifiers_name_the_expected_format(id_type, typed, key):
    with pytest.raises(BadInput) as refused:
        identifiers.normalise(id_type, typed)
    assert refused.value.key == key


@pytest.mark.parametrize(
    ("id_type", "typed"),
    [("SIRET", "73282932000075"), ("HORS_UE", "US-ACME CORPORATION INC"), ("RIDET", "12")],
)
def test_str1_bad_identifier_is_exit_2_naming_str1(world, unchanged, id_type, typed):
    with unchanged():
        result = world.create(id_type=id_type, id=typed)
    assert result.exit_code == 2
    assert "(STR-1)" in result.stderr
    assert typed in result.stderr


def test_str1_unknown_identifier_type_is_exit_2_listing_the_types(world, unchanged):
    with unchanged():
        result = world.create(id_type="DUNS", id="150483782")
    assert result.exit_code == 2
    assert "(STR-1)" in result.stderr and "EN_COURS_IMMATRICULATION" in result.stderr
    assert world.create(id_type="ridet").exit_code == 0  # any case


def test_str1_identifier_is_unique_per_type_not_across_types(world):
    assert world.create().exit_code == 0
    other = world.create(id_type="PARTICULIER", name="Jean Dupont")
    assert other.exit_code == 0, other.stderr
    assert other.json()["id_type"] == "PARTICULIER"

    ambiguous = world(MARIE, "structure", "show", RIDET)
    assert ambiguous.exit_code == 2
    assert "--id-type" in ambiguous.stderr
    one = world(MARIE, "structure", "show", RIDET, "--id-type", "particulier", "--json")
    assert one.exit_code == 0
    assert one.json()["raison_sociale"] == "Jean Dupont"


def test_str1_a_structure_is_named_in_any_spelling_of_its_identifier(world, ridet):
    for spelling in ("1234567001", "1234567.001", " 1 234 567 001 "):
        result = world(MARIE, "structure", "show", spelling, "--json")
        assert result.exit_code == 0, (spelling, result.stderr)
        assert result.json()["identifier"] == RIDET


def test_str1_unknown_structure_is_exit_3(world):
    result = world(MARIE, "structure", "show", "9999999001")
    assert result.exit_code == 3
    assert "chorus structure search" in result.stderr


# --- STR-2: mandatory and optional data ---------------------------------------------


def test_str2_non_siret_needs_a_raison_sociale(world, unchanged):
    with unchanged():
        result = world.create(name=None)
    assert result.exit_code == 2
    assert "raison sociale" in result.stderr


def test_str2_optional_label_email_phone_are_validated_and_stored(world):
    result = world.create(
        MARIE,
        "--label",
        "  Siège ",
        "--email",
        "Contact@Boulangerie.NC",
        "--phone",
        "01 23 45 67 89",
    )
    assert result.exit_code == 0, result.stderr
    shown = result.json()
    assert (shown["label"], shown["email"], shown["phone"]) == (
        "Siège",
        "contact@boulangerie.nc",
        "+33123456789",
    )


@pytest.mark.parametrize(
    ("option", "value"), [("--email", "pas-une-adresse"), ("--phone", "12"), ("--label", "x" * 201)]
)
def test_str2_bad_optional_data_is_exit_2(world, unchanged, option, value):
    with unchanged():
        result = world.create(MARIE, option, value)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1


# --- STR-4: the creator is attached as primary manager ------------------------------


def test_str4_creator_is_attached_as_primary_manager_with_organisation_modification(world):
    before = world(MARIE, "whoami", "--json")
    assert before.json()["structures"] == []
    assert "AUTH-5" in before.stderr

    created = world.create()
    assert created.exit_code == 0, created.stderr
    shown = created.json()
    assert shown["primary_manager"] == MARIE
    assert shown["status"] == "active"
    assert "STR-4" in created.stderr

    profiles = habilitations(world.cli, MARIE)
    assert profiles["organisation"] == "modification"
    assert set(profiles.values()) == {"modification"} and len(profiles) == 9

    after = world(MARIE, "whoami", "--json")
    assert after.json()["structures"] == [
        {"identifier": RIDET, "raison_sociale": NAME, "role": "primary", "status": "active"}
    ]
    assert "AUTH-5" not in after.stderr


def test_str4_whoami_shows_a_plain_member_as_member(world, ridet):
    result = world(PIERRE, "whoami", "--json")
    assert [(s["identifier"], s["role"]) for s in result.json()["structures"]] == [
        (RIDET, "member")
    ]


def test_str4_login_hint_disappears_once_attached(world, ridet):
    MemoryKeyring.entries = {}
    result = world.cli.login(MARIE)
    assert result.exit_code == 0
    assert "AUTH-5" not in result.stderr


# --- STR-5: an existing structure ---------------------------------------------------


def test_str5_existing_structure_is_refused_with_the_attachment_hint(world, ridet, unchanged):
    with unchanged():
        result = world.create(PAUL, id="1234567.001")
    assert result.exit_code == 1
    assert "(STR-5)" in result.stderr
    assert f"chorus attach request --structure {RIDET} --comment" in result.stderr


# --- STR-6: public structures wait for support --------------------------------------


def public_request(world, who: str = MARIE, id: str = "C12345"):
    result = world.create(who, "--public", id_type="TAHITI", id=id, name="Commune de Papeete")
    assert result.exit_code == 0, result.stderr
    return result


def test_str6_public_structure_is_created_pending_and_the_requester_mailed(world):
    result = public_request(world)
    assert result.json()["status"] == "pending"
    assert result.json()["public"] is True
    assert "STR-6" in result.stderr
    (mail,) = mails_of(world.cli, MARIE, "attend l'approbation")
    assert "Commune de Papeete (C12345)" in mail["body"]

    listed = world(SAM, "structure", "pending", "--json")
    assert listed.exit_code == 0
    assert [(r["identifier"], r["requester"]) for r in listed.json()] == [("C12345", MARIE)]


def test_str6_pending_structure_cannot_be_changed_by_its_requester(world, unchanged):
    public_request(world)
    with unchanged():
        result = world(MARIE, "structure", "update", "C12345", "--label", "Mairie")
    assert result.exit_code == 1
    assert "(STR-6)" in result.stderr
    with unchanged():
        result = world(
            MARIE, "structure", "service", "add", "C12345", "--code", "A", "--label", "A"
        )
    assert result.exit_code == 1


def test_str6_support_approves_and_the_requester_is_mailed(world):
    public_request(world)
    result = world(SAM, "structure", "approve", "c12345", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["status"] == "active"
    (mail,) = mails_of(world.cli, MARIE, "approuvée")
    assert "C12345" in mail["body"]
    assert world(SAM, "structure", "pending", "--json").json() == []
    update = world(MARIE, "structure", "update", "C12345", "--label", "Mairie")
    assert update.exit_code == 0, update.stderr


def test_str6_support_refuses_with_a_reason_mailed_and_the_requester_is_detached(world):
    public_request(world)
    result = world(SAM, "structure", "refuse", "C12345", "--reason", "Gérée dans Hélios", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["status"] == "refused"
    assert result.json()["primary_manager"] is None
    (mail,) = mails_of(world.cli, MARIE, "refusée")
    assert "Gérée dans Hélios" in mail["body"]
    who = world(MARIE, "whoami", "--json")
    assert who.json()["structures"] == []
    assert habilitations(world.cli, MARIE, "C12345") == {}
    # The record stays for support; the requester no longer sees it.
    assert world(SAM, "structure", "show", "C12345").exit_code == 0
    assert world(MARIE, "structure", "show", "C12345").exit_code == 4


def test_str6_a_refused_structure_may_be_requested_again(world):
    public_request(world)
    world(SAM, "structure", "refuse", "C12345", "--reason", "Pièce manquante")
    again = public_request(world, PAUL)
    assert again.json()["status"] == "pending"
    assert again.json()["primary_manager"] == PAUL
    assert again.json()["refusal_reason"] is None


def test_str6_a_refusal_needs_a_reason(world, unchanged):
    public_request(world)
    with unchanged():
        result = world(SAM, "structure", "refuse", "C12345", "--reason", "  ")
    assert result.exit_code == 2


def test_str6_only_pending_structures_are_decided(world, ridet, unchanged):
    with unchanged():
        result = world(SAM, "structure", "approve", RIDET)
    assert result.exit_code == 1
    assert "(STR-6)" in result.stderr


def test_str6_support_never_decides_on_its_own_request(world, unchanged):
    public_request(world, SAM)
    with unchanged():
        result = world(SAM, "structure", "approve", "C12345")
    assert result.exit_code == 4
    assert "(STR-6, HAB-6)" in result.stderr


def test_str6_a_pending_request_is_not_requested_twice(world, unchanged):
    public_request(world)
    with unchanged():
        result = world.create(PAUL, "--public", id_type="TAHITI", id="C12345", name="Papeete")
    assert result.exit_code == 1
    assert "STR-6" in result.stderr


def test_str6_for_a_siret_the_register_says_whether_it_is_public(world, unchanged):
    with unchanged():
        result = world.create(MARIE, "--public", id_type="SIRET", id="73282932000074", name=None)
    assert result.exit_code == 2
    assert "(STR-6)" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--public",), "PARTICULIER"),  # a person is never a public entity
        (("--helios",), "--id-type SIRET"),  # Hélios structures have a SIRET
    ],
)
def test_str6_public_and_helios_flags_apply_to_some_types_only(world, unchanged, args, needle):
    with unchanged():
        result = world.create(MARIE, *args, id_type="PARTICULIER", id="DUPONT-1980", name="J D")
    assert result.exit_code == 2
    assert needle in result.stderr


def test_str6_a_refused_structure_is_not_decided_again(world, unchanged):
    public_request(world)
    world(SAM, "structure", "refuse", "C12345", "--reason", "Non")
    with unchanged():
        assert world(SAM, "structure", "approve", "C12345").exit_code == 1


# --- STR-7: services ----------------------------------------------------------------


def service(world, who, *args):
    return world(who, "structure", "service", *args)


def test_str7_manager_adds_lists_renames_and_deactivates_services(world, ridet):
    added = service(world, MARIE, "add", RIDET, "--code", "achats", "--label", "Achats", "--json")
    assert added.exit_code == 0, added.stderr
    assert added.json()["code"] == "ACHATS"
    assert service(world, MARIE, "add", RIDET, "--code", "RH", "--label", "RH").exit_code == 0

    renamed = service(world, MARIE, "update", RIDET, "Achats", "--label", "Achats et marchés")
    assert renamed.exit_code == 0, renamed.stderr
    off = service(world, MARIE, "deactivate", RIDET, "RH", "--json")
    assert off.exit_code == 0
    assert off.json()["active"] is False

    listed = service(world, PIERRE, "list", RIDET, "--json")
    assert listed.exit_code == 0
    assert [(s["code"], s["label"], s["active"]) for s in listed.json()] == [
        ("ACHATS", "Achats et marchés", True),
        ("RH", "RH", False),
    ]
    shown = world(MARIE, "structure", "show", RIDET, "--json").json()
    assert [s["code"] for s in shown["services"]] == ["ACHATS", "RH"]


def test_str7_code_is_unique_within_the_structure(world, ridet, unchanged):
    service(world, MARIE, "add", RIDET, "--code", "ACHATS", "--label", "Achats")
    service(world, MARIE, "deactivate", RIDET, "ACHATS")
    with unchanged():
        result = service(world, MARIE, "add", RIDET, "--code", "achats", "--label", "Autre")
    assert result.exit_code == 1
    assert "(STR-7" in result.stderr


def test_str7_the_same_code_in_two_structures_is_fine(world, ridet):
    world.create(id_type="TAHITI", id="C12345", name="Autre")
    for identifier in (RIDET, "C12345"):
        result = service(world, MARIE, "add", identifier, "--code", "ACHATS", "--label", "A")
        assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("add", RIDET, "--code", "SERVICE ACHATS", "--label", "A"), 2),
        (("add", RIDET, "--code", "A", "--label", " "), 2),
        (("update", RIDET, "NOPE", "--label", "A"), 3),
        (("update", RIDET, "ACHATS"), 2),
        (("deactivate", RIDET, "NOPE"), 3),
    ],
)
def test_str7_bad_service_commands_change_nothing(world, ridet, unchanged, args, code):
    service(world, MARIE, "add", RIDET, "--code", "ACHATS", "--label", "Achats")
    with unchanged():
        result = service(world, MARIE, *args)
    assert result.exit_code == code, result.stderr


def test_str7_deactivating_twice_is_refused(world, ridet, unchanged):
    service(world, MARIE, "add", RIDET, "--code", "ACHATS", "--label", "Achats")
    service(world, MARIE, "deactivate", RIDET, "ACHATS")
    with unchanged():
        result = service(world, MARIE, "deactivate", RIDET, "ACHATS")
    assert result.exit_code == 1


# --- STR-8: the primary manager -----------------------------------------------------


def test_str8_transfer_to_an_attached_member_mails_both(world, ridet):
    result = world(MARIE, "structure", "transfer-primary", RIDET, "--to", PIERRE, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["primary_manager"] == PIERRE
    assert habilitations(world.cli, PIERRE)["organisation"] == "modification"
    assert habilitations(world.cli, MARIE)["organisation"] == "modification"
    (to_new,) = mails_of(world.cli, PIERRE, "vous êtes gestionnaire principal")
    (to_old,) = mails_of(world.cli, MARIE, "n'êtes plus gestionnaire principal")
    assert NAME in to_new["body"] and MARIE in to_new["body"]
    assert PIERRE in to_old["body"]
    roles = {s["role"] for s in world(PIERRE, "whoami", "--json").json()["structures"]}
    assert roles == {"primary"}
    # A holder of «Organisation modification» may hand it on too, even back.
    back = world(MARIE, "structure", "transfer-primary", RIDET, "--to", MARIE)
    assert back.exit_code == 0, back.stderr


@pytest.mark.parametrize(
    ("to", "code"),
    [(PAUL, 1), (MARIE, 1), ("nobody@example.fr", 3)],
    ids=["not-attached", "already-primary", "unknown"],
)
def test_str8_transfer_only_to_another_attached_account(world, ridet, unchanged, to, code):
    with unchanged():
        result = world(MARIE, "structure", "transfer-primary", RIDET, "--to", to)
    assert result.exit_code == code, result.stderr


def test_str8_transfer_only_to_an_active_account(world, ridet, unchanged):
    from sqlalchemy import text

    with engine_module.get_engine(world.cli.url).begin() as conn:
        conn.execute(
            text("UPDATE account SET status = 'deactivated' WHERE login_email = :e"), {"e": PIERRE}
        )
    with unchanged():
        result = world(MARIE, "structure", "transfer-primary", RIDET, "--to", PIERRE)
    assert result.exit_code == 1
    assert "(STR-8)" in result.stderr


# --- STR-9: search ------------------------------------------------------------------


@pytest.fixture
def several(world):
    for id_type, id, name in [
        ("RIDET", RIDET, "Société Générale de Nouméa"),
        ("TAHITI", "C12345", "Générale des Eaux"),
        ("HORS_UE", "US-ACME CORP", "ACME Corporation"),
        ("PARTICULIER", "DUPONT-1980", "L'Œuvre de Jean Dupont"),
    ]:
        assert world.create(id_type=id_type, id=id, name=name).exit_code == 0
    world(MARIE, "structure", "update", "C12345", "--label", "Eaux de Tahiti")
    return world


def found(world, text, who=PAUL):
    result = world(who, "structure", "search", text, "--json")
    assert result.exit_code == 0, result.stderr
    return [r["identifier"] for r in result.json()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("soc gen", [RIDET]),
        ("SOCIETE", [RIDET]),
        ("générale", [RIDET, "C12345"]),
        ("generale eaux", ["C12345"]),
        ("tahiti", ["C12345"]),  # the label
        ("oeuvre", ["DUPONT-1980"]),
        ("l'œuvre", ["DUPONT-1980"]),
        ("1234567", [RIDET]),
        ("123 4567.001", [RIDET]),
        ("us-acme", ["US-ACME CORP"]),
        ("acme", ["US-ACME CORP"]),
        ("neral", []),  # a word's middle is not a prefix
        ("la société générale", [RIDET]),  # small words are dropped when others remain
    ],
)
def test_str9_search_by_identifier_name_or_label(several, text, expected):
    assert sorted(found(several, text)) == sorted(expected)


def test_str9_exact_identifier_then_names_starting_with_the_word_come_first(several):
    assert found(several, "generale") == ["C12345", RIDET]
    assert found(several, RIDET) == [RIDET]


def test_str9_pending_structures_show_to_members_and_support_only(world):
    public_request(world)
    assert found(world, "papeete", PAUL) == []
    assert found(world, "papeete", MARIE) == ["C12345"]
    assert found(world, "papeete", SAM) == ["C12345"]


def test_str9_search_never_shows_an_address(several):
    result = several(PAUL, "structure", "search", "acme", "--json")
    assert set(result.json()[0]) == {"identifier", "id_type", "raison_sociale", "label", "status"}


def test_str9_empty_search_is_bad_input(world):
    assert world(PAUL, "structure", "search", " ' ").exit_code == 2


# --- HAB-4: update ------------------------------------------------------------------


def test_hab4_manager_updates_label_email_phone_and_removes_with_empty(world, ridet):
    result = world(
        MARIE, "structure", "update", RIDET, "--label", "Siège", "--email", "a@b.nc", "--json"
    )
    assert result.exit_code == 0, result.stderr
    assert (result.json()["label"], result.json()["email"]) == ("Siège", "a@b.nc")
    removed = world(MARIE, "structure", "update", RIDET, "--label", "", "--json")
    assert removed.json()["label"] is None
    assert removed.json()["email"] == "a@b.nc"


@pytest.mark.parametrize(
    "args", [(), ("--email", "nope"), ("--phone", "0"), ("--label", "x" * 201)]
)
def test_hab4_bad_update_is_exit_2(world, ridet, unchanged, args):
    with unchanged():
        result = world(MARIE, "structure", "update", RIDET, *args)
    assert result.exit_code == 2


def test_api1_structure_settings_are_switched_on_and_off_and_audited(world, ridet):
    shown = world(MARIE, "structure", "show", RIDET, "--json").json()
    assert (shown["service_code_required"], shown["engagement_number_required"]) == (False, False)
    on = world(MARIE, "structure", "update", RIDET, "--service-code-required", "on", "--json")
    assert on.exit_code == 0, on.stderr
    shown = world(PIERRE, "structure", "show", RIDET, "--json").json()
    assert (shown["service_code_required"], shown["engagement_number_required"]) == (True, False)
    both = ("--service-code-required", "off", "--engagement-number-required", "on", "--json")
    assert world(MARIE, "structure", "update", RIDET, *both).exit_code == 0
    shown = world(MARIE, "structure", "show", RIDET, "--json").json()
    assert (shown["service_code_required"], shown["engagement_number_required"]) == (False, True)
    table = world(MARIE, "structure", "show", RIDET)
    assert "service_code_required" in table.stdout
    assert "engagement_number_required" in table.stdout
    audit = world(SAM, "audit", "list", "--json").json()
    fields = [e["details"].get("fields") for e in audit if e["action"] == "structure.update"]
    assert ["service_code_required"] in fields
    assert ["engagement_number_required", "service_code_required"] in fields


def test_api1_a_setting_other_than_on_or_off_is_exit_2_naming_the_option(world, ridet, unchanged):
    with unchanged():
        result = world(
            MARIE,
            "structure",
            "update",
            RIDET,
            "--engagement-number-required",
            "maybe",
            "--lang",
            "en",
        )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Value refused for --engagement-number-required (API-1): “maybe”; expected: on or off."
    )


def test_hab6_refusal_names_the_missing_profile_in_english_too(world, ridet, unchanged):
    with unchanged():
        result = world(PIERRE, "structure", "update", RIDET, "--label", "X", "--lang", "en")
    assert result.exit_code == 4
    assert result.stderr.strip() == (
        f"You need the “Organisation modification” profile on structure {RIDET} (HAB-4,"
        " HAB-6): ask its primary manager."
    )


# --- HAB-6: every structure command × every kind of actor ---------------------------

PRIMARY, MEMBER, OUTSIDER, SUPPORT = "primary", "member", "non-member", "support"
ACTORS = {PRIMARY: MARIE, MEMBER: PIERRE, OUTSIDER: PAUL, SUPPORT: SAM}
# command -> exit code for (primary manager, plain member, non-member, support)
AUTHORISATION = {
    ("show", RIDET): (0, 0, 4, 0),
    ("search", "boulangerie"): (0, 0, 0, 0),
    ("update", RIDET, "--label", "Siège"): (0, 4, 4, 4),
    ("update", RIDET, "--service-code-required", "on"): (0, 4, 4, 4),
    ("transfer-primary", RIDET, "--to", PIERRE): (0, 4, 4, 4),
    ("service", "add", RIDET, "--code", "RH", "--label", "RH"): (0, 4, 4, 4),
    ("service", "list", RIDET): (0, 0, 4, 0),
    ("service", "update", RIDET, "ACHATS", "--label", "Achats publics"): (0, 4, 4, 4),
    ("service", "deactivate", RIDET, "ACHATS"): (0, 4, 4, 4),
    ("pending",): (4, 4, 4, 0),
    ("approve", "C12345"): (4, 4, 4, 0),
    ("refuse", "C12345", "--reason", "Non"): (4, 4, 4, 0),
}


@pytest.mark.parametrize("command", list(AUTHORISATION), ids=lambda c: " ".join(c[:2]))
def test_hab6_authorisation_of_every_structure_command(world, ridet, unchanged, command):
    service(world, MARIE, "add", RIDET, "--code", "ACHATS", "--label", "Achats")
    public_request(world)  # C12345: Marie's, pending
    attach_member(world.cli, PIERRE, "C12345")
    expected = dict(zip((PRIMARY, MEMBER, OUTSIDER, SUPPORT), AUTHORISATION[command], strict=True))
    # Refusals first: each must leave the store as it was; then the one that may act.
    order = sorted(expected, key=lambda actor: expected[actor] == 0)
    for actor in order:
        if expected[actor]:
            with unchanged():
                result = world(ACTORS[actor], "structure", *command)
        else:
            result = world(ACTORS[actor], "structure", *command)
        assert result.exit_code == expected[actor], (actor, command, result.stderr)
        if expected[actor] == 4:
            assert "HAB-6" in result.stderr


def test_hab6_everyone_logged_in_may_create_a_structure_but_not_anonymously(world, unchanged):
    for number, who in enumerate((MARIE, PIERRE, PAUL, SAM), start=1):
        result = world.create(who, id=f"765432100{number}")
        assert result.exit_code == 0, (who, result.stderr)
    MemoryKeyring.entries = {}
    with unchanged():
        result = world.cli("structure", "create", "--id-type", "RIDET", "--id", RIDET)
    assert result.exit_code == 5


# --- OPS-4: every change is audited -------------------------------------------------


def test_ops4_structure_changes_are_audited(world, ridet):
    service(world, MARIE, "add", RIDET, "--code", "ACHATS", "--label", "Achats")
    world(MARIE, "structure", "update", RIDET, "--label", "Siège")
    world(MARIE, "structure", "service", "update", RIDET, "ACHATS", "--label", "A")
    world(MARIE, "structure", "service", "deactivate", RIDET, "ACHATS")
    world(MARIE, "structure", "transfer-primary", RIDET, "--to", PIERRE)
    public_request(world)
    world(SAM, "structure", "approve", "C12345")
    result = world(SAM, "audit", "list", "--json")
    actions = [
        (e["actor"], e["action"], e["target"])
        for e in reversed(result.json())
        if e["action"].startswith(("structure.", "service."))
    ]
    assert actions == [
        (MARIE, "structure.create", RIDET),
        (MARIE, "service.add", RIDET),
        (MARIE, "structure.update", RIDET),
        (MARIE, "service.update", RIDET),
        (MARIE, "service.deactivate", RIDET),
        (MARIE, "structure.transfer_primary", RIDET),
        (MARIE, "structure.create", "C12345"),
        (SAM, "structure.approve", "C12345"),
    ]


# --- STR-2, STR-3, STR-6 with a SIRET: the SIRENE register --------------------------

DANONE = "73282932000074"  # private company, Paris 9e
CLOSED = "12345678200010"  # closed establishment
HIDDEN = "44306184100104"  # non-diffusible individual (statutDiffusion P)
VILLEURBANNE = "21690123100011"  # a commune: legal category 7210, department 69
UNKNOWN = "55203253400034"  # a valid SIRET the register does not know

ESTABLISHMENTS = [
    # siret, diffusion, state, street number, type, street, postal code, commune
    (DANONE, "O", "A", "17", "BD", "HAUSSMANN", "75009", "PARIS"),
    (CLOSED, "O", "F", "1", "RUE", "DE LA PAIX", "75002", "PARIS"),
    (HIDDEN, "P", "A", "3", "RUE", "DES LILAS", "69003", "LYON"),
    (VILLEURBANNE, "O", "A", "", "PL", "LAZARE GOUJON", "69100", "VILLEURBANNE"),
]
UNITS = [
    # siren, diffusion, denomination, surname, first name, legal category
    (DANONE[:9], "O", "DANONE ESSAI SA", "", "", "5599"),
    (CLOSED[:9], "O", "ANCIENNE SARL", "", "", "5499"),
    (HIDDEN[:9], "P", "", "[ND]", "[ND]", "1000"),  # INSEE withholds this person's name
    (VILLEURBANNE[:9], "O", "COMMUNE DE VILLEURBANNE", "", "", "7210"),
]


def write_stock(path, header, rows):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def sirene(world, tmp_path):
    """The register knows four establishments (a stock file in INSEE's layout, imported
    as support would import the national one)."""
    from chorus_cli.sirene.columns import ETABLISSEMENT_HEADER, UNITE_LEGALE_HEADER

    establishments = write_stock(
        tmp_path / "StockEtablissement.csv",
        ETABLISSEMENT_HEADER,
        [
            {
                "siren": siret[:9],
                "nic": siret[9:],
                "siret": siret,
                "statutDiffusionEtablissement": diffusion,
                "etatAdministratifEtablissement": state,
                "numeroVoieEtablissement": number,
                "typeVoieEtablissement": kind,
                "libelleVoieEtablissement": street,
                "codePostalEtablissement": postal_code,
                "libelleCommuneEtablissement": commune,
            }
            for siret, diffusion, state, number, kind, street, postal_code, commune in (
                ESTABLISHMENTS
            )
        ],
    )
    units = write_stock(
        tmp_path / "StockUniteLegale.csv",
        UNITE_LEGALE_HEADER,
        [
            {
                "siren": siren,
                "statutDiffusionUniteLegale": diffusion,
                "denominationUniteLegale": name,
                "nomUniteLegale": surname,
                "prenom1UniteLegale": first,
                "categorieJuridiqueUniteLegale": category,
                "etatAdministratifUniteLegale": "A",
            }
            for siren, diffusion, name, surname, first, category in UNITS
        ],
    )
    result = world(SAM, "sirene", "import", establishments, "--unites-legales", units)
    assert result.exit_code == 0, result.stderr
    return world


def create_siret(world, siret, *args, who=MARIE):
    return world.create(who, *args, id_type="SIRET", id=siret, name=None)


def test_str2_siret_data_come_from_sirene(sirene):
    result = create_siret(sirene, "732 829 320 00074", "--label", "Siège")
    assert result.exit_code == 0, result.stderr
    shown = result.json()
    assert shown["identifier"] == DANONE
    assert shown["raison_sociale"] == "DANONE ESSAI SA"
    assert shown["label"] == "Siège"
    assert shown["address"] == {
        "lines": ["17 BOULEVARD HAUSSMANN"],
        "postal_code": "75009",
        "commune": "PARIS",
        "country": None,
    }
    assert (shown["status"], shown["public"], shown["non_diffusible"]) == ("active", False, False)
    table = sirene(MARIE, "structure", "show", DANONE)
    assert "17 BOULEVARD HAUSSMANN, 75009 PARIS" in table.stdout


def test_str2_siret_raison_sociale_comes_from_sirene_not_the_command_line(sirene, unchanged):
    with unchanged():
        result = sirene.create(id_type="SIRET", id=DANONE, name="Ma société")
    assert result.exit_code == 2
    assert "(STR-2)" in result.stderr


@pytest.mark.parametrize(("siret", "word"), [(UNKNOWN, "inconnu"), (CLOSED, "fermé")])
def test_str2_unknown_or_closed_siret_is_refused(sirene, unchanged, siret, word):
    with unchanged():
        result = create_siret(sirene, siret)
    assert result.exit_code == 1
    assert "(STR-2)" in result.stderr and word in result.stderr


def test_str2_a_bad_siret_is_refused_before_the_register_is_read(world, unchanged):
    with unchanged():
        result = create_siret(world, "732 829 320 00075")
    assert result.exit_code == 2
    assert "(STR-1)" in result.stderr


def test_str3_non_diffusible_siret_keeps_and_shows_no_address(sirene, unchanged):
    with unchanged():
        nameless = create_siret(sirene, HIDDEN)
    assert nameless.exit_code == 2
    assert "(STR-3)" in nameless.stderr and "--raison-sociale" in nameless.stderr

    result = sirene.create(id_type="SIRET", id=HIDDEN, name="Jeanne Martin")
    assert result.exit_code == 0, result.stderr
    assert result.json()["raison_sociale"] == "Jeanne Martin"
    assert result.json()["non_diffusible"] is True
    assert result.json()["address"] is None
    row = structure_row(sirene.cli, HIDDEN)
    assert (row.address, row.postal_code, row.commune, row.country) == (None,) * 4
    shown = sirene(MARIE, "structure", "show", HIDDEN)
    assert "LILAS" not in shown.stdout and "69003" not in shown.stdout


def test_str5_existing_siret_is_refused_with_the_attachment_hint(sirene, unchanged):
    create_siret(sirene, DANONE)
    with unchanged():
        result = create_siret(sirene, "732.829.320.00074", who=PAUL)
    assert result.exit_code == 1
    assert f"--structure {DANONE}" in result.stderr


def test_str6_a_public_siret_waits_for_support(sirene):
    result = create_siret(sirene, VILLEURBANNE)
    assert result.exit_code == 0, result.stderr
    assert (result.json()["status"], result.json()["public"]) == ("pending", True)
    assert mails_of(sirene.cli, MARIE, "attend l'approbation")
    assert sirene(SAM, "structure", "approve", VILLEURBANNE).exit_code == 0


def test_str6_helios_structures_are_for_admins_and_the_departments_correspondent(sirene, unchanged):
    grant_role(sirene.cli, PAUL, "correspondent", "75")
    for who in (MARIE, PAUL):
        with unchanged():
            result = create_siret(sirene, VILLEURBANNE, "--helios", who=who)
        assert result.exit_code == 4, (who, result.stderr)
        assert "69" in result.stderr

    grant_role(sirene.cli, PIERRE, "correspondent", "69")
    result = create_siret(sirene, VILLEURBANNE, "--helios", who=PIERRE)
    assert result.exit_code == 0, result.stderr
    assert (result.json()["status"], result.json()["helios"]) == ("active", True)
    assert mails_of(sirene.cli, PIERRE, "attend l'approbation") == []


def test_str6_helios_applies_to_public_entities_only(sirene, unchanged):
    grant_role(sirene.cli, PIERRE, "admin")
    with unchanged():
        result = create_siret(sirene, DANONE, "--helios", who=PIERRE)
    assert result.exit_code == 1
    assert "(STR-6)" in result.stderr


def test_str9_search_a_siret_by_its_siren_or_its_name(sirene):
    create_siret(sirene, DANONE)
    assert found(sirene, "732 829 320") == [DANONE]
    assert found(sirene, "danone essai") == [DANONE]
    assert found(sirene, DANONE) == [DANONE]
