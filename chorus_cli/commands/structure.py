"""chorus structure: structures (legal entities) and their services (STR-1..9).

A structure is named by its identifier (a SIRET, ``US-ACME CORP``…), spaces and case
as you like; add ``--id-type`` only when chorus says two types share that identifier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from chorus_cli.commands._common import (
    AccountStatusOpt,
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

app = new_group("structure", "Structures (legal entities) and their services: STR-1..9.")
service_app = new_group("service", "Services of a structure: add, list, update, deactivate.")
app.add_typer(service_app)


StructureArg = Annotated[
    str, typer.Argument(metavar="ID", help="The structure's identifier (SIRET, RIDET…).")
]
TYPES = "SIRET, UE_HORS_FRANCE, HORS_UE, RIDET, TAHITI, EN_COURS_IMMATRICULATION, PARTICULIER"
CodeArg = Annotated[str, typer.Argument(help="The service code.")]


def _render(data: dict[str, Any], fmt: str) -> None:
    """JSON and CSV keep the structure as is; the table reads address and services as text."""
    from chorus_cli.ui.output import emit

    if fmt == "table":
        address = data.get("address")
        data = {
            **data,
            "address": ", ".join(
                [
                    *address["lines"],
                    " ".join(filter(None, (address["postal_code"], address["commune"]))),
                    address["country"] or "",
                ]
            ).strip(", ")
            if address
            else None,
            "services": [
                s["code"] + ("" if s["active"] else " (inactive)") for s in data["services"]
            ],
        }
    emit(data, fmt)


@app.command()
@data_fields("chorus_cli.domain.structures:VIEW_FIELDS")
def create(
    id_type: Annotated[
        str, typer.Option("--id-type", metavar="TYPE", help=f"One of {TYPES} (STR-1).")
    ],
    identifier: Annotated[str, typer.Option("--id", help="The identifier, e.g. a SIRET.")],
    raison_sociale: Annotated[
        str | None,
        typer.Option(
            "--raison-sociale", help="Name; for a SIRET only when INSEE withholds it (STR-3)."
        ),
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="Label (libellé), optional.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail (optional).")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone (optional).")] = None,
    public: Annotated[
        bool, typer.Option("--public", help="A public entity without SIRET: needs approval.")
    ] = False,
    helios: Annotated[
        bool,
        typer.Option("--helios", help="Public SIRET managed in Hélios (admin, correspondent)."),
    ] = False,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Create a structure: you are attached and become its primary manager (STR-1..6).

    A SIRET's raison sociale and address come from SIRENE; a public structure not managed
    in Hélios waits for support's approval.

    Example: chorus structure create --id-type SIRET --id 73282932000074
    """
    from chorus_cli.domain import structures
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        structure = structures.create(
            uow,
            actor,
            id_type=id_type,
            identifier=identifier,
            raison_sociale=raison_sociale,
            label=label,
            email=email,
            phone=phone,
            public=public,
            helios=helios,
        )
        result = structures.view(uow, structure)
    key = "done.structure_pending" if structure.status == "pending" else "done.structure_created"
    say(key, id=structure.identifier, name=structure.raison_sociale)
    _render(result, output_format(fmt, as_json))


STRUCTURE_TABLE_COLUMNS = (
    "identifier",
    "raison_sociale",
    "status",
    "department",
    "primary_manager",
)


