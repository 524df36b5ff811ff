"""OPS-7: `chorus db copy --to URL`, the whole store into an empty one. The source is the
test's store; the target is the other engine: SQLite → PostgreSQL (the main case) and
PostgreSQL → SQLite."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.test_seed import ADMIN, as_admin, seeded


@pytest.fixture
def target(cli, tmp_path, request):
    """An empty store of the other engine than the test's."""
    if cli.url.startswith("sqlite"):
        from sqlalchemy import text

        base, admin = request.getfixturevalue("pg_base")
        name = "copy_" + uuid.uuid4().hex[:10]
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield f"{base}/{name}"
        from chorus_cli.store import engine as engine_module

        engine_module.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        return
    yield f"sqlite:///{tmp_path / 'copy.db'}"


@pytest.fixture
def filled(cli):
    """A seeded store (its SIRENE entries included), an admin logged in."""
    seeded(cli, "--seed", "4")
    as_admin(cli)
    return cli


def exports(cli, db: str | None = None) -> dict[str, str]:
    extra = ["--db", db] if db else []
    return {
        kind: cli("bulk", "export", kind, *extra).stdout
        for kind in ("accounts", "structures", "attachments", "habilitations")
    }


def test_ops7_the_copy_holds_everything_and_the_session_follows(filled, target):
    copied = filled("db", "copy", "--to", target, "--json")
    assert copied.exit_code == 0, copied.stderr
    summary = copied.json()
    assert summary["rows"] == sum(summary["tables"].values()) > 3000
    assert "OPS-7" in copied.stderr
    assert exports(filled, target) == exports(filled)
    whoami = filled("whoami", "--json", "--db", target)  # the same session, on the copy
    assert whoami.exit_code == 0, whoami.stderr
    mails = filled("mail", "list", "--json", "--db", target).json()
    assert len(mails) == len(filled("mail", "list", "--json").json())


def test_ops7_after_the_copy_logins_and_new_rows_work(filled, target):
    assert filled("db", "copy", "--to", target).exit_code == 0
    # New rows take ids past the copied ones (PostgreSQL's sequences were moved).
    created = filled("account", "create", "--email", "new.one@example.fr", "--last-name", "N",
                     "--first-name", "O", "--db", target)  # fmt: skip
    assert created.exit_code == 0, created.stderr
    filled("logout", "--db", target)
    filled.url = target  # log in against the copy, as a user pointed at it would
    filled.env["CHORUS_DATABASE_URL"] = target
    assert filled.login(ADMIN).exit_code == 0
    assert filled("whoami", "--json").json()["login_email"] == ADMIN


def test_ops7_sirene_is_searchable_on_the_copy(filled, target):
    assert filled("db", "copy", "--to", target).exit_code == 0
    lines = filled("bulk", "export", "structures", "--format", "jsonl").stdout.splitlines()
    wanted = json.loads(lines[5])
    word = wanted["raison_sociale"].split()[0]
    found = filled("sirene", "search", word, "--json", "--db", target)
    assert found.exit_code == 0, found.stderr
    assert wanted["identifier"] in {row["siret"] for row in found.json()}
    lookup = filled("sirene", "lookup", wanted["identifier"], "--json", "--db", target)
    assert lookup.json()["raison_sociale"] == wanted["raison_sociale"]


def test_ops7_str9_structures_are_searched_by_name_on_the_copy(filled, target):
    """The copy's rows go through the target's triggers: on a SQLite copy the word index
    finds what STR-9's rule finds (tests/test_structure_words.py)."""
    from tests.test_structure_words import check_searches

    assert filled("db", "copy", "--to", target).exit_code == 0
    exported = filled("bulk", "export", "structures", "--format", "jsonl").stdout
    names = [json.loads(line)["raison_sociale"] for line in exported.splitlines()]
    words = sorted({w for name in names for w in name.lower().split()})
    searches = [*names[:10], *words, *{w[:2] for w in words}]
    assert check_searches(target, searches) > len(words)


def test_ops7_a_target_holding_data_is_refused_and_left_alone(filled, target):
    assert filled("db", "copy", "--to", target).exit_code == 0
    before = exports(filled, target)
    again = filled("db", "copy", "--to", target)
    assert again.exit_code == 1 and "OPS-7" in again.stderr
    assert exports(filled, target) == before


