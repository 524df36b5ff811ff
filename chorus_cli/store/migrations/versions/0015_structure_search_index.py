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
  (``create_sqlite_search``).
- PostgreSQL: a GIN index ``gin_trgm_ops`` on the column (extension ``pg_trgm``, trusted
  since PostgreSQL 13: a store's owner may create it). Where the extension cannot be
  created, the store goes without the index (searches read the table, as before).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE structure_search USING fts5(search_text, content='structure',"
    " content_rowid='id', tokenize='trigram')",
    "INSERT INTO structure_search(structure_search) VALUES ('rebuild')",
    "CREATE TRIGGER structure_search_insert AFTER INSERT ON structure BEGIN"
    " INSERT INTO structure_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER structure_search_delete AFTER DELETE ON structure BEGIN"
    " INSERT INTO structure_search(structure_search, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER structure_search_update AFTER UPDATE OF search_text ON structure BEGIN"
    " INSERT INTO structure_search(structure_search, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text);"
    " INSERT INTO structure_search(rowid, search_text) VALUES (new.id, new.search_text); END",
]


def create_sqlite_search() -> None:
    for statement in SQLITE:
        op.execute(statement)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        create_sqlite_search()
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
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS structure_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS structure_search")
        return
    op.execute("DROP INDEX IF EXISTS ix_structure_search_text_trgm")
