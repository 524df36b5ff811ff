"""SQLite's index of the structures' search words (STR-9), for the migrations: the one
of 0017 (``WORDS``) and the one it replaced (0015's ``TRIGRAMS``), each an FTS5 table
over ``structure.search_text`` (external content: it holds the index only) kept by three
triggers on ``structure``.

A migration that rebuilds ``structure`` (Alembic's batch mode on SQLite copies it to a
new table and drops the old one, its triggers with it) must create them again:
``create(op.execute, WORDS)`` after the batch. An index made otherwise later gets its
own tuple here: ``WORDS`` stays what 0017 made. Plain Python, no Alembic import: the
domain reads ``WORDS_TABLE`` from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# 0017: one FTS token per word of search_text. ``ascii``: only ASCII non-alphanumerics
# separate tokens, every other character belongs to one, so the tokens are exactly the
# words of chorus_cli.kernel.words (search_text holds words and single spaces), whatever
# Unicode version SQLite's tables know. ``detail=none``: rowids only (a term is matched
# as a word's prefix, never as a phrase). Prefix indexes of 1 to 6 characters: a term
# that long is read as one list, which FTS5 intersects with another term's by seeking
# ("jean fils": 0.3 ms instead of 2.3 ms, "fils" being in 23,000 names of 100,000);
# longer terms are rarer. At 100,000 structures: 6.7 MiB (the trigrams took 11.5 MiB),
# built in ~0.6 s (0.2 s without prefix indexes, 2.9 MiB).
WORDS_TABLE = "structure_words"
WORDS = (
    WORDS_TABLE,
    "tokenize='ascii', detail=none, prefix='1 2 3 4 5 6'",
)
# 0015: trigrams of the whole text, answering ``LIKE '% word%'``.
TRIGRAMS = ("structure_search", "tokenize='trigram'")


def statements(index: tuple[str, str]) -> list[str]:
    """The FTS5 table of ``index`` filled from the rows there are, and its triggers."""
    name, options = index
    add = f"INSERT INTO {name}(rowid, search_text) VALUES (new.id, new.search_text);"
    remove = (
        f"INSERT INTO {name}({name}, rowid, search_text)"
        " VALUES ('delete', old.id, old.search_text);"
    )
    return [
        f"CREATE VIRTUAL TABLE {name} USING fts5(search_text, content='structure',"
        f" content_rowid='id', {options})",
        f"INSERT INTO {name}({name}) VALUES ('rebuild')",
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON structure BEGIN {add} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON structure BEGIN {remove} END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF search_text ON structure BEGIN"
        f" {remove} {add} END",
    ]


def create(execute: Callable[[str], Any], index: tuple[str, str]) -> None:
    """Create ``index`` (``WORDS``, ``TRIGRAMS``) and fill it: ``create(op.execute, WORDS)``."""
    for statement in statements(index):
        execute(statement)


def drop(execute: Callable[[str], Any], index: tuple[str, str]) -> None:
    """Drop ``index``'s triggers and table (none there: nothing done)."""
    name = index[0]
    for trigger in ("insert", "delete", "update"):
        execute(f"DROP TRIGGER IF EXISTS {name}_{trigger}")
    execute(f"DROP TABLE IF EXISTS {name}")
