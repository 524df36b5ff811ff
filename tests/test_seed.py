"""OPS-3: `chorus seed`, a realistic French store, the same for the same seed; on SQLite
and PostgreSQL. Read back through the CLI as an admin bootstrapped after the seed."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import PASSWORD

ADMIN = "ada.admin@example.fr"
SIZES = ("--accounts", "300", "--structures", "30")


def seeded(cli, *extra: str, db: str | None = None):
    args = ["seed", *SIZES, *extra, "--json"] + (["--db", db] if db else [])
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return result


def as_admin(cli, db: str | None = None):
    """Bootstrap the first admin after the seed (it made none) and log in."""
    extra = ["--db", db] if db else []
    booted = cli("admin", "bootstrap", "--email", ADMIN, "--last-name", "A", "--first-name",
                 "Ada", *extra)  # fmt: skip
    assert booted.exit_code == 0, booted.stderr
    mails = cli("mail", "list", "--to", ADMIN, "--json", *extra).json()
    link = re.search(r"https?://\S+token=\S+", mails[0]["body"]).group(0)
    cli("account", "activate", link, "--password-stdin", *extra, input=PASSWORD + "\n")
    cli("login", ADMIN, "--password-stdin", *extra, input=PASSWORD + "\n")
    code = re.search(r"\b\d{6}\b", cli("mail", "list", "--to", ADMIN, "--json", *extra)
                     .json()[0]["body"]).group(0)  # fmt: skip
    assert cli("login", ADMIN, "--code", code, *extra).exit_code == 0


def exported(cli, kind: str, db: str | None = None) -> list[dict]:
    extra = ["--db", db] if db else []
    result = cli("bulk", "export", kind, "--format", "jsonl", *extra)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def store(cli):
    made = seeded(cli, "--seed", "7")
    as_admin(cli)
    return cli, made


def test_ops3_the_same_seed_gives_byte_identical_exports(cli, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    seeded(cli, "--seed", "7")
    seeded(cli, "--seed", "7", db=other)
    as_admin(cli)
    as_admin(cli, db=other)
    for kind in ("accounts", "structures", "attachments", "habilitations"):
        mine = cli("bulk", "export", kind).stdout
        theirs = cli("bulk", "export", kind, "--db", other).stdout
        assert mine == theirs, kind
        assert len(mine.splitlines()) > 30


def test_ops3_another_seed_gives_other_data(cli, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    seeded(cli, "--seed", "7")
    seeded(cli, "--seed", "8", db=other)
    as_admin(cli)
    as_admin(cli, db=other)
    assert exported(cli, "accounts") != exported(cli, "accounts", db=other)


def test_ops3_structures_have_valid_sirets_that_sirene_finds(store):
    from stdnum.fr import siret

    cli, _made = store
    rows = exported(cli, "structures")
    assert len(rows) == 30
    for row in rows:
        assert row["id_type"] == "SIRET" and siret.is_valid(row["identifier"])
    found = cli("sirene", "lookup", rows[0]["identifier"], "--json")
    assert found.exit_code == 0 and found.json()["raison_sociale"] == rows[0]["raison_sociale"]
    searched = cli("sirene", "search", rows[3]["raison_sociale"].split()[0], "--json")
    assert rows[3]["identifier"] in {r["siret"] for r in searched.json()}


def test_ops3_public_structures_in_several_departments_and_one_non_diffusible(store):
    cli, _made = store
    rows = exported(cli, "structures")
    public = [r for r in rows if r["public"]]
    departments = {r["address"]["postal_code"][:2] for r in public if r["address"]}
    assert len(public) >= 3 and len(departments) >= 2
    assert all(r["status"] == "active" and r["helios"] for r in public)  # STR-6
    hidden = [r for r in rows if r["non_diffusible"]]
    assert len(hidden) == 1 and hidden[0]["address"] is None  # STR-3
    assert any(r["services"] for r in rows)


def test_ops3_every_account_attached_with_defaults_and_one_primary_manager_each(store):
    cli, _made = store
    accounts = [a for a in exported(cli, "accounts") if a["login_email"] != ADMIN]
    attachments = exported(cli, "attachments")
    assert len(accounts) == 300
    assert {a["login_email"] for a in attachments} == {a["login_email"] for a in accounts}
    primaries = [a for a in attachments if a["role"] == "primary"]
    assert len(primaries) == 30 and len({a["structure"] for a in primaries}) == 30
    profiles = exported(cli, "habilitations")
    assert len(profiles) == 300 * 9
    organisation = {(p["login_email"], p["structure"]): p["level"] for p in profiles
                    if p["application"] == "organisation"}  # fmt: skip
    for attachment in attachments:
        level = organisation[(attachment["login_email"], attachment["structure"])]
        assert level == ("modification" if attachment["role"] == "primary" else "consultation")


def test_ops3_realistic_accounts_that_pass_acc1(store, tmp_path):
    cli, _made = store
    accounts = [a for a in exported(cli, "accounts") if a["login_email"] != ADMIN]
    phones = [a["phone"] for a in accounts if a["phone"]]
    assert phones and all(re.fullmatch(r"\+33[1-9]\d{8}", p) for p in phones)
    assert any(a["workplace_address"] for a in accounts)
    assert {a["status"] for a in accounts} == {"active", "pending"}
    # The seeded data passes the rules of the single commands: it re-imports unchanged.
    flow = tmp_path / "accounts.csv"
    flow.write_text(cli("bulk", "export", "accounts").stdout, encoding="utf-8")
    again = cli("bulk", "import", str(flow), "--kind", "accounts", "--json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["unchanged"] == 301


def test_ops3_active_accounts_log_in_with_the_one_printed_password(cli):
    made = seeded(cli, "--seed", "3")
    password = re.search(r"\(.*\) : (\S+)$", made.stderr.strip().splitlines()[-1]).group(1)
    assert made.stderr.count(password) == 1 and password not in made.stdout
    as_admin(cli)
    active = next(a for a in exported(cli, "accounts") if a["status"] == "active"
                  and a["login_email"] != ADMIN)  # fmt: skip
    cli("logout")
    assert cli.login(active["login_email"], password).exit_code == 0


def printed_password(made) -> str:
    return re.search(r"\(.*\) : (\S+)$", made.stderr.strip().splitlines()[-1]).group(1)


def test_ops3_the_same_seed_prints_the_same_password(cli, tmp_path):
    """OPS-3: the same --seed gives the same data, the password included (it was drawn
    from `secrets` at each run)."""
    first = printed_password(seeded(cli, "--seed", "7"))
    second = printed_password(seeded(cli, "--seed", "7", db=f"sqlite:///{tmp_path / 'a.db'}"))
    other = printed_password(seeded(cli, "--seed", "8", db=f"sqlite:///{tmp_path / 'b.db'}"))
    assert first == second and other != first


def test_ops3_password_stdin_chooses_the_password_and_prints_none(cli):
    chosen = "Choisi-Pour-Les-Tests-2026!"
    made = cli("seed", *SIZES, "--seed", "3", "--password-stdin", input=chosen + "\n")
    assert made.exit_code == 0, made.stderr
    assert chosen not in made.stderr and "affiché une seule fois" not in made.stderr
    as_admin(cli)
    active = next(a for a in exported(cli, "accounts") if a["status"] == "active"
                  and a["login_email"] != ADMIN)  # fmt: skip
    cli("logout")
    assert cli.login(active["login_email"], chosen).exit_code == 0


def test_ops3_a_weak_password_from_stdin_is_refused_before_anything(cli, unchanged):
    with unchanged():
        made = cli("seed", *SIZES, "--password-stdin", input="court\n")
    assert made.exit_code == 2 and "ACC-5" in made.stderr


def test_ops3_pending_accounts_have_their_activation_mail(store):
    cli, made = store
    pending = [a for a in exported(cli, "accounts") if a["status"] == "pending"]
    assert len(pending) == made.json()["pending_accounts"] > 0
    link = cli.last_link(pending[0]["login_email"])
    activated = cli("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    assert activated.exit_code == 0, activated.stderr


def test_ops3_some_attachment_requests_wait_for_the_primary_manager(store):
    cli, made = store
    requests = cli("attach", "pending", "--json")
    assert requests.exit_code == 0
    assert len(requests.json()) == made.json()["requests"] > 0
    request = requests.json()[0]
    managers = {a["structure"]: a["login_email"] for a in exported(cli, "attachments")
                if a["role"] == "primary"}  # fmt: skip
    assert request["approver"] == managers[request["structure"]]


def test_ops3_seed_makes_no_platform_role_and_is_audited_as_system(cli):
    seeded(cli, "--seed", "5")
    as_admin(cli)  # bootstrap still works: the seed made no admin
    roles = cli("admin", "roles", "--json").json()
    assert [(r["login_email"], r["role"]) for r in roles] == [(ADMIN, "admin")]
    entry = cli("audit", "list", "--action", "seed", "--json").json()[0]
    assert entry["actor"] == "system" and entry["details"]["seed"] == 5


def test_ops3_a_store_with_data_is_refused(cli, unchanged):
    cli.create("someone@example.fr")
    with unchanged():
        refused = cli("seed", *SIZES)
    assert refused.exit_code == 1 and "OPS-3" in refused.stderr


@pytest.mark.parametrize(
    "sizes",
    [
        ("--accounts", "-1"),
        ("--accounts", "2000000"),
        ("--accounts", "10", "--structures", "20"),  # a primary manager each
        ("--accounts", "10", "--structures", "0"),
        ("--structures", "-3"),
    ],
)
def test_ops3_bad_sizes_are_bad_input(cli, unchanged, sizes):
    with unchanged():
        refused = cli("seed", *sizes)
    assert refused.exit_code == 2 and "OPS-3" in refused.stderr


def _indexes(url: str) -> dict[str, list[tuple]]:
    from sqlalchemy import inspect

    from chorus_cli.store import engine as engine_module

    engine = engine_module.get_engine(url)
    with engine.connect() as conn:
        found = inspect(conn)
        return {
            table: sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            )
            for table in found.get_table_names()
        }


def test_ops3_seed_leaves_every_index_as_the_migrations_made_it(cli):
    """The seed builds the plain indexes of the tables it fills after their rows (one
    sort each): the store ends with the same indexes, which still serve."""
    before = _indexes(cli.url)
    assert any(i[0] == "ix_habilitation_structure_id" for i in before["habilitation"])
    seeded(cli, "--seed", "3")
    assert _indexes(cli.url) == before
    as_admin(cli)
    one = exported(cli, "accounts")[5]["login_email"]
    shown = cli("account", "show", one, "--json")
    assert shown.exit_code == 0 and shown.json()["login_email"] == one
