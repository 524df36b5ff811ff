"""chorus habil: the catalogue of profiles and «Mes habilitations» (HAB-1..6)."""

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

app = new_group("habil", "Habilitations: the catalogue, your profiles, grant and revoke: HAB-1..6.")

EmailArg = Annotated[str, typer.Argument(help="Login e-mail of the account.")]
StructureOpt = Annotated[
    str, typer.Option("--structure", metavar="ID", help="The structure's identifier.")
]
AppOpt = Annotated[
    str,
    typer.Option("--app", metavar="APP", help="Application code or name (chorus habil catalogue)."),
]
ServiceOpt = Annotated[
    str | None,
    typer.Option("--service", metavar="CODE", help="Only on this service of the structure."),
]


@app.command()
@data_fields("chorus_cli.domain.catalogue:ROW_FIELDS")
def catalogue(
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """The domains, applications and profiles of Chorus Pro (HAB-1, HAB-2).

    Example: chorus habil catalogue --json
    """
    from chorus_cli.domain import catalogue as applications
    from chorus_cli.domain import habilitations
    from chorus_cli.store.listing import cut
    from chorus_cli.ui.output import emit

    with as_account():  # like every portal page, for a logged-in account (SPEC)
        pass
    rows, fmt = cut(habilitations.catalogue_rows(), window), output_format(fmt, as_json)
    # The profiles are the application's name and each level.
    emit(rows, fmt, table=[f for f in applications.ROW_FIELDS if f != "profiles"])


@app.command("list")
@data_fields("chorus_cli.domain.habilitations:FIELDS")
def list_(
    structure: Annotated[
        str | None, typer.Option("--structure", metavar="ID", help="Only this structure.")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="TEXT",
            help="Profile sought («Profil recherché»): words of the application, domain…",
        ),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account", metavar="EMAIL", help="Another member's (with --structure, HAB-4)."
        ),
    ] = None,
    id_type: IdTypeOpt = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """«Mes habilitations»: your profiles per structure and service (HAB-5).

    --profile filters like the portal's «Profil recherché»: words of the application,
    its domain or the level, any case or accent.

    Example: chorus habil list --structure 73282932000074 --profile "factures modif"
    """
    from chorus_cli.domain import habilitations
    from chorus_cli.store.listing import cut
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        found = habilitations.listing(
            uow, actor, structure, profile=profile, email=account, id_type=id_type
        )
    rows = cut(found, window)
    shown = ("structure", "raison_sociale", "service", "domain", "profile")
    emit(rows, output_format(fmt, as_json), table=shown)


@app.command()
@data_fields("chorus_cli.domain.habilitations:FIELDS")
def grant(
    email: EmailArg,
    structure: StructureOpt,
    application: AppOpt,
    level: Annotated[
        str, typer.Option("--level", metavar="LEVEL", help="consultation or modification.")
    ],
    service: ServiceOpt = None,
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Give an attached account a profile, or change its level (needs «Organisation
    modification», HAB-2, HAB-4); the account is mailed a notice.

    Example: chorus habil grant ana@sas.fr --structure C12345 --app engagements --level consultation
    """
    from chorus_cli.domain import habilitations
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        result, changed = habilitations.grant(
            uow, actor, email, structure, application, level, service, id_type
        )
    key = "done.habil_granted" if changed else "done.habil_unchanged"
    say(key, profile=result["profile"], email=email.strip().lower(), id=result["structure"])
    emit(result, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.habilitations:FIELDS")
def revoke(
    email: EmailArg,
    structure: StructureOpt,
    application: AppOpt,
    service: ServiceOpt = None,
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Remove a profile: anyone's with «Organisation modification», your own always;
    never a structure's last «Organisation modification» (HAB-5).

    Example: chorus habil revoke paul@example.fr --structure 73282932000074 --app engagements
    """
    from chorus_cli.domain import habilitations
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        result = habilitations.revoke(uow, actor, email, structure, application, service, id_type)
    say(
        "done.habil_revoked",
        profile=result["profile"],
        email=email.strip().lower(),
        id=result["structure"],
    )
    emit(result, output_format(fmt, as_json))


@app.command("request")
@data_fields("chorus_cli.domain.attachments:REQUEST_FIELDS")
def request_(
    structure: StructureOpt,
    application: Annotated[
        str,
        typer.Option(
            "--application",
            metavar="APP",
            help="Application code or name (chorus habil catalogue).",
        ),
    ],
    level: Annotated[
        str, typer.Option("--level", metavar="LEVEL", help="consultation or modification.")
    ],
    comment: Annotated[
        str, typer.Option("--comment", help="Why you ask (mandatory, shown to the managers).")
    ],
    services: Annotated[
        list[str] | None,
        typer.Option("--service", metavar="CODE", help="A service code; repeat for several."),
    ] = None,
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """«Abonnement»: ask for a profile on a structure you are attached to, or on some of
    its services (MEM-5).

    A manager of the structure approves or refuses it (chorus attach approve|reject); you
    are mailed the decision, and chorus account history shows the request.

    Example: chorus habil request --structure C12345 --application engagements
    --level modification --comment Suivi
    """
    from chorus_cli.domain import attachments
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        made = attachments.subscribe(
            uow, actor, structure, application, level, comment, services, id_type
        )
        result = attachments.view(uow, made)
    say(
        "done.subscription_requested",
        request=result["id"],
        profile=result["profile"],
        id=result["structure"],
        approver=result["approver"] or "-",
    )
    emit(result, output_format(fmt, as_json))