def test_ops7_the_store_itself_is_not_a_target(filled, unchanged):
    with unchanged():
        refused = filled("db", "copy", "--to", filled.url)
    assert refused.exit_code == 2 and "OPS-7" in refused.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://nobody:secret@127.0.0.1:1/none",  # nothing listens there
        "sqlite:////no/such/folder/copy.db",
        "mysql+nosuchdriver://x@localhost/db",
    ],
)
def test_ops7_an_unusable_target_is_one_sentence(filled, unchanged, url):
    with unchanged():
        refused = filled("db", "copy", "--to", url)
    assert refused.exit_code == 2
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "secret" not in refused.stderr


def test_ops7_no_session_is_needed(cli, target):
    seeded(cli, "--seed", "2")
    copied = cli("db", "copy", "--to", target)
    assert copied.exit_code == 0, copied.stderr
    assert "Votre session" not in copied.stderr  # none to follow
    as_admin(cli, db=target)
    assert ADMIN in cli("account", "list", "--search", "ada", "--db", target).stdout


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the copy to PostgreSQL
def test_ops7_a_postgresql_copy_is_vacuumed_and_analyzed(store_url, filled, target):
    """After the load, PostgreSQL's planner has the copied tables' statistics and their
    pages are vacuumed (a search by name was 14× slower before autovacuum came by)."""
    from sqlalchemy import text

    from chorus_cli.store import engine as engine_module

    assert filled("db", "copy", "--to", target).exit_code == 0
    with engine_module.get_engine(target, migrate=False).connect() as conn:
        stats = dict(conn.execute(text(
            "SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
            " FROM pg_stat_user_tables"
        )).all())  # fmt: skip
    assert stats["structure"] and stats["account"] and stats["audit_entry"], stats


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the copy to PostgreSQL
def test_ops7_a_vacuum_that_fails_after_the_copy_leaves_it_reported_whole(
    store_url, filled, target
):
    """The copy is committed before VACUUM (ANALYZE): when that fails (here it waits on a
    lock another session holds past the server's lock_timeout), the copy is not reported
    failed (exit 0, its summary) and a sentence says the statistics are left to autovacuum;
    every row is there."""
    from sqlalchemy import text

    from chorus_cli.store import engine as engine_module

    engine_module.get_engine(target)  # migrated, empty: a copy's target still
    engine_module.dispose_all()
    holder = engine_module.get_engine(target, migrate=False).connect()
    holder.execute(text("LOCK TABLE sirene_meta IN SHARE UPDATE EXCLUSIVE MODE"))  # VACUUM's
    try:
        impatient = f"{target}?options=-c%20lock_timeout%3D300"
        copied = filled("db", "copy", "--to", impatient)
    finally:
        holder.rollback()
        holder.close()
    assert copied.exit_code == 0, copied.stderr
    assert "VACUUM (ANALYZE)" in copied.stderr and "lock timeout" in copied.stderr
    assert "La copie est complète et enregistrée" in copied.stderr
    counts = "SELECT (SELECT count(*) FROM structure), (SELECT count(*) FROM account)"
    with engine_module.get_engine(filled.url).connect() as conn:
        source = tuple(conn.execute(text(counts)).one())
    with engine_module.get_engine(target, migrate=False).connect() as conn:
        assert tuple(conn.execute(text(counts)).one()) == source != (0, 0)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the copy to PostgreSQL
@pytest.mark.parametrize("mode", ["ACCESS EXCLUSIVE", "SHARE"])
def test_ops7_sec10_a_lock_on_the_target_is_said_of_the_target(store_url, filled, target, mode):
    """A table of the target locked by another session past the lock timeout: exit 1,
    SEC-10's sentence names the target store (not the command's, the source), nothing
    copied; whether the lock stops the check that the target is empty (ACCESS EXCLUSIVE:
    no read) or the copy's writes (SHARE: reads pass, inserts wait)."""
    from sqlalchemy import text

    from chorus_cli.store import engine as engine_module
    from chorus_cli.store.keychain import store_id

    engine_module.get_engine(target)  # migrated, empty: a copy's target still
    engine_module.dispose_all()
    holder = engine_module.get_engine(target, migrate=False).connect()
    holder.execute(text(f"LOCK TABLE structure IN {mode} MODE"))
    impatient = f"{target}?options=-c%20lock_timeout%3D300"
    try:
        copied = filled("db", "copy", "--to", impatient)
    finally:
        holder.rollback()
        holder.close()
    assert copied.exit_code == 1, copied.stderr
    assert "SEC-10" in copied.stderr, copied.stderr
    assert store_id(impatient) in copied.stderr, copied.stderr
    assert store_id(filled.url) not in copied.stderr, copied.stderr
    with engine_module.get_engine(target, migrate=False).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM account")).scalar_one() == 0
