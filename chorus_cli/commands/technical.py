"""chorus account technical: a structure's technical accounts (TECH-1, TECH-2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from chorus_cli.commands._common import (
    FormatOpt,
    IdTypeOpt,
    JsonOpt,
    as_account,
    data_fields,
    new_group,
    output_format,
)

if TYPE_CHECKING:
    from chorus_cli.store.listing import Window

app = new_group(
    "technical", "Technical accounts of a structure, for its software's API calls (TECH-1)."
)

LoginArg = Annotated[
    str, typer.Argument(metavar="LOGIN", help="The technical login, TECH_<n>_<identifier>@cpro.fr.")
]
LIST_COLUMNS = ("login", "structure", "status", "expires_at", "last_used_at")


@app.command()
@data_fields("chorus_cli.domain.technical:ISSUED_FIELDS")
def create(
    structure: Annotated[
        str, typer.Option("--structure", metavar="ID", help="The structure it acts for.")
    ],
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Create a technical account for a structure (TECH-1), by its primary manager or an
    admin: prints its login, TECH_<n>_<identifier>@cpro.fr, and its generated password,
    once (kept only as a hash). The password expires after 424 days (TECH-2). The
    account has the rights of the structure's primary manager on that structure, for
    API calls only: it cannot log in and has no second factor.

    Example: chorus account technical create --structure 21389999000013 --format json
    """
    from chorus_cli.domain import technical
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        issued = technical.create(uow, actor, structure, id_type)
        shown = issued.view()
    say("done.technical_created", login=shown["login"], at=shown["expires_at"])
    emit(shown, output_format(fmt, as_json))


@app.command("list")
@data_fields("chorus_cli.domain.technical:FIELDS")
def list_(
    structure: Annotated[
        str | None, typer.Option("--structure", metavar="ID", help="Of this structure only.")
    ] = None,
    id_type: IdTypeOpt = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List technical accounts by login: status (active, expired), expiry, last use.
    Those of the structures whose members you see (support and admins: all).

    Example: chorus account technical list --structure 21389999000013
    """
    from chorus_cli.domain import technical
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        rows = technical.listing(uow, actor, structure, id_type, shown=window)
    emit(rows, output_format(fmt, as_json), table=LIST_COLUMNS)


@app.command("reset-password")
@data_fields("chorus_cli.domain.technical:ISSUED_FIELDS")
def reset_password(
    login: LoginArg,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Give a technical account a new generated password, printed once, valid 424 days
    (TECH-2); by the structure's primary manager or an admin. The old one stops working.

    Example: chorus account technical reset-password TECH_1_21389999000013@cpro.fr
    """
    from chorus_cli.domain import technical
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        shown = technical.reset_password(uow, actor, login).view()
    say("done.technical_reset", login=shown["login"], at=shown["expires_at"])
    emit(shown, output_format(fmt, as_json))


@app.command()
def delete(
    login: LoginArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a technical account (TECH-2); its audit trail stays. By the structure's
    primary manager or an admin. Asks for confirmation unless --yes.

    Example: chorus account technical delete TECH_1_21389999000013@cpro.fr --yes
    """
    from chorus_cli.domain import technical
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        found = technical.deletion(uow, actor, login).login
    # No transaction is open while the person decides (SEC-4); the deletion checks again.
    if not yes and not prompts.confirm("prompt.delete_technical", login=found):
        say("done.delete_cancelled", email=found)
        raise typer.Exit(1)
    with as_account() as (uow, actor):
        technical.delete(uow, actor, login)
    say("done.technical_deleted", login=found)
