"""STR-9, API-1: the index of the structures' search words (migrations 0017, 0018).

A search by name finds the structures whose words each term begins (or, several terms,
whose identifier they begin in one piece): the conditions of ``structures.words_rule``
are that rule. A word index finds the candidates first
(``words_match``): on SQLite an FTS5 table (``structure_words``) kept by triggers on
``structure``; on PostgreSQL a GIN index of the words as lexemes. Whatever writes ``structure`` (a
command, a flow, the seed, a deletion), a search finds what the rule finds, no more, no
less: checked here against the rule computed in Python on every row.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from chorus_cli.domain.structures import (
    lexemes_query,
    search_terms,
    words_lexemes_match,
    words_match,
    words_query,
    words_rule,
    words_values,
)
from chorus_cli.store import engine as engine_module
from tests.test_bulk import REGIE, imported, write
from tests.test_provisioning import ADA, BAKERY, COMMUNE, MARIE, public

sqlite_only = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
postgresql_only = pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)

# Names a tokeniser could split otherwise than chorus' words (kernel/words.py): letters
# left non-ASCII once unaccented, other scripts, digits, one-letter words, FTS5's own
# syntax, ligatures and full-width letters; with identifiers in several pieces (HORS_UE).
NAMES = [
    ("HORS_UE", "NO-ORSTED", "Ørsted Énergie Danmark"),
    ("HORS_UE", "UA-LODZ IMPORT", "Łódź Import Eksport"),
    ("HORS_UE", "AL-ELLINIKI", "Ελληνική Εταιρεία Ναυτιλίας"),
    ("HORS_UE", "JP-TOKYO 2", "東京商事 株式会社"),
    ("HORS_UE", "US-3M FRANCE", "3M France 2024"),
    ("HORS_UE", "US-A B", "A B Conseil"),
    ("HORS_UE", "US-ACME CORP", 'AND OR NOT NEAR "Star*" Café'),
    ("HORS_UE", "CH-STRASSE", "Straße & Œuvre GmbH"),
    ("HORS_UE", "TR-ISTANBUL", "İstanbul Ticaret"),
    ("HORS_UE", "RS-DZEMAL", "Ǆemal Đorđević Ðuro"),
    ("HORS_UE", "CN-FULLWIDTH", "Ａｃｍｅ Ｗｉｄｅ"),
    ("RIDET", "1234567001", "Boulangerie de Nouméa"),
    ("RIDET", "1234567002", "Boulangerie Nouvelle"),
    ("RIDET", "7654321003", "X"),
]
SEARCHES = [
    *(name for _t, _i, name in NAMES),
    "ørs",
    "ørsted",
    "orsted",
    "łó",
    "lodz",
    "łodz",
    "ελλ",
    "ελληνικη",
    "εταιρεια ναυτ",
    "東京",
    "東京商事",
    "株式",
    "商事",
    "3",
    "3m",
    "2024",
    "20",
    "france 2024",
    "a b",
    "b",
    "conseil b",
    "us acme",
    "usacme",
    "usacmecorp",
    "acme corp",
    "corp acme",
    "no",
    "noorsted",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "NEAR(a b)",
    "and or",
    "*",
    "star*",
    '"star"',
    '"',
    "st*r",
    "café",
    "caf",
    "strasse",
    "straße",
    "oeuvre",
    "œuvre",
    "gmbh strasse",
    "istanbul",
    "i",
    "dzemal",
    "đorđevic",
    "ðuro",
    "acme",
    "ａｃ",
    "wide",
    "boul",
    "boulangerie nou",
    "nouméa",
    "nou",
    "n",
    "x",
    "xy",
    "1234567",
    "1234567001",
    "1234567 002",
    "123456700",
    "val briane",
    "commune",
    "regie eaux",
    "dupont fils",
    "p",
    "de",
    "zz",
]


def rule(search_text: str, terms: list[str]) -> bool:
    """STR-9 in Python: every term begins a word, or the terms begin one in one piece."""
    found = search_text.split()
    each = all(any(w.startswith(t) for w in found) for t in terms)
    whole = len(terms) > 1 and any(w.startswith("".join(terms)) for w in found)
    return each or whole


def check_searches(url: str, searches: list[str] = SEARCHES) -> int:
    """Every search finds, by the statement the domain builds (the store's index asked)
    and by the bare rule, the ids the rule computed in Python finds; the index alone
    finds them too. Returns how many searches found something."""
    from sqlalchemy import select

    from chorus_cli.store.models import Structure

    columns = Structure.__table__.c
    engine = engine_module.get_engine(url)
    hits = 0
    with engine.connect() as conn:
        rows = conn.execute(select(columns.id, columns.search_text)).all()
        for search in searches:
            terms = search_terms(search)
            if not terms:
                continue
            expected = sorted(i for i, t in rows if rule(t, terms))
            values = words_values(terms, "word", conn.dialect.name)
            # The statement of the store's dialect (indexed), the rule alone (the index
            # must add nothing to the rule), the index alone (nor take anything from it).
            for condition in (
                words_match(len(terms), conn.dialect.name),
                words_rule(len(terms), conn.dialect.name),
            ):
                query = select(columns.id).where(condition).order_by(columns.id)
                found = conn.execute(query, values).scalars().all()
                assert found == expected, (search, found, expected)
            assert index_finds(conn, terms) == expected, search
            hits += bool(expected)
    return hits


def index_finds(conn, terms: list[str]) -> list[int]:
    """The ids the store's word index alone finds for ``terms`` (no rule to hide a stale
    or missing entry): SQLite's FTS5 table, PostgreSQL's lexemes."""
    from sqlalchemy import bindparam, select

    from chorus_cli.store.models import Structure

    if conn.dialect.name == "sqlite":
        query = text(
            "SELECT rowid FROM structure_words WHERE structure_words MATCH :q ORDER BY rowid"
        )
        return conn.execute(query, {"q": words_query(terms)}).scalars().all()
    id_ = Structure.__table__.c.id
    query = select(id_).where(words_lexemes_match(bindparam("q"))).order_by(id_)
    return conn.execute(query, {"q": lexemes_query(terms)}).scalars().all()


def imported_names(world, tmp_path, names=NAMES, label: str = ""):
    rows = [(t, i, name, label) for t, i, name in names]
    header = ("id_type", "identifier", "raison_sociale", "label")
    result = imported(world, ADA, write(tmp_path, "s.csv", rows, header, encoding="utf-8"),
                      "structures")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture
def world(cli, worlds):
    return public(worlds, cli)


def test_str9_api1_a_search_finds_what_the_rule_finds_indexed_or_not(world, tmp_path):
    """Bulk-imported structures (set-based inserts, through the triggers), a structure
    SIRENE named by command (the bakery) and by a flow (the commune): every search of
    names in any script, digits, one-letter words, identifiers in pieces and FTS5's own
    syntax (AND, OR, NOT, NEAR, *, quotes) finds exactly what STR-9's rule finds."""
    imported_names(world, tmp_path)

    assert check_searches(world.cli.url) > 40
    for search, expected in (
        ("ørs", "NO-ORSTED"), ("ελλ", "AL-ELLINIKI"), ("東京", "JP-TOKYO 2"),
        ("usacme", "US-ACME CORP"), ("NEAR(star", "US-ACME CORP"), ('"star"', "US-ACME CORP"),
        ("AND", "US-ACME CORP"), ("dupont fils", BAKERY), ("val briane", COMMUNE),
    ):  # fmt: skip
        found = world(MARIE, "structure", "search", search, "--json")
        assert found.exit_code == 0, (search, found.stderr)
        assert expected in [s["identifier"] for s in found.json()], search


