"""Querying the offline SIRENE index: lookup by SIRET, search by name, status.

The index is built by ``sirene/build.py``; these read the live tables only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_cli.sirene import Establishment, columns
from chorus_cli.store import sirene_tables as schema

if TYPE_CHECKING:
    from chorus_cli.store.uow import UnitOfWork

SEARCH_CANDIDATES = 3_000  # matches ranked per search, in SIRET order (see ``search``)

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


def _fts_query(words: list[str]) -> str:
    # Each word as a whole word OR as a prefix: a name holding the whole word matches
    # both and ranks above one that only starts with it. One letter: whole word only.
    parts = [f'("{w}" OR "{w}"*)' if len(w) > 1 else f'"{w}"' for w in words]
    return " AND ".join(parts)


def _pg_queries(words: list[str]) -> dict[str, str]:
    """The match (every word, whole or prefix) and the two ranking queries: any word
    whole, any word as a prefix (ts_rank gives no bonus to a whole word otherwise)."""
    return {
        "query": " & ".join(f"({w} | {w}:*)" if len(w) > 1 else w for w in words),
        "whole": " | ".join(words),
        "prefix": " | ".join(f"{w}:*" if len(w) > 1 else w for w in words),
    }


def _pg_score() -> str:
    """Name over enseigne (half weight); each: whole words, then prefixes, divided by
    1 + log(length) so that short names come first, as bm25 does on SQLite. Over the
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

    Ranking: legal units by their best establishment's score (bm25 on SQLite, ts_rank
    on PostgreSQL: whole words over prefixes, short names over long, the enseigne at
    half the weight of the raison sociale); within a unit, active establishments
    first, then the head office. At most ``SEARCH_CANDIDATES`` matches are ranked,
    taken in SIRET order: a word found in a hundred thousand names would otherwise
    cost a second per search; past that many, ``truncated`` says to add a word.
    """
    from sqlalchemy import text

    connection = uow.session.connection()
    if connection.dialect.name == "sqlite":
        # The candidates, their units ranked by best score, then only the establishments
        # of the top units are read: a broad word costs FTS work, not table reads.
        sql = text(
            "WITH c AS MATERIALIZED ("
            f" SELECT rowid AS id, rowid / 100000 AS siren, bm25({schema.FTS}, 1.0, 0.5) AS score"
            f" FROM {schema.FTS} WHERE {schema.FTS} MATCH :query LIMIT :cap),"
            " g AS (SELECT siren, min(score) AS best FROM c GROUP BY siren"
            " ORDER BY best, siren LIMIT :limit)"
            f" SELECT {SEARCH_COLUMNS}, (SELECT count(*) FROM c) AS matches"
            f" FROM g JOIN c ON c.siren = g.siren"
            f" JOIN {schema.ESTABLISHMENT} AS e ON e.siret = c.id"
            " ORDER BY g.best, g.siren, e.active DESC, e.siege DESC, c.score, e.siret"
            " LIMIT :limit"
        )
        params = {"query": _fts_query(words)}
    else:
        names = (
            f"{schema.pg_vector(schema.NAME_SQL)} AS nv, {schema.pg_vector(schema.SIGN_SQL)} AS sv"
        )
        sql = text(
            "WITH m AS MATERIALIZED ("
            f" SELECT * FROM {schema.ESTABLISHMENT}"
            f" WHERE {schema.PG_VECTOR_SQL} @@ to_tsquery('simple', :query) LIMIT :cap),"
            f" s AS (SELECT m.*, m.siret / 100000 AS siren, {_pg_score()} AS score"
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
