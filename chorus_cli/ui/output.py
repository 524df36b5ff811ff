"""One output helper for every command: the same rows as a table, JSON or CSV.

Data goes to stdout alone; messages go to stderr (``say``).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from typing import Any

from chorus_cli.ui.i18n import message

FORMATS = ("table", "json", "csv")
_state = {"plain": False}


def set_plain(plain: bool) -> None:
    """Accessibility (SET-5) or NO_COLOR: no colour, no box drawing."""
    _state["plain"] = plain


def plain() -> bool:
    return _state["plain"] or bool(os.environ.get("NO_COLOR"))


def say(key: str, **params: Any) -> None:
    """A message for the user, on stderr, in the current language."""
    print(message(key, **params), file=sys.stderr)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        # A list of records (whoami's structures) reads best as one line each.
        if value and all(isinstance(v, dict) for v in value):
            return "\n".join(
                " · ".join(_cell(x) for x in v.values() if x is not None) for v in value
            )
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def emit(data: list[dict[str, Any]] | dict[str, Any], fmt: str, title: str | None = None) -> None:
    """Print one object (``show``) or a list of rows in the chosen format."""
    if fmt == "json":
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    rows = [data] if isinstance(data, dict) else data
    if fmt == "csv":
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
        return
    if isinstance(data, dict):
        # One record: aligned "field  value" lines, which need no table library.
        width = max((len(k) for k in data), default=0)
        if title:
            print(title)
        for key, value in data.items():
            first, *more = _cell(value).split("\n")
            print(f"{key.ljust(width)}  {first}".rstrip())
            for line in more:
                print(" " * (width + 2) + line)
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(no_color=plain(), highlight=False, soft_wrap=False)
    table_box = box.ASCII if plain() else box.SIMPLE_HEAD
    table = Table(box=table_box, title=title)
    for key in rows[0] if rows else ():
        table.add_column(key)
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)