def test_str9_the_index_follows_label_changes_flow_updates_and_deletions(
    world, tmp_path, store_url
):
    """The triggers: a structure created by command then given a label by `structure
    update`, then another (the new words find it, the old ones no more), the same by a
    flow's update of existing structures (set-based), a SIRET created by a flow from
    SIRENE, a deletion (its words find it no more)."""
    imported_names(world, tmp_path)
    made = world(MARIE, "structure", "create", "--id-type", "RIDET", "--id", "1234567009",
                 "--raison-sociale", "Atelier Zéro")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    for label in ("Wombat Austral", "Pâtisserie Zéphyr"):  # the second replaces the first
        changed = world(MARIE, "structure", "update", "1234567009", "--label", label)
        assert changed.exit_code == 0, changed.stderr
    for label in ("Kiwi Boréal", "Quokka Nordique"):  # a flow's update, set-based
        imported_names(world, tmp_path, NAMES[:3], label=label)
    regie = write(tmp_path, "r.csv", [(REGIE, "oui")], ("SIRET", "Hélios"))
    assert imported(world, ADA, regie, "structures").exit_code == 0
    engine = engine_module.get_engine(world.cli.url)
    with engine.begin() as conn:
        gone = conn.execute(
            text("SELECT id FROM structure WHERE identifier = 'US-3M FRANCE'")
        ).scalar_one()
        conn.execute(text("DELETE FROM structure WHERE id = :id"), {"id": gone})

    gone_words = ["wombat", "austral", "kiwi", "boreal"]
    check_searches(world.cli.url, [*SEARCHES, "pâtisserie", "zeph", "atelier", "quokka", "regie",
                                   *gone_words])  # fmt: skip
    for word in gone_words:
        assert world(MARIE, "structure", "search", word, "--json").json() == [], word
    found = world(MARIE, "structure", "search", "zéphyr", "--json").json()
    assert [s["identifier"] for s in found] == ["1234567009"]
    assert world(MARIE, "structure", "search", "quokka", "--json").json() != []
    assert world(MARIE, "structure", "search", "3m france", "--json").json() == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM structure WHERE id = :id"), {"id": gone}
                            ).scalar_one() == 0  # fmt: skip
        if store_url.startswith("sqlite"):
            assert gone not in index_finds(conn, ["3m"])


