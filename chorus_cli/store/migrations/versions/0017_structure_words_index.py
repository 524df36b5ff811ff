"""a word index of structures' search text (STR-9, API-1: rechercherStructure by name)

Revision ID: 0017
Revises: 0016

On SQLite, 0015's trigram index (``structure_search``) made a search by name read every
trigram of its words and check each candidate's LIKE: ~0.9 ms for a three-word name at
100,000 structures, against ~0.1 ms for a search by SIRET. STR-9 matches a term at the
start of a word, which a word index answers directly: ``structure_words`` indexes each
word of ``search_text`` once (FTS5, ``ascii`` tokeniser, ``detail=none``, prefix indexes
of 1 to 6 characters; ``chorus_cli.store.migrations.search_index.WORDS``), queried with
``"term"*`` for each term; the LIKE conditions still decide (STR-9's rule, one place).
The same search now takes ~0.1 ms; the index is 6.7 MiB instead of 11.5 MiB.
Kept by the same three triggers on ``structure`` (insert, delete, update of
``search_text``): a later migration that rebuilds ``structure`` (Alembic's batch mode)
must create them again (``search_index.create(op.execute, WORDS)``).

PostgreSQL keeps 0015's trigram GIN index, which serves the LIKE itself.
"""

from alembic import op

from chorus_cli.store.migrations.search_index import TRIGRAMS, WORDS, create, drop

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Either index dropped where there is one (a store marked older than it is, as the
    # tests make, holds this one already), then this one built from the rows.
    if op.get_bind().dialect.name == "sqlite":
        drop(op.execute, TRIGRAMS)
        drop(op.execute, WORDS)
        create(op.execute, WORDS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        drop(op.execute, WORDS)
        drop(op.execute, TRIGRAMS)
        create(op.execute, TRIGRAMS)
