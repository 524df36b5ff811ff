"""One output helper for every command: the same rows as a table, JSON or CSV.

Data goes to stdout alone; messages go to stderr (``say``).
"""

from __future__ import annotations

import csv
import sys
from typing import Any

from chorus_cli.i18n import message
from chorus_cli.ui.cells import _csv_cell, _json, plain, set_plain

__all__ = ["FORMATS", "emit", "plain", "say", "set_plain"]

FORMATS = ("table", "json", "csv")


def say(key: str, **params: Any) -> None:
    """A message for the user, on stderr, in the current language."""
    print(message(key, **params), file=sys.stderr)


def emit(
    data: list[dict[str, Any]] | dict[str, Any],
    fmt: str,
    title: str | None = None,
    columns: list[str] | tuple[str, ...] | None = None,
    table: list[str] | tuple[str, ...] | None = None,
) -> None:
    """Print one object (``show``) or a list of rows in the chosen format.

    ``columns``: a list's fields, so that an empty CSV keeps its header; an empty list
    says "nothing found" on stderr at a terminal (and nothing at all to a script).
    ``table``: the fields a terminal table shows, in order (JSON and CSV keep them all).
    """
    if fmt == "table" and table and isinstance(data, list):
        data = [{key: row[key] for key in table} for row in data]
    if fmt == "json":
        sys.stdout.write(_json(data, 2) + "\n")
        return
    rows = [data] if isinstance(data, dict) else data
    if not rows and sys.stderr.isatty():
        say("done.nothing_found")
    if fmt == "csv":
        fields = list(rows[0]) if rows else list(columns or ())
        if fields:
            writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)
        return
    if not rows:
        return
    if isinstance(data, dict):
        from chorus_cli.ui.tables import print_record

        print_record(data, title)
        return
    from chorus_cli.ui.tables import print_table

    print_table(rows, title)
