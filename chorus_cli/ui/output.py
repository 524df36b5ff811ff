"""One output helper for every command: the same rows as a table, JSON or CSV.

Data goes to stdout alone; messages go to stderr (``say``).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from chorus_cli.i18n import message
from chorus_cli.kernel.errors import BadInput
from chorus_cli.store.listing import Page
from chorus_cli.ui.cells import _csv_cell, _json, plain, set_plain

__all__ = ["FORMATS", "check_fields", "emit", "plain", "say", "set_plain", "set_shaping"]

FORMATS = ("table", "json", "csv", "jsonl")


@dataclass
class Shaping:
    """What ``--fields`` and ``--excel`` asked of the running command's output (set for
    every command that shows data by ``commands/_shaping.py``)."""

    fields: list[str] | None = None
    excel: bool = False
    # The fields the command declares it shows (``commands._common.data_fields``).
    columns: tuple[str, ...] | None = None


_shaping = Shaping()

# The single records ``emit`` is handed (not a listing's rows), kept while a caller in
# this process asks for them (``inprocess.invoke``): `chorus demo` takes a value a command
# showed in a table (the technical account's password) from the record, not from the
# table's text.
handed: list[dict[str, Any]] | None = None


def set_shaping(
    fields: list[str] | None, excel: bool, columns: tuple[str, ...] | None = None
) -> None:
    """The running command's ``--fields`` and ``--excel`` (OUT-3, OUT-4), and the
    fields it declares."""
    _shaping.fields = fields
    _shaping.excel = excel
    _shaping.columns = columns


def say(key: str, **params: Any) -> None:
    """A message for the user, on stderr, in the current language."""
    print(message(key, **params), file=sys.stderr)


def emit(
    data: list[dict[str, Any]] | dict[str, Any] | Iterable[dict[str, Any]] | Page,
    fmt: str,
    title: str | None = None,
    columns: list[str] | tuple[str, ...] | None = None,
    table: list[str] | tuple[str, ...] | None = None,
) -> None:
    """Print one object (``show``) or a list of rows in the chosen format.

    ``columns``: a list's fields (by default those the command declares,
    ``commands._common.data_fields``), so that an empty CSV keeps its header; an empty
    list says "nothing found" on stderr at a terminal (and nothing at all to a script).
    ``table``: the fields a terminal table shows, in order (JSON and CSV keep them all).
    A listing's ``Page`` (OUT-2) may stream its rows: JSON, JSONL and CSV write them as
    they come; a table says on stderr how many rows there are when more exist than shown.
    ``--fields`` (OUT-3) keeps the fields named, in that order, in every format; ``--excel``
    (OUT-4) writes CSV as French Excel opens it.
    """
    total = None
    columns = _shaping.columns if columns is None else columns
    if isinstance(data, Page):
        data, total = data.rows, data.total
    if _shaping.excel:
        if fmt not in ("table", "csv"):
            raise BadInput("out4.excel_csv_only", format=fmt)
        fmt = "csv"
    # --fields was checked against what the command declares before it ran (``_shaping``):
    # a declared field a row lacks shows null.
    if isinstance(data, dict):
        if handed is not None:
            handed.append(data)
        _emit_record(_kept(data), fmt, title)
        return
    rows: Iterator[dict[str, Any]] = iter(data)
    first = next(rows, None)
    fields = _shaping.fields
    if fields is not None:
        rows = (_kept(row) for row in rows)
        first = _kept(first) if first is not None else None
    elif fmt == "table" and table:
        rows = ({key: row[key] for key in table} for row in rows)
        first = {key: first[key] for key in table} if first is not None else None
    if first is None and sys.stderr.isatty():
        say("done.nothing_found")
    every = chain((first,), rows) if first is not None else iter(())
    if fmt == "json":
        _json_rows(every)
    elif fmt == "jsonl":
        for row in every:
            sys.stdout.write(_json(row, None) + "\n")
    elif fmt == "csv":
        header = fields or (list(first) if first is not None else list(columns or ()))
        _csv_rows(every, header)
    elif first is not None:
        from chorus_cli.ui.tables import print_table

        shown = list(every)
        print_table(shown, title)
        if total is not None and total > len(shown):
            say("out2.more_rows", shown=number(len(shown)), total=number(total))


def number(n: int) -> str:
    """``2 002`` in French (a narrow no-break space), ``2,002`` in English."""
    from chorus_cli.i18n import current

    return f"{n:,}".replace(",", "\u202f" if current() == "fr" else ",")


def check_fields(fields: list[str], known: list[str]) -> None:
    """``--fields`` names only ``known`` fields (OUT-3): else bad input naming them."""
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise BadInput("out3.unknown_field", name=unknown[0], valid=", ".join(known))


def _kept(row: dict[str, Any]) -> dict[str, Any]:
    """The row's fields ``--fields`` named, in that order (all of them without it)."""
    fields = _shaping.fields
    return row if fields is None else {f: row.get(f) for f in fields}


def _emit_record(data: dict[str, Any], fmt: str, title: str | None) -> None:
    if fmt == "json":
        sys.stdout.write(_json(data, 2) + "\n")
    elif fmt == "jsonl":
        sys.stdout.write(_json(data, None) + "\n")
    elif fmt == "csv":
        _csv_rows(iter((data,)), list(data))
    else:
        from chorus_cli.ui.tables import print_record

        print_record(data, title)


def _json_rows(rows: Iterator[dict[str, Any]]) -> None:
    """A JSON array as ``json.dumps(rows, indent=2)`` writes it, one row at a time."""
    out = sys.stdout
    opened = False
    for row in rows:
        text = _json(row, 2).replace("\n", "\n  ")
        out.write((",\n  " if opened else "[\n  ") + text)
        opened = True
    out.write("\n]\n" if opened else "[]\n")


def _csv_rows(rows: Iterator[dict[str, Any]], header: list[str]) -> None:
    if not header:
        return
    from chorus_cli.kernel.excel import BOM, csv_dialect

    if _shaping.excel:
        sys.stdout.write(BOM)
    writer = csv.DictWriter(sys.stdout, fieldnames=header, **csv_dialect(_shaping.excel))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
