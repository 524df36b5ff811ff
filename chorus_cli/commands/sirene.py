"""chorus sirene: INSEE's SIRENE register, offline (stock files) or through the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from chorus_cli.commands._common import (
    FormatOpt,
    JsonOpt,
    as_account,
    current_account,
    data_fields,
    new_group,
    output_format,
    unit_of_work,
)

if TYPE_CHECKING:
    from chorus_cli.sirene.build import IndexSummary
    from chorus_cli.store.listing import Window

app = new_group(
    "sirene",
    "The SIRENE register (STR-2): INSEE's stock files as an offline index, the INSEE API.",
)


@app.command("import")
@data_fields("chorus_cli.sirene.build:IndexSummary")
def import_(
    establishments: Annotated[
        str,
        typer.Argument(
            metavar="STOCK_ETABLISSEMENT", help="INSEE's StockEtablissement file, .csv or .zip."
        ),
    ],
    units: Annotated[
        str | None,
        typer.Option(
            "--unites-legales",
            metavar="STOCK_UNITE_LEGALE",
            help="INSEE's StockUniteLegale file, .csv or .zip (names and legal categories);"
            " without it the legal units of the previous import serve.",
        ),
    ] = None,
    allow_empty: Annotated[
        bool,
        typer.Option("--allow-empty", help="Accept a file with no row: the index becomes empty."),
    ] = False,
    departments: Annotated[
        str | None,
        typer.Option(
            "--departments",
            metavar="CODES",
            help="Keep only the establishments of these départements (comma-separated:"
            " 38,73; 2A, 2B, 971..976) and their legal units.",
        ),
    ] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Replace the offline SIRENE index with INSEE's stock files (STR-2, STR-3).

    An operator task: needs a session with the admin or support role. The files are
    read as INSEE publishes them (UTF-8 CSV with a header line, or the zip holding it);
    columns are found by name. A file missing a required column is refused before the
    index changes; a malformed line is skipped and reported with its number. The new
    index replaces the old one whole, at the end: lookups never see a half-built index.
    The summary goes to stderr; --format json also prints it on stdout.

    Example: chorus sirene import StockEtablissement.zip --unites-legales StockUniteLegale.zip
    """
    from chorus_cli.domain import sirene
    from chorus_cli.ui.output import emit
    from chorus_cli.ui.progress import ProgressBars

    fmt = output_format(fmt, as_json)
    with unit_of_work() as uow, ProgressBars("sirene_") as bar:
        actor = current_account(uow)
        summary = sirene.import_index(
            uow,
            actor,
            establishments,
            units,
            progress=bar,
            allow_empty=allow_empty,
            departments=departments,
        )
        uow.commit()
    _report(summary)
    if fmt in ("json", "jsonl"):
        emit(summary.as_dict(), fmt)
    elif fmt == "csv":
        flat = summary.as_dict()
        flat["departments"] = ",".join(flat["departments"] or [])
        emit({k: v for k, v in flat.items() if k != "skipped_rows"}, "csv")


def _report(summary: IndexSummary) -> None:
    from chorus_cli.i18n import message
    from chorus_cli.ui.output import say

    say(
        "done.sirene_imported",
        establishments=summary.establishments,
        units=summary.units,
        skipped=summary.skipped,
        seconds=summary.seconds,
    )
    if summary.units_kept:
        say("done.sirene_units_kept", units=summary.units)
    if summary.departments:
        say(
            "done.sirene_departments",
            departments=", ".join(summary.departments),
            kept=summary.establishments,
            outside=summary.outside,
        )
    if summary.duplicates:
        say("done.sirene_duplicates", count=summary.duplicates)
    for row in summary.skipped_rows:
        reason = message(f"sirene.reason.{row.reason}", value=row.value)
        say("done.sirene_skipped_line", file=row.file, line=row.line, reason=reason)
    if summary.skipped > len(summary.skipped_rows):
        say("done.sirene_more_skipped", count=summary.skipped - len(summary.skipped_rows))