def test_str9_ops3_the_seeds_set_based_inserts_are_indexed(cli):
    """`chorus seed` writes its structures in batches of plain INSERTs: the triggers
    index each, the searches of its names' words and prefixes find what the rule finds."""
    seeded = cli("seed", "--accounts", "60", "--structures", "60", "--seed", "7")
    assert seeded.exit_code == 0, seeded.stderr
    with engine_module.get_engine(cli.url).connect() as conn:
        texts = conn.execute(text("SELECT search_text FROM structure")).scalars().all()
    assert len(texts) == 60
    found = sorted({w for t in texts for w in t.split()})
    searches = sorted({*found, *(w[:n] for w in found for n in (1, 2, 3)), *texts[:10]})
    assert check_searches(cli.url, searches) == len(searches)


def test_str9_a_query_holds_each_term_quoted_fts5_syntax_is_never_read():
    """The index's query is a parameter where each term is a quoted word prefix: FTS5's
    operators and signs in a term are text (a quote doubled)."""
    assert words_query(["soc"]) == '"soc"*'
    assert words_query(["732", "829"]) == '("732"* AND "829"*) OR "732829"*'
    assert words_query(["AND", "NEAR", "OR"]) == '("AND"* AND "NEAR"* AND "OR"*) OR "ANDNEAROR"*'
    assert words_query(['a"b']) == '"a""b"*'
    assert lexemes_query(["soc"]) == "'soc':*"
    assert lexemes_query(["732", "829"]) == "('732':* & '829':*) | '732829':*"
    assert lexemes_query(["a'b", "c\\d", "!", "|"]) == (
        "('a''b':* & 'c\\\\d':* & '!':* & '|':*) | 'a''bc\\\\d!|':*"
    )
    assert search_terms('AND "NEAR(x)" * OR ^NOT:') == ["and", "near", "x", "or", "not"]


def insert_words(conn, words: str) -> None:
    """A structure whose ``search_text`` is ``words``, written straight (no rule shapes
    it), for the indexes' own tests."""
    conn.execute(
        text(
            "INSERT INTO structure (id_type, identifier, raison_sociale, status, non_diffusible,"
            " public, helios, service_code_required, engagement_number_required, created_at,"
            " search_text) VALUES ('HORS_UE', 'US-AND', 'x', 'active', :no, :no, :no, :no,"
            " :no, '2026-01-01', :words)"
        ),
        {"no": False, "words": words},
    )


