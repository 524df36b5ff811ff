"""Terminal tables (OUT-1): columns sized to the terminal, identifiers never cut."""

from __future__ import annotations

import textwrap
from typing import Any

from chorus_cli.ui.cells import _cell, _json, _pipe_closed, plain


def print_table(rows: list[dict[str, Any]], title: str | None = None) -> None:
    """Rows (dicts with the same keys) as a table on stdout, fitted to the terminal."""
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
    # No margin at the edges: at 80 columns every character goes to the cells.
    table = Table(
        box=None if bare else box.SIMPLE_HEAD, title=title, show_edge=False, pad_edge=False
    )
    cells = [[_table_cell(v) for v in row.values()] for row in rows]
    keys = list(rows[0])
    headings = [heading(key) for key in keys]
    # Between two columns: a space each side, and the column line (a space) when boxed.
    frame = (2 if bare else 3) * (len(keys) - 1)
    widths = _widths(keys, cells, console.width - frame, headings)
    if sum(widths) + frame > console.width:
        # Too narrow for the identifiers whole: the lines run longer than the terminal
        # (it wraps them) rather than an e-mail or a SIRET being cut.
        console.width = sum(widths) + frame
    for key, name, width in zip(keys, headings, widths, strict=True):
        # A heading too long for its column wraps at its spaces, never inside a word.
        shown = "\n".join(textwrap.wrap(name, width)) if len(name) > width else name
        table.add_column(shown, width=width, no_wrap=whole(key), overflow="fold")
    for row in cells:
        table.add_row(*row)
    console.print(table)


def print_record(data: dict[str, Any], title: str | None = None) -> None:
    """One record as aligned ``field  value`` lines, which need no table library."""
    width = max((len(k) for k in data), default=0)
    if title:
        print(title)
    for key, value in data.items():
        first, *more = _cell(value).split("\n")
        print(f"{key.ljust(width)}  {first}".rstrip())
        for line in more:
            print(" " * (width + 2) + line)


def heading(key: str) -> str:
    """A column's heading in the message language (``column.KEY``, SET-5); the field's
    own name when the catalogue has none. JSON and CSV keep the field names."""
    from chorus_cli.i18n import known, sentence

    name = f"column.{key}"
    return sentence(name) if known(name, "fr") else key


def _widths(
    keys: list[str], cells: list[list[str]], room: int, headings: list[str] | None = None
) -> list[int]:
    """Column widths: an identifier or a time as wide as its longest value, never cut;
    while the table is wider than ``room``, the widest column that can give way loses
    one character: an identifier's heading down to its longest word (it wraps at its
    spaces), another column down to 6 characters or its heading's longest word (its
    values wrap, or fold). When even that is too wide, see WRAPPED."""
    headings = headings or keys

    def longest(i: int) -> int:
        return max([0, *(len(line) for row in cells for line in row[i].split("\n"))])

    def longest_word(i: int) -> int:
        return max([0, *(len(word) for row in cells for word in row[i].split())])

    values = [longest(i) for i in range(len(keys))]
    word = [max(map(len, name.split()), default=0) for name in headings]
    widths = [max(values[i], len(headings[i])) for i in range(len(keys))]
    # A column that wraps keeps its longest word whole ("d'authentification") when the
    # table can afford it; else it goes down to 6 characters, folding words.
    for narrowest in (longest_word, lambda i: min(values[i], 6)):
        least = [
            max(values[i] if whole(key) else narrowest(i), word[i]) for i, key in enumerate(keys)
        ]
        if sum(least) <= room:
            break
    if sum(least) > room:
        # The identifiers alone are wider than the terminal: the lines will run longer
        # anyway, so the other columns keep a readable width (up to WRAPPED).
        return [
            least[i] if whole(key) else max(least[i], min(widths[i], WRAPPED))
            for i, key in enumerate(keys)
        ]
    while sum(widths) > room:
        shrinkable = [i for i in range(len(keys)) if widths[i] > least[i]]
        # A heading wider than its values wraps first; then the widest values give way.
        widest = max(shrinkable, key=lambda i: (widths[i] > values[i], widths[i]))
        widths[widest] -= 1
    return widths


WRAPPED = 30


def _table_cell(value: Any) -> str:
    """A cell of a terminal table: a record (audit details) as compact ``key=value``
    pairs, which wrap between pairs; JSON and CSV keep the JSON object."""
    if not isinstance(value, dict):
        return _cell(value)
    return " ".join(f"{key}={_pair_value(item)}" for key, item in value.items())


def _pair_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(_pair_value(v) for v in value)
    if isinstance(value, dict):
        return _json(value, None)
    text = _cell(value)
    # Quoted (as JSON quotes) when a space, quote or "=" would blur where it ends.
    return _json(text, None) if not text or any(c in text for c in ' "=\n') else text


# Columns a table never cuts: identifiers (e-mails, SIRETs, ids, codes), times, and the
# codes a script or a reader matches (a status, a type, an action): all short, or
# needed whole.
WHOLE = frozenset(
    {
        "id",
        "identifier",
        "id_type",
        "siret",
        "siren",
        "structure",
        "service",
        "to",
        "sender",
        "email",
        "actor",
        "target",
        "requester",
        "approver",
        "decided_by",
        "code",
        "application",
        "at",
        "action",
        "status",
        "type",
        "role",
        "scope",
        "level",
        "method",
        "department",
        "postal_code",
    }
)


def whole(column: str) -> bool:
    """Whether a table shows this column's values whole, never wrapped or folded."""
    return column in WHOLE or column.endswith(("_email", "_at", "_manager"))
