"""chorus db: migrations and backups (OPS-5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chorus_cli.commands._common import (
    STATE,
    FormatOpt,
    JsonOpt,
    current_account,
    data_fields,
    new_group,
    output_format,
    unit_of_work,
)

app = new_group("db", "The store: migrations, backups, a copy to another store, the TOTP seed key.")


@app.command()
def upgrade() -> None:
    """Migrate the store to the newest schema (also done on first use), seal the TOTP
    seeds an older chorus kept in clear (SEC-2), and drop the half-built tables an
    interrupted SIRENE import left behind.

    Example: chorus db upgrade
    """
    from chorus_cli.domain.factors import seeds
    from chorus_cli.sirene.build import drop_leftovers
    from chorus_cli.store.engine import HEAD_REVISION, get_engine
    from chorus_cli.ui.output import say

    engine = get_engine(STATE.settings.database_url)
    dropped = drop_leftovers(engine)
    with unit_of_work() as uow:  # TOTP seeds of older stores sealed (SEC-2)
        count = seeds.seal_plaintext(uow)
        uow.commit()
    # Said once all of it is done: a role that may not write the store hears why, and
    # never "up to date" first (SEC-12).
    say("done.migrated", rev=HEAD_REVISION)
    if count:
        say("sec2.done_sealed", count=count)
    if dropped:
        say("done.staging_dropped", count=dropped)


@app.command()
def backup(path: Annotated[Path, typer.Argument(help="The backup file to write.")]) -> None:
    """Copy a SQLite store with SQLite's online backup, safe while others write.

    Example: chorus db backup ~/chorus-2026-11-25.db
    """
    from chorus_cli.store.backup import backup as copy_file
    from chorus_cli.ui.output import say

    path = copy_file(STATE.settings.database_url, path)
    say("done.backup", path=str(path))


@app.command()
@data_fields("chorus_cli.store.copy:DESCRIBED")
def copy(
    to: Annotated[str, typer.Option("--to", metavar="URL", help="The empty store to copy into.")],
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Copy the whole store (every table, ids kept) into an empty store: from the SQLite
    file to PostgreSQL when a deployment outgrows it, or back (OPS-7). The target is
    migrated first and every table's row count checked at the end; a target that holds
    data is refused and nothing is written. No session needed (local trust); yours, if
    any, works on the new store too.

    Example: chorus db copy --to postgresql://chorus@db.example.fr/chorus
    """
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.copy import copy_store, describe, session_follows
    from chorus_cli.ui.output import emit, say
    from chorus_cli.ui.progress import ProgressBars

    source = STATE.settings.database_url
    now = (STATE.clock or SystemClock()).now()
    with ProgressBars("copy_") as bars:
        summary = copy_store(source, to, now, lambda done, total: bars("rows", done, total))
    say("done.copied", rows=summary.rows, tables=len(summary.tables), target=summary.target,
        seconds=summary.seconds)  # fmt: skip
    if summary.unsettled:
        say("done.copy_not_analyzed", target=summary.target, reason=summary.unsettled)
    if session_follows(source, to):
        say("done.copy_session", target=summary.target)
    fmt = output_format(fmt, as_json)
    if fmt != "table":
        emit(describe(summary), fmt)


# What `db rotate-key` tells scripts (SEC-2).
ROTATION_FIELDS = ("old_key_id", "new_key_id", "resealed", "old_key_removed")


@app.command("rotate-key")
@data_fields(ROTATION_FIELDS)
def rotate_key(
    keep_old: Annotated[
        bool,
        typer.Option("--keep-old", help="Keep the old key in the keyring (a copy still uses it)."),
    ] = False,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Seal every TOTP seed with a new key, in one transaction, then remove the old key
    from the keyring (SEC-2; admins). The new key goes to the keyring; when
    CHORUS_SEED_KEY is set, it is its first key: put the new key first and the old one
    after a comma (CHORUS_SEED_KEY=NEW,OLD), run this, then drop the old one.

    Example: chorus db rotate-key
    """
    from chorus_cli.domain.factors import seeds
    from chorus_cli.ui.output import emit, say

    with unit_of_work() as uow:
        actor = current_account(uow)
        rotation = seeds.rotate(uow, actor)
        try:
            uow.commit()
        except BaseException:
            seeds.discard(rotation)
            raise
    if not keep_old:  # only now: until the commit, the store still named the old key
        seeds.retire(rotation)
    say("sec2.done_rotated", count=rotation.count, new=rotation.new)
    kept = rotation.old is not None and (keep_old or rotation.old_in_env)
    if kept:
        say("sec2.done_old_kept", old=rotation.old)
    fmt = output_format(fmt, as_json)
    if fmt != "table":
        removed = rotation.old is not None and not kept
        shown = (rotation.old, rotation.new, rotation.count, removed)
        emit(dict(zip(ROTATION_FIELDS, shown, strict=True)), fmt)