@app.command("list")
@data_fields("chorus_cli.domain.structures:LIST_FIELDS")
def list_(
    status: Annotated[str | None, typer.Option("--status", help="active|pending|refused.")] = None,
    public: Annotated[
        bool | None, typer.Option("--public/--private", help="Public entities, or not.")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Of the address: 75, 2A, 974…")
    ] = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List structures by identifier: support and admins see all, a DGFiP correspondent
    the public structures of their departments.

    Example: chorus structure list --public --department 38 --json
    """
    from chorus_cli.domain import structures
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        rows = structures.listing(
            uow,
            actor,
            status=status,
            public=public,
            in_department=department,
            shown=window,
        )
    fmt = output_format(fmt, as_json)
    emit(rows, fmt, table=STRUCTURE_TABLE_COLUMNS)


@app.command()
@data_fields("chorus_cli.domain.structures:VIEW_FIELDS")
def show(
    structure: StructureArg,
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Show a structure: its data, primary manager and services (for its members with
    «Organisation consultation», and support). Its people: `chorus structure members`.

    Example: chorus structure show 73282932000074 --json
    """
    from chorus_cli.domain import structures

    with as_account() as (uow, actor):
        result = structures.show(uow, actor, structure, id_type)
    _render(result, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.structures:SUMMARY_FIELDS")
def search(
    text: Annotated[str, typer.Argument(help="Identifier, or words of the name or label.")],
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Find structures by identifier or by raison sociale/label: word prefixes, any case
    or accent (STR-9).

    Example: chorus structure search "soc gen"
    """
    from chorus_cli.domain import structures
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        rows = structures.search_page(uow, actor, text, window)
    emit(rows, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.structures:VIEW_FIELDS")
def update(
    structure: StructureArg,
    id_type: IdTypeOpt = None,
    label: Annotated[str | None, typer.Option("--label", help="'' to remove.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="'' to remove.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="'' to remove.")] = None,
    service_code_required: Annotated[
        str | None,
        typer.Option(
            "--service-code-required",
            metavar="on|off",
            help="Invoices must name a service code (consulterStructure).",
        ),
    ] = None,
    engagement_number_required: Annotated[
        str | None,
        typer.Option(
            "--engagement-number-required",
            metavar="on|off",
            help="Invoices must name an engagement number (consulterStructure).",
        ),
    ] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Edit a structure's label, e-mail or phone, and its settings (needs «Organisation
    modification», HAB-4).

    Example: chorus structure update 73282932000074 --label "Siège social"
    """
    from chorus_cli.domain import structures
    from chorus_cli.ui.output import say

    given = {
        "label": label,
        "email": email,
        "phone": phone,
        "service_code_required": service_code_required,
        "engagement_number_required": engagement_number_required,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    with as_account() as (uow, actor):
        found = structures.update(uow, actor, structure, changes, id_type)
        result = structures.view(uow, found)
    say("done.structure_updated", id=found.identifier)
    _render(result, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.structures:PENDING_FIELDS")
def pending(
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Support: public structures awaiting approval, oldest first (STR-6).

    Example: chorus structure pending --json
    """
    from chorus_cli.domain import structures
    from chorus_cli.store.listing import cut
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        rows = cut(structures.pending(uow, actor), window)
    emit(rows, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.structures:VIEW_FIELDS")
def approve(
    structure: StructureArg,
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Support: approve a pending public structure; the requester is mailed (STR-6).

    Example: chorus structure approve 1234567001
    """
    from chorus_cli.domain import structures
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        found = structures.approve(uow, actor, structure, id_type)
        result = structures.view(uow, found)
    say("done.structure_approved", id=found.identifier)
    _render(result, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.structures:VIEW_FIELDS")
def refuse(
    structure: StructureArg,
    reason: Annotated[str, typer.Option("--reason", help="Mailed to the requester.")],
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Support: refuse a pending public structure with a reason, mailed to the requester
    (STR-6).

    Example: chorus structure refuse 1234567001 --reason "Gérée dans Hélios"
    """
    from chorus_cli.domain import structures
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        found = structures.refuse(uow, actor, structure, reason, id_type)
        result = structures.view(uow, found)
    say("done.structure_refused", id=found.identifier)
    _render(result, output_format(fmt, as_json))


@app.command("transfer-primary")
@data_fields("chorus_cli.domain.structures:VIEW_FIELDS")
def transfer_primary(
    structure: StructureArg,
    to: Annotated[str, typer.Option("--to", help="Login e-mail of an attached, active account.")],
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Hand the primary manager role to another attached, active account (STR-8).

    Needs «Organisation modification»; the new primary manager gets it too, and both
    are mailed a notice.

    Example: chorus structure transfer-primary 1234567001 --to paul@example.fr
    """
    from chorus_cli.domain import structures
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        found = structures.transfer_primary(uow, actor, structure, to, id_type)
        result = structures.view(uow, found)
    say("done.primary_transferred", id=found.identifier, email=result["primary_manager"])
    _render(result, output_format(fmt, as_json))


# --- a structure's people (MEM-1, MEM-2) ---------------------------------------------

MEMBER_TABLE_COLUMNS = ("login_email", "last_name", "first_name", "status", "role", "services")


@app.command()
@data_fields("chorus_cli.domain.members:FIELDS")
def members(
    structure: StructureArg,
    service: Annotated[
        str | None, typer.Option("--service", metavar="CODE", help="Attached to this service.")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="TEXT", help="Holding a matching profile (HAB-5)."),
    ] = None,
    status: AccountStatusOpt = None,
    id_type: IdTypeOpt = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List the accounts attached to a structure: names, status, role, services, profiles,
    attached since (MEM-1). For holders of «Organisation modification» on it, support,
    admins, and the DGFiP correspondents of its department when it is public.

    The structure's technical accounts (TECH-1) follow its people, with the role
    technical, unless --service, --profile or --status is given.

    Example: chorus structure members 73282932000074 --profile organisation
    """
    from chorus_cli.domain import members as people
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        rows = people.listing(
            uow,
            actor,
            structure,
            service=service,
            profile=profile,
            status=status,
            id_type=id_type,
            shown=window,
        )
    fmt = output_format(fmt, as_json)
    emit(rows, fmt, table=MEMBER_TABLE_COLUMNS)


@app.command("remove-member")
@data_fields("chorus_cli.domain.members:REMOVAL_FIELDS")
def remove_member(
    structure: StructureArg,
    email: Annotated[str, typer.Argument(help="Login e-mail of the account to remove.")],
    service: Annotated[
        list[str] | None,
        typer.Option("--service", metavar="CODE", help="Only from this service (repeatable)."),
    ] = None,
    id_type: IdTypeOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Remove an account from a structure, or from some of its services, with its
    profiles there; it is mailed a notice and its pending requests there lapse (MEM-2).
    For holders of «Organisation modification», support and admins; never the primary
    manager (STR-8) nor the last «Organisation modification» (HAB-5). Asks for
    confirmation unless --yes (from a script, --yes is required).

    Example: chorus structure remove-member 73282932000074 paul@example.fr --yes
    """
    from chorus_cli.domain import members as people
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        checked = people.check(uow, actor, structure, email, service, id_type)
        identifier, login = checked.structure.identifier, checked.account.login_email
        codes = ", ".join(checked.codes)
    # No transaction is open while the person decides (SEC-4); a pipe must say --yes.
    key = "prompt.remove_member_services" if codes else "prompt.remove_member"
    if not yes and not prompts.confirm_at_terminal(
        "mem2.yes_needed", key, email=login, id=identifier, services=codes
    ):
        say("done.remove_member_cancelled", email=login, id=identifier)
        raise typer.Exit(1)
    with as_account() as (uow, actor):
        done = people.remove(uow, actor, structure, email, service, id_type)
        result = people.view(done)
    key = "done.member_removed_services" if done.services else "done.member_removed"
    say(key, email=login, id=identifier, services=", ".join(done.codes), count=done.profiles)
    emit(result, output_format(fmt, as_json))


# --- services (STR-7) ---------------------------------------------------------------


@service_app.command("add")
@data_fields("chorus_cli.domain.structures:SERVICE_FIELDS")
def service_add(
    structure: StructureArg,
    code: Annotated[str, typer.Option("--code", help="Unique within the structure.")],
    label: Annotated[str, typer.Option("--label", help="The service's name.")],
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Add a service to a structure (needs «Organisation modification», STR-7).

    Example: chorus structure service add 1234567001 --code RH --label RH
    """
    from chorus_cli.domain import structures
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        service = structures.add_service(uow, actor, structure, code, label, id_type)
        result = structures.service_row(uow, service)
    say("done.service_added", code=service.code, id=result["structure"])
    emit(result, output_format(fmt, as_json))


@service_app.command("list")
@data_fields("chorus_cli.domain.structures:SERVICE_FIELDS")
def service_list(
    structure: StructureArg,
    id_type: IdTypeOpt = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List a structure's services, inactive ones included (members and support, STR-7);
    a public structure's, for anyone logged in, to choose them in a request (MEM-6).

    Example: chorus structure service list 73282932000074 --json
    """
    from chorus_cli.domain import structures
    from chorus_cli.store.listing import cut
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        rows = cut(structures.services(uow, actor, structure, id_type), window)
    emit(rows, output_format(fmt, as_json))


@service_app.command("update")
@data_fields("chorus_cli.domain.structures:SERVICE_FIELDS")
def service_update(
    structure: StructureArg,
    code: CodeArg,
    label: Annotated[str | None, typer.Option("--label", help="The new name.")] = None,
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Rename a service (needs «Organisation modification», STR-7).

    Example: chorus structure service update 1234567001 ACHATS --label Marchés
    """
    from chorus_cli.domain import structures
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        service = structures.update_service(uow, actor, structure, code, label, id_type)
        result = structures.service_row(uow, service)
    say("done.service_updated", code=service.code, id=result["structure"])
    emit(result, output_format(fmt, as_json))


@service_app.command("deactivate")
@data_fields("chorus_cli.domain.structures:SERVICE_FIELDS")
def service_deactivate(
    structure: StructureArg,
    code: CodeArg,
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Deactivate a service; it stays listed and its code stays taken (STR-7).

    Example: chorus structure service deactivate 73282932000074 ACHATS
    """
    from chorus_cli.domain import service_deactivation, structures
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        service = service_deactivation.deactivate_service(uow, actor, structure, code, id_type)
        result = structures.service_row(uow, service)
    say("done.service_deactivated", code=service.code, id=result["structure"])
    emit(result, output_format(fmt, as_json))
