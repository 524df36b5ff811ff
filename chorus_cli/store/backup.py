"""A copy of a SQLite store by SQLite's online backup, safe while others write (OPS-5)."""

from __future__ import annotations

from pathlib import Path

from chorus_cli.domain.errors import BadInput


def backup(database_url: str, path: Path) -> Path:
    """Copy the SQLite store at ``database_url`` to ``path``, a new file; returns it.

    Refused, before anything is written, for another database, a store in memory, a
    file that exists or a folder that does not; a copy that fails leaves no file behind.
    """
    import sqlite3

    from sqlalchemy.engine import make_url

    from chorus_cli.store.engine import get_engine

    if not database_url.startswith("sqlite"):
        raise BadInput("backup.sqlite_only")
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BadInput("backup.no_file")
    path = path.expanduser()
    if path.exists():
        raise BadInput("backup.exists", path=str(path))
    if not path.parent.is_dir():
        raise BadInput("backup.dir_missing", path=str(path.parent))
    get_engine(database_url)  # the store migrated first, as on any use
    source = sqlite3.connect(Path(database).expanduser(), timeout=30)
    try:
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        path.unlink(missing_ok=True)  # never leave a half-written backup behind
        raise BadInput("backup.failed", path=str(path), reason=str(exc)) from None
    finally:
        source.close()
    return path
