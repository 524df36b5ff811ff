"""chorus attach: attachment requests and «Mes rattachements» (ATT-1..5).

A structure is named by its identifier (a SIRET, a RIDET…) or, for `attach request`,
by its raison sociale too; `--id-type` only when chorus says two types share an
identifier.
"""

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
    from chorus_cli.store.listing import Page, Window

app = new_group("attach", "Attachments (rattachements) to structures and services: ATT-1..5.")

StructureOpt = Annotated[
    str, typer.Option("--structure", metavar="ID", help="The structure's identifier.")
]
ServicesOpt = Annotated[
    list[str] | None,
    typer.Option("--service", metavar="CODE", help="A service code; repeat for several."),
]
RequestIds = Annotated[
    list[int], typer.Argument(metavar="REQUEST_ID...", help="One or more request numbers.")
]


def emit_requests(rows: list[dict] | Page, fmt: str, columns: tuple[str, ...]) -> None:
    """Requests (``attachments.REQUEST_FIELDS``), a table showing ``columns`` (one of
    ``attachments``' ``*_COLUMNS``), and the profile asked for when a subscription (MEM-5)
    is among them (`account history`'s too)."""
    from chorus_cli.store.listing import Page
    from chorus_cli.ui.output import emit

    shown = rows.rows if isinstance(rows, Page) else rows
    if any(row["type"] == "subscription" for row in shown):
        columns = (*columns[:4], "profile", *columns[4:])
    emit(rows, fmt, table=columns)


@app.command()
@data_fields("chorus_cli.domain.attachments:REQUEST_FIELDS")
def request(
    structure: Annotated[
        str,
        typer.Option(
            "--structure", metavar="ID_OR_NAME", help="Identifier or raison sociale (ATT-1)."
        ),
    ],
    comment: Annotated[
        str, typer.Option("--comment", help="Why you ask (mandatory, shown to the managers).")
    ],
    services: ServicesOpt = None,
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Ask to be attached to a structure, or to some of its services (ATT-1).

    A manager of the structure approves or refuses it; you are mailed the decision. A
    name that fits several structures lists them and changes nothing (exit 2).

    Example: chorus attach request --structure "Boulangerie de Nouméa" --comment Comptable
    """
    from chorus_cli.domain import attachments
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        made = attachments.request(uow, actor, structure, comment, services, id_type)
        result = attachments.view(uow, made)
    say(
        "done.attach_requested",
        request=result["id"],
        id=result["structure"],
        approver=result["approver"] or "-",
    )
    emit(result, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.attachments:REQUEST_FIELDS")
def pending(
    structure: Annotated[
        str | None,
        typer.Option("--structure", metavar="ID", help="Only this structure's requests."),
    ] = None,
    id_type: IdTypeOpt = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Requests awaiting a decision on the structures you manage, oldest first (ATT-2).

    Needs «Organisation modification» on the structure; support and admin read them all.

    Example: chorus attach pending --structure 73282932000074 --json
    """
    from chorus_cli.domain import attachments
    from chorus_cli.store.listing import cut

    with as_account() as (uow, actor):
        rows = cut(attachments.pending(uow, actor, structure, id_type), window)
    emit_requests(rows, output_format(fmt, as_json), attachments.PENDING_COLUMNS)


@app.command()
@data_fields("chorus_cli.domain.attachments:REQUEST_FIELDS")
def approve(ids: RequestIds, fmt: FormatOpt = "table", as_json: JsonOpt = False) -> None:
    """Approve requests, several at once (all or none): each requester is attached with
    the default profiles (HAB-3) and mailed (ATT-2).

    Example: chorus attach approve 12 13
    """
    from chorus_cli.domain import attachments
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        decided = attachments.approve(uow, actor, ids)
        rows = [attachments.view(uow, r) for r in decided]
    say("done.attach_approved", count=len(rows), ids=", ".join(str(r["id"]) for r in rows))
    emit_requests(rows, output_format(fmt, as_json), attachments.DECIDED_COLUMNS)


@app.command()
@data_fields("chorus_cli.domain.attachments:REQUEST_FIELDS")
def reject(
    ids: RequestIds,
    reason: Annotated[str, typer.Option("--reason", help="Mailed to each requester.")],
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Refuse requests with a reason, several at once (all or none); each requester is
    mailed the reason (ATT-2).

    Example: chorus attach reject 12 --reason "Inconnu du service"
    """
    from chorus_cli.domain import attachments
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        decided = attachments.reject(uow, actor, ids, reason)
        rows = [attachments.view(uow, r) for r in decided]
    say("done.attach_rejected", count=len(rows), ids=", ".join(str(r["id"]) for r in rows))
    emit_requests(rows, output_format(fmt, as_json), attachments.DECIDED_COLUMNS)


@app.command("list")
@data_fields("chorus_cli.domain.attachments:ATTACHMENT_FIELDS")
def list_(
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """«Mes rattachements»: your structures, whole or by service (ATT-4).

    Example: chorus attach list --json
    """
    from chorus_cli.domain import attachments
    from chorus_cli.store.listing import cut
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        rows = cut(attachments.attachments(uow, actor), window)
    if not rows.rows and not window.offset:
        say("hint.no_structure")
    emit(rows, output_format(fmt, as_json))


@app.command()
def detach(
    structure: StructureOpt,
    services: ServicesOpt = None,
    id_type: IdTypeOpt = None,
) -> None:
    """Leave a structure, with your profiles there, or some of your services (ATT-5).

    The primary manager first hands the role over (chorus structure transfer-primary).

    Example: chorus attach detach --structure 73282932000074 --service ACHATS
    """
    from chorus_cli.domain import attachments
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        found = attachments.detach(uow, actor, structure, services, id_type)
    if services:
        say(
            "done.detached_services",
            id=found.identifier,
            codes=", ".join(services),
            count=len(services),
        )
    else:
        say("done.detached", id=found.identifier)
