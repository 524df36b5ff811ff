"""chorus api: what the integrators' API needs registered (API-2)."""

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

app = new_group("api", "The local Chorus Pro API: its registered clients (API-2).")
client_app = new_group("client", "API clients: their id and secret for POST /api/oauth/token.")
app.add_typer(client_app)

LIST_COLUMNS = ("id", "name", "client_id", "created_at", "last_used_at")


@client_app.command()
@data_fields("chorus_cli.domain.api_clients:REGISTERED_FIELDS")
def add(
    name: Annotated[str, typer.Argument(help="A name for the client (the ERP, the tool).")],
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Register an API client (admins): prints its client_id and its client_secret, once
    (the secret is kept only as a hash). The client gets bearer tokens with
    grant_type=client_credentials at POST /api/oauth/token (API-2).

    Example: chorus api client add "ERP Mairie" --format json
    """
    from chorus_cli.domain import api_clients
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        shown = api_clients.add(uow, actor, name).view()
    say("done.api_client_added", name=shown["name"])
    emit(shown, output_format(fmt, as_json))


@client_app.command("list")
@data_fields("chorus_cli.domain.api_clients:FIELDS")
def list_(
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List the registered API clients by name (admins); never their secret.

    Example: chorus api client list
    """
    from chorus_cli.domain import api_clients
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        rows = api_clients.listing(uow, actor, shown=window)
    emit(rows, output_format(fmt, as_json), table=LIST_COLUMNS)


@client_app.command()
def remove(
    client: Annotated[
        str, typer.Argument(metavar="NAME|ID", help="The client's name, number or client_id.")
    ],
) -> None:
    """Remove an API client (admins): its tokens stop working at once.

    Example: chorus api client remove "ERP Mairie"
    """
    from chorus_cli.domain import api_clients
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        gone = api_clients.remove(uow, actor, client)
        name = gone.name
    say("done.api_client_removed", name=name)
