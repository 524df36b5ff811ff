"""chorus db: migrations and backups (OPS-5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chorus_cli.commands._common import STATE, new_group

app = new_group("db", "The store: migrations and backups.")


@app.command()
def upgrade() -> None:
    """Migrate the store to the newest schema (also done on first use).

    Example: chorus db upgrade
    """
    from chorus_cli.store.engine import HEAD_REVISION, get_engine
    from chorus_cli.ui.output import say

    get_engine(STATE.settings.database_url)
    say("done.migrated", rev=HEAD_REVISION)


@app.command()
def backup(path: Annotated[Path, typer.Argument(help="The backup file to write.")]) -> None:
    """Copy a SQLite store with SQLite's online backup, safe while others write.

    Example: chorus db backup ~/chorus-2026-11-25.db
    """
    import sqlite3

    from sqlalchemy.engine import make_url

    from chorus_cli.domain.errors import BadInput
    from chorus_cli.store.engine import get_engine
    from chorus_cli.ui.output import say

    url = STATE.settings.database_url
    if not url.startswith("sqlite"):
        raise BadInput("backup.sqlite_only")
    if path.exists():
        raise BadInput("backup.exists", path=str(path))
    get_engine(url)
    source = sqlite3.connect(make_url(url).database)
    target = sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    say("done.backup", path=str(path))
