"""an index of structures' search words (STR-9, API-1: rechercherStructure by name)

Revision ID: 0015
Revises: 0014

A search by name is ``search_text LIKE '% word%'`` for each word (STR-9): no B-tree
serves it, so at 100,000 structures every search read the whole table (~25 ms on
SQLite). Now each store has a trigram index of ``structure.search_text``, which answers
such a LIKE without reading every row:

- SQLite: ``structure_search``, an FTS5 table with the trigram tokeniser over the
  column (external content: it holds the index only), kept by three triggers on
  ``structure``. A later migration that rebuilds ``structure`` (Alembic's batch mode on
  SQLite copies it to a new table) drops these triggers: it must create them again
  (``chorus_cli.store.migrations.search_index.create``). Migration 0017 replaced this
  table by a word index (``structure_words``).
- PostgreSQL: a GIN index ``gin_trgm_ops`` on the column (extension ``pg_trgm``, trusted
  since PostgreSQL 13: a store's owner may create it). Where the extension cannot be
  created, the store goes without the index (searches read the table, as before).
"""

import sqlalchemy as sa
from alembic import op

from chorus_cli.store.migrations.search_index import TRIGRAMS, create, drop

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        create(op.execute, TRIGRAMS)
        return
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    if available is None:
        return
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:  # not allowed here: no index, searches as before
        savepoint.rollback()
        return
    savepoint.commit()
    op.execute(
        "CREATE INDEX ix_structure_search_text_trgm ON structure"
        " USING gin (search_text gin_trgm_ops)"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        drop(op.execute, TRIGRAMS)
        return
    op.execute("DROP INDEX IF EXISTS ix_structure_search_text_trgm")
