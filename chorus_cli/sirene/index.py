"""Querying the offline SIRENE index: lookup by SIRET, search by name, status.

The index is built by ``sirene/build.py``; these read the live tables only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_cli.sirene import Establishment, columns
from chorus_cli.store import sirene_tables as schema

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

    from chorus_cli.store.uow import UnitOfWork

# Matches ranked per search, the best tier first (see ``search``). Their rows are read
# to rank them: 300 stay within SQLite's default page cache (2 MiB); 1,000 at 10 million
# rows spill it and cost ~10 ms.
SEARCH_CANDIDATES = 300
PREFIX_TERMS = 16  # words of the index a prefix stands for, the most frequent first
TERM_SCAN = 10_000  # vocabulary rows read per word of a search, at most (a few ms)

_table = None
_find = None


def _statements() -> tuple[Any, Any]:
    global _table, _find
    if _find is None:
        from sqlalchemy import bindparam, select

        _table = schema.establishment_table()
        _find = select(_table).where(_table.c.siret == bindparam("siret"))
    return _table, _find


def _establishment(row: Any, source: str = "index") -> Establishment:
    siret = f"{row.siret:014d}"
    return Establishment(
        siret=siret,
        siren=siret[:9],
        nic=siret[9:],
        raison_sociale=row.raison_sociale,
        active=bool(row.active),
        non_diffusible=bool(row.non_diffusible),
        public=columns.is_public(row.categorie_juridique),
        categorie_juridique=row.categorie_juridique,
        address=None if row.non_diffusible else row.address,
        postal_code=None if row.non_diffusible else row.postal_code,
        commune=None if row.non_diffusible else row.commune,
        country=None if row.non_diffusible else row.country,
        source=source,
    )


def find(uow: UnitOfWork, siret: str) -> Establishment | None:
    """The establishment of the offline index, or None. ``siret``: 14 digits."""
    _, statement = _statements()
    row = uow.session.connection().execute(statement, {"siret": int(siret)}).first()
    return _establishment(row) if row is not None else None


def find_many(uow: UnitOfWork, sirets: list[str]) -> dict[str, Establishment]:
    """The establishments of the offline index among ``sirets`` (14 digits each), in one
    query per thousand: a flow of structures looks its rows up together (OPS-1)."""
    table, _ = _statements()
    numbers = sorted({int(s) for s in sirets})
    found: dict[str, Establishment] = {}
    connection = uow.session.connection()
    for start in range(0, len(numbers), 1000):
        part = numbers[start : start + 1000]
        for row in connection.execute(table.select().where(table.c.siret.in_(part))):
            establishment = _establishment(row)
            found[establishment.siret] = establishment
    return found


def status(uow: UnitOfWork) -> dict[str, Any] | None:
    """What the live index holds (None before the first import)."""
    from sqlalchemy import text

    row = (
        uow.session.connection()
        .execute(
            text(
                "SELECT imported_at, establishments, units, skipped, source, update_since,"
                f" updated_at, departments FROM {schema.META}"
            )
        )
        .first()
    )
    return dict(row._mapping) if row is not None else None


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class _Word:
    """One word of a search as the SQLite index knows it: whether it is a word of the
    index (``whole``), and the FTS5 expression matching it whole or as a prefix."""

    def __init__(self, word: str, vocabulary: list[tuple[str, int]] | None) -> None:
        self.word = word
        self.cut = False
        if len(word) < 2:  # one letter: the whole word only
            self.whole, self.either = True, f"({_quoted(word)})"
        elif vocabulary is None:  # no vocabulary (a word newer than the import)
            self.whole = True
            self.either = f"({_quoted(word)} OR {_quoted(word)}*)"
        else:
            # The words of the index that start with it, the most frequent first: an
            # FTS5 prefix query reads every row of every such word before the first
            # match comes out (~100 ms for a common word at 10 million rows); named
            # words are read lazily, as far as the candidates go.
            self.whole = vocabulary[0][0] == word
            longer = [term for term, _ in vocabulary if term != word]
            self.cut = len(longer) > PREFIX_TERMS
            terms = [word] if self.whole else []
            terms += longer[:PREFIX_TERMS]
            self.either = f"({' OR '.join(_quoted(t) for t in terms)})"


def _vocabulary(connection: Any, word: str) -> list[tuple[str, int]] | None:
    """The index's words starting with ``word`` and how many names hold each: the word
    itself first, then the ``PREFIX_TERMS + 1`` most frequent (among the first
    ``TERM_SCAN`` in alphabetical order: a prefix of two letters may start a hundred
    thousand words of the national index). None when the vocabulary does not know it
    (an index imported before it had one, or a name added since: the word is then
    searched as FTS5 reads it)."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    try:
        rows = connection.execute(
            text(
                "SELECT term, docs FROM (SELECT term, docs FROM"
                f" {schema.TERM} WHERE term >= :low AND term < :high LIMIT :scan)"
                " ORDER BY term = :low DESC, docs DESC, term LIMIT :keep"
            ),
            {"low": word, "high": word + "\U0010ffff", "scan": TERM_SCAN, "keep": PREFIX_TERMS + 2},
        ).all()
    except OperationalError:  # no vocabulary table: imported by an older chorus
        return None
    return [(row[0], row[1]) for row in rows] or None


