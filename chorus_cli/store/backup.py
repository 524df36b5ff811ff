"""A copy of a SQLite store by SQLite's online backup, safe while others write (OPS-5)."""

from __future__ import annotations

import os
from pathlib import Path

from chorus_cli.kernel.errors import BadInput


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
    if not path.parent.is_dir():
        raise BadInput("backup.dir_missing", path=str(path.parent))
    get_engine(database_url)  # the store migrated first, as on any use
    from chorus_cli.store import files

    # The copy holds every hash, live link and the audit: 0600 from its first byte, in a
    # file made here (SEC-12), never through a link planted at the path (even a dangling
    # one, which ``exists()`` does not see).
    try:
        descriptor = files.create_private(path)
    except FileExistsError:
        raise BadInput("backup.exists", path=str(path)) from None
    try:
        made = os.fstat(descriptor)
        source = sqlite3.connect(Path(database).expanduser(), timeout=30)
        try:
            now = os.lstat(path)
            if (now.st_dev, now.st_ino) != (made.st_dev, made.st_ino):  # swapped meanwhile
                raise BadInput("sec12.symlink_refused", path=str(path))
            target = sqlite3.connect(path)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        path.unlink(missing_ok=True)  # never leave a half-written backup behind
        raise BadInput("backup.failed", path=str(path), reason=str(exc)) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        os.close(descriptor)
    return path
