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
    """The logged-in account's accessibility preference (SET-5), set once per command."""
    _state["plain"] = plain


def plain() -> bool:
    """Plain output: no colour, no box drawing, no progress bar redraws. For an account
    that chose accessibility (SET-5), with NO_COLOR set (no-color.org) or on a terminal
    that declares itself dumb."""
    return _state["plain"] or bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


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
        return _json(value, None)
    return displayed(str(value))


def _json(data: Any, indent: int | None) -> str:
    from chorus_cli.domain.text import json_safe

    return json_safe(json.dumps(data, ensure_ascii=False, indent=indent))


def displayed(value: str) -> str:
    from chorus_cli.domain.text import displayed as escaped

    return escaped(value)


def _pipe_closed() -> None:
    """Rich's own answer to a closed pipe is a silent exit 1; the command line's is a
    quiet exit 0 (SEC-3), so the error goes on to it."""
    import errno
    import os

    raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def emit(
    data: list[dict[str, Any]] | dict[str, Any],
    fmt: str,
    title: str | None = None,
    columns: list[str] | tuple[str, ...] | None = None,
) -> None:
    """Print one object (``show``) or a list of rows in the chosen format.

    ``columns``: a list's fields, so that an empty CSV keeps its header; an empty list
    says "nothing found" on stderr at a terminal (and nothing at all to a script).
    """
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
            writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
        return
    if not rows:
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

    # Plain: no styles at all (bold headings included) and no lines, only aligned columns,
    # which a screen reader reads as words and a dumb terminal shows as they are.
    bare = plain()
    # markup=False: a stored "[red]" is text, not a style (SEC-1).
    console = Console(
        color_system=None if bare else "auto", highlight=False, soft_wrap=False, markup=False
    )
    console.on_broken_pipe = _pipe_closed  # type: ignore[method-assign]
    table = Table(box=None if bare else box.SIMPLE_HEAD, title=title)
    cells = [[_cell(v) for v in row.values()] for row in rows]
    keys = list(rows[0])
    headings = [heading(key) for key in keys]
    frame = 3 * len(keys) + 1  # a space each side of a cell, a column line (or space)
    widths = _widths(keys, cells, console.width - frame, headings)
    if sum(widths) + frame > console.width:
        # Too narrow for the identifiers whole: the lines run longer than the terminal
        # (it wraps them) rather than an e-mail or a SIRET being cut.
        console.width = sum(widths) + frame
    for key, name, width in zip(keys, headings, widths, strict=True):
        table.add_column(name, width=width, no_wrap=whole(key), overflow="fold")
    for row in cells:
        table.add_row(*row)
    console.print(table)


def heading(key: str) -> str:
    """A column's heading in the message language (``column.KEY``, SET-5); the field's
    own name when the catalogue has none. JSON and CSV keep the field names."""
    from chorus_cli.ui.i18n import known, sentence

    name = f"column.{key}"
    return sentence(name) if known(name, "fr") else key


def _widths(
    keys: list[str], cells: list[list[str]], room: int, headings: list[str] | None = None
) -> list[int]:
    """Column widths: an identifier or a time as wide as its longest value, never cut;
    the other columns share what is left: the narrow ones whole, the widest ones capped
    at one width (at least 6, and their heading's) and wrapped."""
    headings = headings or keys

    def longest(i: int) -> int:
        lines = [line for row in cells for line in row[i].split("\n")]
        return max([len(headings[i]), *map(len, lines)])

    natural = [longest(i) for i in range(len(keys))]
    flexible = [i for i, key in enumerate(keys) if not whole(key)]
    left = room - sum(n for key, n in zip(keys, natural, strict=True) if whole(key))
    cap = max([natural[i] for i in flexible], default=0)
    while cap > 6 and sum(min(natural[i], cap) for i in flexible) > left:
        cap -= 1
    # A heading is never folded either: a column is at least as wide as its name.
    return [
        n if whole(key) else max(min(n, cap), len(name))
        for key, name, n in zip(keys, headings, natural, strict=True)
    ]


# Columns a table never cuts: identifiers (e-mails, SIRETs, ids, codes) and times.
WHOLE = frozenset(
    {
        "id",
        "identifier",
        "siret",
        "structure",
        "to",
        "sender",
        "actor",
        "target",
        "code",
        "application",
    }
)


def whole(column: str) -> bool:
    return (
        column in WHOLE
        or column.endswith(("_email", "_at", "_manager"))
        or column in ("email", "requester", "approver", "decided_by", "service")
    )