@app.command()
@data_fields("chorus_cli.sirene.update:UpdateSummary")
def update(
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE",
            help="Ask for the changes from this day (YYYY-MM-DD) instead of from the last"
            " import or update.",
        ),
    ] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Apply to the offline index what INSEE changed since the last import or update,
    from the INSEE Sirene API (STR-2).

    An operator task: needs a session with the admin or support role, and the API key
    (chorus sirene configure-api). Asks for the establishments changed since then, page
    by page within the API's rate limit (30 requests a minute), and applies each page
    in its own transaction: a closed establishment becomes closed, a new one appears,
    search sees both. A run cut in the middle keeps what it applied; the next one
    resumes after it. The summary goes to stderr; --format json also prints it.

    Example: chorus sirene update --since 2026-11-01
    """
    from chorus_cli.domain import sirene
    from chorus_cli.ui.output import emit, say

    fmt = output_format(fmt, as_json)
    with as_account() as (uow, actor):
        summary = sirene.update_index(uow, actor, since)
    say(
        "done.sirene_updated",
        since=summary.since,
        pages=summary.pages,
        added=summary.added,
        changed=summary.changed,
        closed=summary.closed,
        seconds=summary.seconds,
    )
    if summary.outside:
        say("done.sirene_update_outside", count=summary.outside)
    if fmt in ("json", "jsonl", "csv"):
        emit(summary.as_dict(), fmt)


@app.command()
@data_fields("chorus_cli.sirene:Establishment")
def lookup(
    siret: Annotated[str, typer.Argument(help="The SIRET: 14 digits, spaces allowed.")],
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Show the establishment with this SIRET: from the offline index, else from the
    INSEE API when a key is configured (STR-1..3).

    Needs a session (any account). The SIRET is checked first (Luhn, or La Poste's
    rule: exit 2); unknown is exit 3. A non-diffusible establishment shows no address.

    Example: chorus sirene lookup 356 000 000 00048 --json
    """
    from dataclasses import asdict

    from chorus_cli.domain import sirene
    from chorus_cli.ui.output import emit

    fmt = output_format(fmt, as_json)
    with as_account() as (uow, _):
        found = sirene.lookup(uow, siret)
    data = asdict(found)
    if fmt == "table" and data["address"]:
        data["address"] = ", ".join(data["address"].splitlines())
    emit(data, fmt)


@app.command()
@data_fields("chorus_cli.sirene.index:SEARCH_FIELDS")
def search(
    text: Annotated[list[str], typer.Argument(help="Words of the name, or a SIREN.")],
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Search the offline index by name: every word, whole or as a prefix, best first
    (STR-2); a SIREN lists its establishments.

    Needs a session (any account). Ranking: whole words over prefixes, short names over
    long; a legal unit's establishments together, active ones and the head office
    first. Searches the offline index only (not the INSEE API).

    Example: chorus sirene search boulangerie dup --limit 5
    """
    from chorus_cli.domain import sirene
    from chorus_cli.sirene.index import SEARCH_CANDIDATES
    from chorus_cli.ui.output import emit, say

    fmt = output_format(fmt, as_json)
    with as_account() as (uow, _):
        rows, truncated = sirene.search_page(uow, " ".join(text), window)
    if truncated:
        say("sirene.search_truncated", cap=SEARCH_CANDIDATES)
    if fmt == "table" and not rows.rows:
        say("sirene.search_none")
        return
    shown = ("siret", "raison_sociale", "enseigne", "postal_code", "commune", "active", "siege")
    emit(rows, fmt, table=shown)


@app.command("configure-api")
def configure_api(
    key_stdin: Annotated[
        bool, typer.Option("--key-stdin", help="Read the key from the first stdin line.")
    ] = False,
    remove: Annotated[bool, typer.Option("--remove", help="Forget the key.")] = False,
) -> None:
    """Keep the INSEE Sirene API key in the keyring (service chorus-insee), or remove it
    (STR-2).

    An operator task: needs a session with the admin or support role. The key is typed
    hidden (or piped); with it, lookups of SIRETs missing from the offline index ask
    the INSEE Sirene API 3.11. Without a key chorus never calls the network.

    Example: chorus sirene configure-api --key-stdin < insee-key.txt
    """
    import sys

    from chorus_cli.domain import sirene
    from chorus_cli.ui.output import say
    from chorus_cli.ui.prompts import ask

    def read_key() -> str:
        if key_stdin:
            return sys.stdin.readline()
        return ask("prompt.insee_key", secret=True) or ""

    with as_account() as (uow, actor):
        if remove:
            removed = sirene.remove_api_key(uow, actor)
        else:
            sirene.set_api_key(uow, actor, read_key)
    if remove:
        say("done.sirene_key_removed" if removed else "done.sirene_no_key")
    else:
        say("done.sirene_key_saved")
