"""The offline SIRENE index: its tables, and the names an import builds and swaps.

The index is rebuilt whole by each import (``chorus sirene import``): a new generation
is loaded under ``*_new`` names, then renamed over the live tables in one short
transaction, so a reader sees the old index or the new one, never a half-built one.
Between imports, ``chorus sirene update`` edits the live tables a page of the INSEE API
at a time, each page one transaction (``chorus_cli.sirene.update``). Migration 0003
creates the live tables empty with the same shape; 0012 adds the update's columns to
``sirene_meta``.

- ``sirene_establishment``: one row per SIRET (the integer is the key: on SQLite the
  rowid itself, no separate index), denormalised with its legal unit's name and
  category so a lookup is one read;
- ``sirene_unit``: the legal units (SIREN), kept for the next import that comes
  without ``--unites-legales``;
- ``sirene_meta``: one row describing the live index;
- search: an FTS5 table on SQLite (columns ``name`` and ``sign``), a GIN full-text
  index on PostgreSQL, over ``raison_sociale`` and ``enseigne``;
- ``sirene_term`` (SQLite): the FTS5 table's vocabulary, each word and how many names
  hold it, so that a prefix is searched as the words it starts (``sirene/index.py``).
  Built by the import only: a store imported by an older chorus has none until its
  next import, and search then reads prefixes as FTS5 does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table

ESTABLISHMENT = "sirene_establishment"
UNIT = "sirene_unit"
META = "sirene_meta"
FTS = "sirene_name_fts"  # SQLite only
TERM = "sirene_term"  # SQLite only: the full-text index's words, built by each import
NAME_INDEX = "ix_sirene_establishment_name"  # PostgreSQL only
STAGING = "_new"
RETIRED = "_old"

# What a name search matches, in two parts ranked apart: the legal unit's name (the
# raison sociale), and the establishment's own name (enseigne), when it differs.
NAME_SQL = "replace(raison_sociale, '[ND]', '')"
SIGN_SQL = "CASE WHEN enseigne = raison_sociale THEN NULL ELSE enseigne END"

# SQLite: word tokens, case and accents folded; contentless (rowid = SIRET, the text is
# in sirene_establishment already). Search no longer ranks with bm25 (see
# ``sirene/index.py``: tiers, then length), so the full detail and the per-row sizes
# (the ``_docsize`` table, ~150 MB at 10 million rows) are kept for nothing; changing
# the options changes the table's shape: a migration's work, not done yet.
FTS_OPTIONS = "content='', tokenize='unicode61 remove_diacritics 2'"

# PostgreSQL: no extension needed. 'simple' folds case but not accents, so the common
# accented letters are folded here (upper case too: lower() leaves them alone under
# the C locale). The query must use this very expression for the index to serve it;
# the words searched are folded alike (``chorus_cli.domain.sirene.terms_of``).
_ACCENTED = "ÀÂÄÁÃÅàâäáãåÇçÉÈÊËéèêëÍÌÎÏíìîïÑñÓÒÔÖÕóòôöõÚÙÛÜúùûüÝŸýÿ"
_PLAIN = "aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyyy"


def pg_vector(text_sql: str) -> str:
    return (
        f"to_tsvector('simple'::regconfig, translate(lower({text_sql}), '{_ACCENTED}', '{_PLAIN}'))"
    )


PG_VECTOR_SQL = pg_vector(f"{NAME_SQL} || ' ' || coalesce({SIGN_SQL}, '')")  # the index


def establishment_table(name: str = ESTABLISHMENT, metadata: MetaData | None = None) -> Table:
    import sqlalchemy as sa

    return sa.Table(
        name,
        metadata if metadata is not None else sa.MetaData(),
        # INTEGER on SQLite, so the SIRET is the rowid; BIGINT on PostgreSQL.
        sa.Column(
            "siret",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("raison_sociale", sa.Text(), nullable=False),
        sa.Column("enseigne", sa.Text(), nullable=True),
        sa.Column("categorie_juridique", sa.String(4), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("non_diffusible", sa.Boolean(), nullable=False),
        sa.Column("siege", sa.Boolean(), nullable=False),
        # All four are NULL for a non-diffusible establishment (STR-3).
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("postal_code", sa.String(10), nullable=True),
        sa.Column("commune", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
    )


def unit_table(name: str = UNIT, metadata: MetaData | None = None) -> Table:
    import sqlalchemy as sa

    return sa.Table(
        name,
        metadata if metadata is not None else sa.MetaData(),
        sa.Column(
            "siren",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("raison_sociale", sa.Text(), nullable=False),
        sa.Column("categorie_juridique", sa.String(4), nullable=True),
        sa.Column("non_diffusible", sa.Boolean(), nullable=False),
    )


def meta_table(metadata: MetaData | None = None) -> Table:
    import sqlalchemy as sa

    return sa.Table(
        META,
        metadata if metadata is not None else sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("imported_at", sa.String(32), nullable=False),
        sa.Column("establishments", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        # ``chorus sirene update`` (migration 0012): the date the next update asks from,
        # the cursor of a cut run and when it started, when the last run ended; the
        # départements the import kept (comma-separated; NULL: all).
        sa.Column("update_since", sa.String(32), nullable=True),
        sa.Column("update_cursor", sa.Text(), nullable=True),
        sa.Column("update_started", sa.String(32), nullable=True),
        sa.Column("updated_at", sa.String(32), nullable=True),
        sa.Column("departments", sa.Text(), nullable=True),
    )


def fts_insert_sql(fts: str, table: str, where: str, delete: bool = False) -> str:
    """The search rows of ``table``'s establishments matching ``where`` (SQLite), put
    into the FTS table ``fts``, or taken out of it (``delete``: a contentless table
    forgets a row given the very text it was given): the one definition of an
    establishment's search text, for the import and for ``sirene update``."""
    if delete:
        return (
            f"INSERT INTO {fts}({fts}, rowid, name, sign)"
            f" SELECT 'delete', siret, {NAME_SQL}, {SIGN_SQL} FROM {table} WHERE {where}"
        )
    return (
        f"INSERT INTO {fts}(rowid, name, sign)"
        f" SELECT siret, {NAME_SQL}, {SIGN_SQL} FROM {table} WHERE {where}"
    )


def fts_ddl(name: str = FTS) -> str:
    return f"CREATE VIRTUAL TABLE {name} USING fts5(name, sign, {FTS_OPTIONS})"


def term_ddl(name: str = TERM) -> str:
    return f"CREATE TABLE {name} (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"


def pg_name_index_ddl(table: str = ESTABLISHMENT, index: str = NAME_INDEX) -> str:
    return f"CREATE INDEX {index} ON {table} USING gin ({PG_VECTOR_SQL})"