@sqlite_only
def test_str9_fts5_syntax_in_a_term_is_read_as_a_word_by_the_index(store_url):
    """Straight against SQLite's index, terms that are FTS5 keywords in capitals, the
    ``NEAR`` group and column filter signs find the words, never raise."""
    engine = engine_module.get_engine(store_url)
    with engine.begin() as conn:
        insert_words(conn, " and or not near x usand ")
        for terms in (["AND"], ["OR", "NOT"], ["NEAR"], ["near", "and"], ["x"], ["us", "and"]):
            assert len(index_finds(conn, terms)) == 1, terms
        for terms in (["zz"], ["AND", "zz"]):
            assert index_finds(conn, terms) == [], terms


@postgresql_only
def test_str9_tsquery_syntax_in_a_term_is_read_as_a_word_by_the_lexemes(store_url):
    """Straight against PostgreSQL's index expression, terms that are tsquery operators
    or signs, a quote and a backslash find the words they begin, never raise."""
    engine = engine_module.get_engine(store_url)
    with engine.begin() as conn:
        insert_words(conn, " a'b c\\d ! | & :* <-> x usand ")
        for terms in (["a'b"], ["a'"], ["c\\"], ["!"], ["|", "&"], [":*"], ["<->"], ["us", "and"]):
            assert len(index_finds(conn, terms)) == 1, terms
        for terms in (["'"], ["b"], ["d"], ["*"], ["x", "zz"]):
            assert index_finds(conn, terms) == [], terms


def test_str9_api1_a_search_by_name_is_planned_with_the_word_index(store_url):
    """The domain's condition asks the store's word index, for the CLI's search and for
    `chorus serve`'s: on SQLite the plan reads ``structure_words`` (FTS5); on PostgreSQL
    the condition is written as migration 0018's index expression, so the planner uses
    it (sequential scans forbidden, so a tiny table does not hide a mismatch)."""
    from sqlalchemy import select

    from chorus_cli.domain import integration
    from chorus_cli.store.models import Structure

    engine = engine_module.get_engine(store_url)
    dialect = engine.dialect.name
    statements = [
        select(Structure.__table__.c.id).where(words_match(2, dialect)),
        integration._search_statement(dialect, False, False, 0, (3, 0, 0), (), None, False),
    ]
    index = "structure_words" if dialect == "sqlite" else "ix_structure_search_words"
    with engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
        for statement in statements:
            compiled = statement.compile(dialect=engine.dialect)
            values = {**compiled.params, "limit": 11, "offset": 0}
            for prefix in ("word", "name0_"):
                values.update(words_values(["soc", "gen", "x"], prefix, dialect))
            if dialect == "sqlite":  # qmark: the values in the statement's order
                explain = "EXPLAIN QUERY PLAN "
                given: object = tuple(values[name] for name in compiled.positiontup or ())
            else:
                explain, given = "EXPLAIN ", values
            plan = "\n".join(
                str(row[-1]) for row in conn.exec_driver_sql(explain + compiled.string, given)
            )
            assert index in plan, plan


def test_str9_api1_a_one_letter_term_beside_another_is_searched_through_the_index(world, tmp_path):
    """No term is too short for the word index (0015's trigrams needed two letters, and
    SQLite 3.40's FTS5 crashed on a one-letter LIKE beside another)."""
    imported_names(world, tmp_path)
    for search in ("p þ", "a b", "b c", "n b", "x"):
        found = world(MARIE, "structure", "search", search, "--json")
        assert found.exit_code == 0, (search, found.stderr)
    found = world(MARIE, "structure", "search", "a b conseil", "--json").json()
    assert [s["identifier"] for s in found] == ["US-A B"]


# --- the migration -----------------------------------------------------------------------


def migrate(url: str, revision: str, down: bool = False) -> None:
    from alembic import command

    engine_module.dispose_all()
    engine = engine_module.get_engine(url, migrate=False)
    config = engine_module.migrations()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
    engine_module.dispose_all()


