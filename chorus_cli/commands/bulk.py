"""chorus bulk: flows of accounts, structures and attachments, in and out (OPS-1, OPS-2)."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager as ContextManager
from contextlib import nullcontext
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from chorus_cli.commands._common import (
    STATE,
    FormatOpt,
    IdTypeOpt,
    JsonOpt,
    as_account,
    current_account,
    data_fields,
    new_group,
    output_format,
    unit_of_work,
)

if TYPE_CHECKING:
    from chorus_cli.bulk.service import ImportSummary

app = new_group(
    "bulk",
    "Flows (OPS-1, OPS-2, PUB-2): import and export accounts, structures, attachments.",
)


def import_fields() -> tuple[str, ...]:
    """What `bulk import` tells scripts, in its order: the fields ``_summary_data`` gives
    (an empty summary's)."""
    from chorus_cli.bulk.service import ImportSummary

    return tuple(_summary_data(ImportSummary("", "", "", "", None, False)))


@app.command("import")
@data_fields("chorus_cli.commands.bulk:import_fields")
def import_(
    file: Annotated[
        str,
        typer.Argument(metavar="FILE", help="A CSV, JSON Lines, .xlsx or .ods file."),
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind", metavar="KIND", help="What the file holds: accounts|structures|attachments."
        ),
    ],
    sheet: Annotated[
        str | None,
        typer.Option("--sheet", metavar="NAME", help="The workbook's sheet to read (the first)."),
    ] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Load a flow of accounts, structures or attachments (OPS-1, PUB-1, PUB-2).

    CSV with , or ; between fields (found from the header), UTF-8 with or without BOM or
    cp1252 (Excel), JSON Lines (.jsonl, .ndjson), or a workbook (.xlsx, .ods: its first
    sheet, or --sheet NAME, row numbers as the spreadsheet shows them; OUT-4). A SIRET
    that a spreadsheet stripped of its leading zeros, a phone of its +, is read back
    with a warning naming the line. Columns are found by name: the JSON
    field names (login_email, last_name...) or French labels («Adresse e-mail», «Nom»,
    «Prénom», «Téléphone», «SIRET»...). Every bad row is reported with its line, column
    and rule (exit 2), and then nothing is written; a re-run of the same file changes
    nothing (unchanged N); a row that differs from the store updates it. New accounts
    arrive pending, marked to complete at first login, with their activation mail.

    Who: admin and support; a DGFiP correspondent, rows on public structures of their
    departments, naming existing accounts only within their scope (SEC-11) (exit 4
    otherwise).

    Example: chorus bulk import agents.csv --kind accounts --dry-run
    """
    from chorus_cli.bulk import service
    from chorus_cli.ui.output import emit
    from chorus_cli.ui.progress import ProgressBars

    fmt = output_format(fmt, as_json)
    with unit_of_work() as uow, ProgressBars("bulk_") as bars:
        actor = current_account(uow)

        def progress(done: int, total: int) -> None:
            bars("rows", done, total)

        summary = service.import_file(
            uow, actor, file, kind, dry_run=STATE.dry_run, progress=progress, sheet=sheet
        )
        if summary.written:
            uow.commit()
    _report(summary)
    if fmt != "table":
        emit(_summary_data(summary), fmt if fmt in ("json", "jsonl") else "csv")
    if not summary.ok:
        from chorus_cli.kernel.errors import BadInput, NotAllowed

        error = NotAllowed if summary.denied else BadInput
        raise error(
            "ops1.refused",
            failed=summary.failed,
            file=summary.file,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
        )


def _summary_data(summary: ImportSummary) -> dict:
    from chorus_cli.bulk.service import rule_of
    from chorus_cli.i18n import message

    data = summary.as_dict()
    for name in ("errors", "warnings"):
        data[name] = [
            {
                "line": e.line,
                "column": e.column,
                "rule": rule_of(e.key),
                "message": message(e.key, **e.params),
            }
            for e in getattr(summary, name)
        ]
    return data


def _report(summary: ImportSummary) -> None:
    from chorus_cli.bulk.service import rule_of
    from chorus_cli.i18n import message
    from chorus_cli.ui.output import say

    if summary.unknown_columns:
        say("ops1.unknown_columns", columns=", ".join(summary.unknown_columns))
    for error in summary.errors:
        text = message(error.key, **error.params)
        if error.column:
            say("ops1.bad_row", line=error.line, column=error.column, error=text)
        else:
            say("ops1.bad_line", line=error.line, error=text, rule=rule_of(error.key))
    for warning in summary.warnings:
        text = message(warning.key, **warning.params)
        say("out4.row_warning", line=warning.line, column=warning.column, warning=text)
    if summary.unlisted_warnings:
        say("out4.warnings_unlisted", count=summary.unlisted_warnings)
    if summary.unlisted:
        say(
            "sec10.bad_rows_unlisted",
            count=summary.unlisted,
            listed=summary.failed - summary.unlisted,
        )
    if not summary.ok:
        return  # the refusal that follows says it all
    say(
        "done.bulk_dry_run" if summary.dry_run else "done.bulk_imported",
        file=summary.file,
        kind=summary.kind,
        created=summary.created,
        updated=summary.updated,
        unchanged=summary.unchanged,
        failed=summary.failed,
        seconds=summary.seconds,
    )


@app.command("export")
def export(
    kind: Annotated[
        str,
        typer.Argument(
            metavar="KIND", help="accounts|structures|attachments|habilitations|technical."
        ),
    ],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", metavar="FORMAT", help="csv (default), jsonl or xlsx."),
    ] = "csv",
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write to FILE, not stdout (xlsx needs it)."
        ),
    ] = None,
    excel: Annotated[
        bool,
        typer.Option("--excel", help="CSV as French Excel opens it: ';', UTF-8 with BOM, CRLF."),
    ] = False,
    structure: Annotated[
        str | None,
        typer.Option("--structure", metavar="ID", help="Only this structure's rows."),
    ] = None,
    department: Annotated[
        str | None,
        typer.Option("--department", help="Only structures whose address is there: 75, 2A…"),
    ] = None,
    id_type: IdTypeOpt = None,
) -> None:
    """Write accounts, structures, attachments or habilitations to stdout, as CSV (with
    its header, even with no row) or JSON Lines, streamed (OPS-2). The fields are those
    of the JSON of `show`, so an export re-imports unchanged. Admin and support see
    everything; a DGFiP correspondent, their departments. --structure and --department
    keep the rows of one structure or of one department's structures (the accounts
    attached there, their attachments and profiles there).

    technical: the structures' technical accounts (TECH-1): login, structure, expiry,
    last use; never a password or its hash. Exported, not imported.

    Spreadsheets (OUT-4): --format xlsx --output FILE writes a workbook whose text cells
    keep a SIRET's leading zeros and a phone's +; --excel writes a CSV that French Excel
    opens directly (';', UTF-8 with BOM, CRLF). Both import back as they are. --output
    FILE appears whole when the export is done (never half-written) and replaces a file
    there, never writing through a symbolic link.

    Example: chorus bulk export accounts --structure 21389999000013 > agents.csv
    """
    from chorus_cli.bulk import export as exporter
    from chorus_cli.ui.output import say

    fmt = fmt.lower()
    exporter.check_format(kind, fmt, excel, output)
    target: ContextManager[IO[Any]] = (
        nullcontext(sys.stdout)
        if output is None
        else exporter.output_file(output, binary=fmt == "xlsx")
    )
    with as_account() as (uow, actor), target as out:
        count = exporter.export(
            uow,
            actor,
            kind,
            fmt,
            out,
            structure=structure,
            department=department,
            id_type=id_type,
            excel=excel,
        )
    sys.stdout.flush()
    say("done.bulk_exported", count=count, kind=kind)