def note_words(connection: Connection, added: Sequence[str], rewritten: Sequence[str] = ()) -> None:
    """Keep the SQLite vocabulary (``sirene_term``) up to date when rows change outside
    an import (``sirene update``): a prefix is searched as the vocabulary's words, and
    would miss a word it has never seen. ``added``: the search text of each row new to
    the index, whose words each count one more row; ``rewritten``: that of rows already
    there, whose words are noted without a count (the words they lost are not taken
    off: counts are approximate until the next import rebuilds them). Nothing to do on
    PostgreSQL, or before the first import built a vocabulary."""
    from collections import Counter

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from chorus_cli.kernel.words import words

    if connection.dialect.name != "sqlite":
        return
    counts = Counter(w for name in added for w in set(words(name, ligatures=False)))
    for name in rewritten:
        for w in words(name, ligatures=False):
            counts.setdefault(w, 0)
    if not counts:
        return
    try:
        connection.execute(
            text(
                f"INSERT INTO {schema.TERM} (term, docs) VALUES (:term, max(:n, 1))"
                " ON CONFLICT (term) DO UPDATE SET docs = docs + :n"
            ),
            [{"term": term, "n": n} for term, n in sorted(counts.items())],
        )
    except OperationalError:  # no vocabulary yet: search reads prefixes as FTS5 does
        return


def _sqlite_candidates(connection: Any, words: list[str]) -> tuple[list[tuple[int, int]], bool]:
    """The matches to rank, best tier first: (SIRET, tier) pairs, at most
    ``SEARCH_CANDIDATES``. Tier 0: every word whole; tier 1: every word whole or as a
    prefix. Each tier is one FTS5 query read in SIRET order and stopped at the cap
    (never sorted whole: the cost is what is read, not what matches). Returns
    (candidates, cut): ``cut`` when a prefix stood for only its ``PREFIX_TERMS`` most
    frequent words."""
    from sqlalchemy import text

    parts = [_Word(w, _vocabulary(connection, w)) for w in words]
    whole = " AND ".join(_quoted(p.word) for p in parts)
    either = " AND ".join(p.either for p in parts)
    queries = []
    if all(p.whole for p in parts):
        queries.append((0, whole))
    if either != " AND ".join(f"({_quoted(p.word)})" for p in parts):  # some prefix adds
        queries.append((1, either))
    sql = text(f"SELECT rowid FROM {schema.FTS} WHERE {schema.FTS} MATCH :query LIMIT :cap")
    seen: set[int] = set()
    found: list[tuple[int, int]] = []
    cut = any(p.cut for p in parts)
    for tier, query in queries:
        rows = connection.execute(sql, {"query": query, "cap": SEARCH_CANDIDATES}).scalars()
        for siret in rows:
            if siret not in seen:
                seen.add(siret)
                found.append((siret, tier))
                if len(found) >= SEARCH_CANDIDATES:
                    return found, cut
    return found, cut


def _pg_queries(words: list[str]) -> dict[str, str]:
    """The match (every word, whole or prefix), every word whole (ranked first), and
    the two ranking queries: any word whole, any word as a prefix (ts_rank gives no
    bonus to a whole word otherwise)."""
    return {
        "query": " & ".join(f"({w} | {w}:*)" if len(w) > 1 else w for w in words),
        "every": " & ".join(words),
        "whole": " | ".join(words),
        "prefix": " | ".join(f"{w}:*" if len(w) > 1 else w for w in words),
    }


def _pg_score() -> str:
    """Name over enseigne (half weight); each: whole words, then prefixes, divided by
    1 + log(length) so that short names come first, as length does on SQLite. Over the
    vectors ``v.nv`` (name) and ``v.sv`` (enseigne) of one candidate."""
    parts = []
    for vector, weight in (("v.nv", ""), ("v.sv", "0.5 * ")):
        ranks = [
            f"coalesce(ts_rank({vector}, to_tsquery('simple', :{q}), 1), 0)"
            for q in ("whole", "prefix")
        ]
        parts.append(f"{weight}({' + '.join(ranks)})")
    return " + ".join(parts)


SEARCH_COLUMNS = (
    "e.siret, e.raison_sociale, e.enseigne, e.categorie_juridique, e.active,"
    " e.non_diffusible, e.siege, e.postal_code, e.commune, e.country"
)