def sqlite_schema(url: str) -> set[tuple[str, str]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return {
            (kind, name)
            for kind, name in db.execute("SELECT type, name FROM sqlite_master")
            if name.startswith(("structure_search", "structure_words"))
            and not name.endswith(("_data", "_idx", "_docsize", "_config", "_content"))
        }


WORD_INDEX = {("table", "structure_words")} | {
    ("trigger", f"structure_words_{t}") for t in ("insert", "delete", "update")
}
TRIGRAM_INDEX = {("table", "structure_search")} | {
    ("trigger", f"structure_search_{t}") for t in ("insert", "delete", "update")
}


def pg_indexes(url: str) -> set[str]:
    with engine_module.get_engine(url, migrate=False).connect() as conn:
        return set(conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_structure_search%'"
        )).scalars())  # fmt: skip


def test_str9_ops5_0017_0018_down_to_the_trigrams_and_up_again_on_a_store_with_data(
    world, tmp_path
):
    """Down: 0015's trigram index back (SQLite's FTS5 table filled from the rows and kept
    by its triggers; PostgreSQL's GIN index where ``pg_trgm`` is); up: the word index,
    built from the rows there are (one written meanwhile included)."""
    imported_names(world, tmp_path)
    url = world.cli.url

    migrate(url, "0016", down=True)
    if url.startswith("sqlite"):
        assert sqlite_schema(url) == TRIGRAM_INDEX
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute(
                "UPDATE structure SET search_text = ' quokka ' WHERE identifier = 'NO-ORSTED'"
            )
            found = db.execute(
                "SELECT s.identifier FROM structure_search f JOIN structure s ON s.id = f.rowid"
                " WHERE f.search_text LIKE '% quok%'"
            ).fetchall()
        assert found == [("NO-ORSTED",)]
    else:
        assert pg_indexes(url) == {"ix_structure_search_text_trgm"}
        with engine_module.get_engine(url, migrate=False).begin() as conn:
            conn.execute(
                text("UPDATE structure SET search_text = ' quokka ' WHERE identifier = 'NO-ORSTED'")
            )

    migrate(url, "head")
    if url.startswith("sqlite"):
        assert sqlite_schema(url) == WORD_INDEX
    else:
        assert pg_indexes(url) == {"ix_structure_search_words"}
    check_searches(url, [*SEARCHES, "quok"])
    found = world(MARIE, "structure", "search", "quok", "--json").json()
    assert [s["identifier"] for s in found] == ["NO-ORSTED"]


def test_str9_a_word_folded_past_a_lexemes_length_is_indexed_whole_and_found(world):
    """A name's 200 characters (TEXT_MAX) can fold (NFKD) to one word of 3,600 bytes
    ("㌖" is "キロメートル"), past PostgreSQL's 2,047 bytes a lexeme, which its
    array_to_tsvector does not check (the length wraps: broken text in the index, a whole
    word's search missed). Each word and term is kept to WORD_MAX characters: the
    structure is created, its index entry is readable text, and every search of it (the
    word whole, a prefix, three long terms whose identifier-in-one-piece query would pass
    a lexeme's length) finds what the rule finds, never an error."""
    long_word = "㌖" * 190
    made = world(MARIE, "structure", "create", "--id-type", "RIDET", "--id", "1234567009",
                 "--raison-sociale", f"{long_word} Atelier")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    searches = [long_word, "㌖" * 3, f"{long_word} atelier", " ".join([long_word] * 3)]
    assert check_searches(world.cli.url, searches) == 4
    for search in searches[:3]:
        found = world(MARIE, "structure", "search", search, "--json")
        assert found.exit_code == 0, found.stderr
        assert [s["identifier"] for s in found.json()] == ["1234567009"], search
    engine = engine_module.get_engine(world.cli.url)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            lexemes = conn.execute(text(
                "SELECT array_to_tsvector(array_remove(string_to_array(search_text, ' '), ''))"
                "::text FROM structure WHERE identifier = '1234567009'"
            )).scalar_one()  # fmt: skip
            assert "キロメートル" * 33 in lexemes
