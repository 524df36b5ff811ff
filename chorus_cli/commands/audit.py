"""chorus audit: who changed what, when (OPS-4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from chorus_cli.commands._common import (
    FormatOpt,
    JsonOpt,
    as_account,
    data_fields,
    new_group,
    output_format,
)

if TYPE_CHECKING:
    from chorus_cli.store.listing import Window

app = new_group("audit", "The audit log: every change, its actor and target.")


@app.command("list")
@data_fields("chorus_cli.domain.audit:AUDIT_FIELDS")
def list_(
    actor: Annotated[
        str | None, typer.Option("--actor", help="E-mail, system or anonymous.")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="What was changed.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Action or its prefix (account, login…).")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="ISO 8601 time.")] = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List audit entries, newest first: all of them for support and admins, your own
    activity otherwise (OPS-4).

    Example: chorus audit list --target marie@example.fr --since 2026-11-25T00:00
    """
    from chorus_cli.domain import audit
    from chorus_cli.ui.output import emit

    with as_account() as (uow, viewer):
        page = audit.listing(
            uow, viewer, actor=actor, target=target, action=action, since=since, shown=window
        )
        # Written while the store is read: with --all, JSON, JSONL and CSV stream (OUT-2).
        emit(page, output_format(fmt, as_json))
