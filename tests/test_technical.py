"""TECH-1, TECH-2, API-2: technical accounts and API clients, on SQLite and PostgreSQL.

The cast is test_members' world: Marie the primary manager of her bakery, Odile a
manager there («Organisation modification») but not primary, Pierre a plain member,
Sam support, Ada admin. The domain functions the API server will call
(``technical.authenticate``, ``authz.require_technical``, ``api_clients.verify``,
``issue_token``, ``check_token``) are tested here on real stores, without HTTP.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.conftest import PASSWORD, snapshot
from tests.memory_keyring import MemoryKeyring
from tests.test_members import ADA, BAKERY, MARIE, ODILE, PIERRE, SAM, listed
from tests.test_members import world as world  # the shared world (fixture)

LOGIN = f"TECH_1_{BAKERY}@cpro.fr"


def uow_of(cli):
    from chorus_cli.config import Settings
    from chorus_cli.store.uow import UnitOfWork

    return UnitOfWork(Settings.from_env(cli.url), cli.clock)


def create(world, who=MARIE):
    return world(who, "account", "technical", "create", "--structure", BAKERY, "--format", "json")


def everything_stored(cli) -> str:
    """Every row of the store, as text: where a secret must not be."""
    return json.dumps(snapshot(cli.url), default=str)


def test_tech1_primary_manager_creates_a_technical_account_printed_once_and_hashed(world):
    cli = world.cli
    made = create(world)
    assert made.exit_code == 0, made.stderr
    shown = made.json()
    assert set(shown) == {"login", "password", "structure", "expires_at"}
    assert shown["login"] == LOGIN and shown["structure"] == BAKERY
    password = shown["password"]
    assert len(password) >= 32 and password not in made.stderr
    # Hashed at rest with Argon2; the password is nowhere in the store (audit, outbox).
    stored = everything_stored(cli)
    assert password not in stored
    from sqlmodel import select

    from chorus_cli.store.models import TechnicalAccount

    with uow_of(cli) as uow:
        row = uow.session.exec(select(TechnicalAccount)).one()
        assert row.password_hash.startswith("$argon2id$") and row.password_hash != password
    # Never shown again: the listing has no password.
    rows = world(MARIE, "account", "technical", "list", "--json").json()
    assert [r["login"] for r in rows] == [LOGIN] and "password" not in rows[0]
    from chorus_cli.domain import technical

    assert tuple(rows[0]) == technical.FIELDS  # as `list` declares, in order (OUT-3)
    # A second one is numbered 2.
    assert create(world).json()["login"] == f"TECH_2_{BAKERY}@cpro.fr"
    audit = world(ADA, "audit", "list", "--action", "technical", "--json").json()
    assert [e["action"] for e in audit] == ["technical.create"] * 2


def test_tech1_only_the_primary_manager_or_an_admin_creates_one(world):
    before = snapshot(world.cli.url)
    for who in (ODILE, PIERRE, SAM):
        refused = create(world, who)
        assert refused.exit_code == 4, (who, refused.stderr)
        assert "TECH-1" in refused.stderr
    assert snapshot(world.cli.url) == before
    assert create(world, ADA).exit_code == 0


def test_tech1_login_refuses_a_technical_account_before_reading_a_password(world):
    login = create(world).json()["login"]
    refused = world.cli("login", login, "--password-stdin", input="whatever\n")
    assert refused.exit_code == 4
    assert "TECH-1" in refused.stderr and login.lower() in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_tech1_shown_in_structure_members_and_exported(world):
    create(world)
    rows = listed(world, MARIE, BAKERY)
    technical = [r for r in rows if r["role"] == "technical"]
    assert [r["login_email"] for r in technical] == [LOGIN]
    assert technical[0]["status"] == "active"
    assert len(rows) == 1 + len([r for r in rows if r["role"] != "technical"])
    # Paging counts them: the last page of one row is the technical account.
    last = listed(world, MARIE, BAKERY, "--limit", "1", "--offset", str(len(rows) - 1))
    assert [r["login_email"] for r in last] == [LOGIN]
    # Filters about people (a service, a profile) leave them out.
    assert all(r["role"] != "technical" for r in listed(world, MARIE, BAKERY, "--profile", "org"))
    exported = world(ADA, "bulk", "export", "technical", "--format", "csv")
    assert exported.exit_code == 0, exported.stderr
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["login"] for r in table] == [LOGIN] and table[0]["structure"] == BAKERY
    assert "$argon2" not in exported.stdout


def test_tech2_password_expires_after_424_days_and_reset_gives_a_new_one(world):
    from chorus_cli.domain import technical

    cli = world.cli
    first = create(world).json()
    with uow_of(cli) as uow:
        assert technical.authenticate(uow, first["login"].lower(), first["password"]).id
    for who in (ODILE, PIERRE, SAM):
        assert world(who, "account", "technical", "reset-password", LOGIN).exit_code == 4
    cli.clock.advance(days=424)
    with uow_of(cli) as uow, pytest.raises(technical.PasswordExpired) as expired:
        technical.authenticate(uow, first["login"], first["password"])
    assert expired.value.exit_code == 5
    for who in (MARIE, ADA):  # 424 days later, their sessions are long gone
        MemoryKeyring.entries = {}
        assert cli.login(who).exit_code == 0
        world.sessions[who] = dict(MemoryKeyring.entries)
    listing = world(MARIE, "account", "technical", "list", "--json").json()
    assert listing[0]["status"] == "expired"
    reset = world(MARIE, "account", "technical", "reset-password", LOGIN, "--json")
    assert reset.exit_code == 0, reset.stderr
    again = reset.json()
    assert again["password"] != first["password"] and again["expires_at"] > first["expires_at"]
    assert again["password"] not in everything_stored(cli)
    with uow_of(cli) as uow:
        assert technical.authenticate(uow, LOGIN, again["password"]).login == LOGIN
        with pytest.raises(technical.TechnicalRefused):
            technical.authenticate(uow, LOGIN, first["password"])
    audit = world(ADA, "audit", "list", "--target", LOGIN, "--json").json()
    assert [e["action"] for e in audit] == ["technical.reset_password", "technical.create"]


def test_tech1_authenticate_gives_the_same_error_for_unknown_login_and_wrong_password(world):
    from chorus_cli.domain import technical

    made = create(world).json()
    with uow_of(world.cli) as uow:
        errors = []
        for login, password in (
            (made["login"], "wrong-Password-1"),
            (f"TECH_9_{BAKERY}@cpro.fr", made["password"]),
            ("marie.curie@example.fr", PASSWORD),
        ):
            with pytest.raises(technical.TechnicalRefused) as refused:
                technical.authenticate(uow, login, password)
            errors.append((type(refused.value), refused.value.key, refused.value.params))
        assert len(set(map(repr, errors))) == 1


def test_tech1_technical_account_has_the_primary_managers_rights_on_its_structure_only(world):
    from sqlmodel import col, select

    from chorus_cli.domain import authz, technical
    from chorus_cli.kernel.errors import NotAllowed
    from chorus_cli.store.models import Structure

    made = create(world).json()
    with uow_of(world.cli) as uow:
        account = technical.authenticate(uow, made["login"], made["password"])
        named = select(Structure).where(col(Structure.identifier) == BAKERY)
        bakery = uow.session.exec(named).one()
        other = uow.session.exec(select(Structure).where(col(Structure.id) != bakery.id)).first()
        assert authz.technical_allowed(uow, account, "organisation", "modification", bakery)
        with pytest.raises(NotAllowed):
            authz.require_technical(uow, account, "organisation", "consultation", other)
        # TECH-2: a use is audited with the technical account as actor, its last use kept.
        technical.record_use(uow, account, "api.consulter", bakery.identifier)
        uow.commit()
    rows = world(MARIE, "account", "technical", "list", "--json").json()
    assert rows[0]["last_used_at"] is not None
    audit = world(ADA, "audit", "list", "--actor", made["login"], "--json").json()
    assert [e["action"] for e in audit] == ["api.consulter"]


def test_tech2_delete_asks_for_confirmation_and_keeps_the_audit(world):
    create(world)
    assert world(PIERRE, "account", "technical", "delete", LOGIN, "--yes").exit_code == 4
    kept = world(MARIE, "account", "technical", "delete", LOGIN, input="n\n")
    assert kept.exit_code == 1
    assert len(world(MARIE, "account", "technical", "list", "--json").json()) == 1
    gone = world(MARIE, "account", "technical", "delete", LOGIN, "--yes")
    assert gone.exit_code == 0, gone.stderr
    assert world(MARIE, "account", "technical", "list", "--json").json() == []
    assert world(MARIE, "account", "technical", "delete", LOGIN, "--yes").exit_code == 3
    audit = world(ADA, "audit", "list", "--target", LOGIN, "--json").json()
    assert [e["action"] for e in audit] == ["technical.delete", "technical.create"]


def test_tech1_seed_creates_one_technical_account_per_structure_with_a_given_password(cli):
    password = "Techn1que-Seed-Pass!"
    seeded = cli("seed", "--accounts", "20", "--structures", "3", "--technical-accounts",
                 "--technical-password-stdin", "--json", input=password + "\n")  # fmt: skip
    assert seeded.exit_code == 0, seeded.stderr
    assert seeded.json()["technical_accounts"] == 3
    assert password not in seeded.stderr + seeded.stdout
    assert password not in everything_stored(cli)
    from sqlmodel import col, select

    from chorus_cli.domain import technical
    from chorus_cli.store.models import Structure, TechnicalAccount

    with uow_of(cli) as uow:
        rows = uow.session.exec(select(TechnicalAccount).order_by(col(TechnicalAccount.id))).all()
        identifiers = uow.session.exec(select(Structure.identifier).order_by(col(Structure.id)))
        assert [r.login for r in rows] == [f"TECH_1_{i}@cpro.fr" for i in identifiers.all()]
        assert technical.authenticate(uow, rows[0].login, password).id == rows[0].id


def test_tech1_seed_prints_a_generated_technical_password_once(cli):
    seeded = cli("seed", "--accounts", "4", "--structures", "2", "--technical-accounts")
    assert seeded.exit_code == 0, seeded.stderr
    found = re.findall(r"techni\w+[^:\n]*: (\S+)", seeded.stderr)
    assert len(found) == 1
    assert found[0] not in everything_stored(cli)


# --- API-2: clients and bearer tokens --------------------------------------------------


def test_api2_sec1_admin_adds_a_client_whose_secret_is_printed_once_and_hashed(world):
    cli = world.cli
    for who in (MARIE, SAM):
        assert world(who, "api", "client", "add", "ERP").exit_code == 4
    added = world(ADA, "api", "client", "add", "ERP Mairie", "--json")
    assert added.exit_code == 0, added.stderr
    shown = added.json()
    secret, client_id = shown["client_secret"], shown["client_id"]
    assert len(secret) >= 43 and secret not in added.stderr
    assert secret not in everything_stored(cli)
    assert world(ADA, "api", "client", "add", "erp  mairie ").exit_code == 1  # taken
    for bad in ("ERP\u202emairie", "ERP\x1b[2J", " ", "x" * 101):  # SEC-1, 1..100
        refused = world(ADA, "api", "client", "add", bad)
        assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
    listing = world(ADA, "api", "client", "list", "--json").json()
    assert [c["client_id"] for c in listing] == [client_id]
    assert "client_secret" not in listing[0] and secret not in json.dumps(listing)
    from chorus_cli.domain import api_clients

    assert tuple(listing[0]) == api_clients.FIELDS  # as `list` declares, in order (OUT-3)
    from chorus_cli.domain import api_clients

    with uow_of(cli) as uow:
        client = api_clients.verify(uow, client_id, secret)
        errors = set()
        for cid, sec in ((client_id, secret[:-1] + "x"), ("0" * 32, secret), (client_id, "")):
            with pytest.raises(api_clients.ClientRefused) as refused:
                api_clients.verify(uow, cid, sec)
            errors.add((refused.value.key, repr(refused.value.params)))
        assert len(errors) == 1
        tokens = api_clients.Tokens()
        token = tokens.issue(uow, client)
        uow.commit()
    assert token.view()["token_type"] == "Bearer" and token.view()["expires_in"] == 3600
    assert token.view()["scope"] == "openid"
    assert token.access_token not in everything_stored(cli)
    (listed,) = world(ADA, "api", "client", "list", "--json").json()
    assert listed["last_used_at"] == listing[0]["created_at"]  # its last token, from the audit
    assert listing[0]["last_used_at"] is None
    with uow_of(cli) as uow:
        assert tokens.check(uow, token.access_token).client_id == client_id
        assert tokens.client_of(token.access_token) == str(client.id)
        number, _, signature = token.access_token.split(".")
        forged = f"{number}.9999999999.{signature}"  # a later expiry, same signature
        for wrong in (token.access_token + "x", forged, "1.2.3.4", ""):
            assert tokens.client_of(wrong) is None
            with pytest.raises(api_clients.TokenRefused):
                tokens.check(uow, wrong)
        with pytest.raises(api_clients.TokenRefused):  # another server's key: not ours
            api_clients.Tokens().check(uow, token.access_token)
    cli.clock.advance(seconds=3600)
    with uow_of(cli) as uow, pytest.raises(api_clients.TokenRefused):
        tokens.check(uow, token.access_token)


def test_api2_removing_a_client_revokes_its_tokens(world):
    from chorus_cli.domain import api_clients

    cli = world.cli
    shown = world(ADA, "api", "client", "add", "ERP", "--json").json()
    tokens = api_clients.Tokens()
    with uow_of(cli) as uow:
        client = api_clients.verify(uow, shown["client_id"], shown["client_secret"])
        token = tokens.issue(uow, client).access_token
        uow.commit()
    assert world(MARIE, "api", "client", "remove", "ERP").exit_code == 4
    removed = world(ADA, "api", "client", "remove", shown["client_id"])
    assert removed.exit_code == 0, removed.stderr
    assert world(ADA, "api", "client", "remove", "ERP").exit_code == 3
    with uow_of(cli) as uow:
        with pytest.raises(api_clients.TokenRefused):
            tokens.check(uow, token)
        with pytest.raises(api_clients.ClientRefused):
            api_clients.verify(uow, shown["client_id"], shown["client_secret"])
    # A client added later (on SQLite, under the number the removed one set free) does
    # not inherit its tokens.
    cli.clock.advance(seconds=1)
    assert world(ADA, "api", "client", "add", "ERP 2").exit_code == 0
    with uow_of(cli) as uow, pytest.raises(api_clients.TokenRefused):
        tokens.check(uow, token)
    actions = [e["action"] for e in world(ADA, "audit", "list", "--action", "api", "--json").json()]
    assert actions == ["api.client_add", "api.client_remove", "api.token", "api.client_add"]