def search(uow: UnitOfWork, words: list[str], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Establishments whose names hold every word (whole, or as a prefix), best first.
    Returns (rows, truncated).

    Ranking: legal units by their best establishment's score; within a unit, active
    establishments first, then the head office. On SQLite the score is the tier (every
    word whole, in the raison sociale or the enseigne; then every word whole or as a
    prefix: ``_sqlite_candidates``), then the shorter raison sociale and enseigne; on PostgreSQL
    ts_rank (whole words over prefixes, short names over long, the enseigne at half
    the weight). At most ``SEARCH_CANDIDATES`` matches are ranked, the best tier
    first and each in SIRET order: a word found in a million names would otherwise
    cost a second per search; past that many, ``truncated`` says to add a word (and
    so does a prefix standing for more than ``PREFIX_TERMS`` words).
    """
    import json

    from sqlalchemy import text

    connection = uow.session.connection()
    if connection.dialect.name == "sqlite":
        candidates, cut = _sqlite_candidates(connection, words)
        if not candidates:
            return [], False
        # Their rows read once, each scored by its tier then the length of the text
        # searched (raison sociale and enseigne: shorter names first);
        # units ranked by their best establishment.
        sql = text(
            "WITH c AS (SELECT value ->> 0 AS id, value ->> 1 AS tier FROM json_each(:found)),"
            f" s AS MATERIALIZED (SELECT {SEARCH_COLUMNS}, e.siret / 100000 AS siren,"
            " c.tier * 100000 + length(e.raison_sociale) + coalesce(length(e.enseigne), 0)"
            " AS score"
            f" FROM c JOIN {schema.ESTABLISHMENT} AS e ON e.siret = c.id),"
            " g AS (SELECT siren, min(score) AS best FROM s GROUP BY siren"
            " ORDER BY best, siren LIMIT :limit)"
            " SELECT s.* FROM g JOIN s ON s.siren = g.siren"
            " ORDER BY g.best, g.siren, s.active DESC, s.siege DESC, s.score, s.siret"
            " LIMIT :limit"
        )
        found = json.dumps(candidates, separators=(",", ":"))
        rows = [_found(r) for r in connection.execute(sql, {"found": found, "limit": limit})]
        return rows, cut or len(candidates) >= SEARCH_CANDIDATES
    names = f"{schema.pg_vector(schema.NAME_SQL)} AS nv, {schema.pg_vector(schema.SIGN_SQL)} AS sv"
    sql = text(
        "WITH m AS MATERIALIZED ("
        f" SELECT * FROM {schema.ESTABLISHMENT}"
        f" WHERE {schema.PG_VECTOR_SQL} @@ to_tsquery('simple', :query) LIMIT :cap),"
        # Every word whole first (as the SQLite tiers), then ts_rank.
        " s AS (SELECT m.*, m.siret / 100000 AS siren,"
        " CASE WHEN v.nv || coalesce(v.sv, ''::tsvector)"
        f" @@ to_tsquery('simple', :every) THEN 0 ELSE -100 END + {_pg_score()} AS score"
        f" FROM m, LATERAL (SELECT {names}) AS v),"
        " g AS (SELECT siren, max(score) AS best FROM s GROUP BY siren"
        " ORDER BY best DESC, siren LIMIT :limit)"
        f" SELECT {SEARCH_COLUMNS}, (SELECT count(*) FROM m) AS matches"
        " FROM g JOIN s AS e ON e.siren = g.siren"
        " ORDER BY g.best DESC, g.siren, e.active DESC, e.siege DESC, e.score DESC, e.siret"
        " LIMIT :limit"
    )
    params = _pg_queries(words)
    result = connection.execute(sql, {**params, "cap": SEARCH_CANDIDATES, "limit": limit})
    rows, matches = [], 0
    for row in result:
        matches = row.matches
        rows.append(_found(row))
    return rows, matches >= SEARCH_CANDIDATES


# The fields of ``_found``, in its order: every field of a search result (`sirene search`,
# OUT-3), the header of an empty CSV.
SEARCH_FIELDS = (
    "siret", "raison_sociale", "enseigne", "active", "siege", "non_diffusible", "public",
    "postal_code", "commune", "country",
)  # fmt: skip


def _found(row: Any) -> dict[str, Any]:
    """A search result: what tells establishments apart; no street address."""
    hidden = bool(row.non_diffusible)
    return {
        "siret": f"{row.siret:014d}",
        "raison_sociale": row.raison_sociale,
        "enseigne": row.enseigne,
        "active": bool(row.active),
        "siege": bool(row.siege),
        "non_diffusible": hidden,
        "public": columns.is_public(row.categorie_juridique),
        "postal_code": None if hidden else row.postal_code,
        "commune": None if hidden else row.commune,
        "country": None if hidden else row.country,
    }


def establishments_between(
    uow: UnitOfWork, low: int, high: int, limit: int
) -> list[dict[str, Any]]:
    """Establishments with ``low <= SIRET < high`` (a SIREN's are one range of the key),
    head office first."""
    from sqlalchemy import text

    sql = text(
        f"SELECT {SEARCH_COLUMNS} FROM {schema.ESTABLISHMENT} AS e"
        " WHERE e.siret >= :low AND e.siret < :high"
        " ORDER BY e.siege DESC, e.active DESC, e.siret LIMIT :limit"
    )
    result = uow.session.connection().execute(sql, {"low": low, "high": high, "limit": limit})
    return [_found(row) for row in result]
