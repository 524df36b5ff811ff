"""Terminal tables (OUT-1): never wider than the terminal, identifiers never cut.

A listing is drawn as a table whose columns fit the terminal (``COLUMNS``, else the
terminal's width, else 80): identifiers whole, the other columns wrapped at their
words, never inside one. When that cannot fit, the rows are printed as records
instead, one ``field  value`` block per row, as ``psql``'s ``\\x auto`` does.
"""

from __future__ import annotations

import textwrap
from typing import Any

from chorus_cli.ui.cells import _cell, _json, _pipe_closed, plain

# The width a record's field names take at most (a longer one pushes its value right).
NAME_COLUMN = 30
# Below this, a record's value goes on the lines under its field name.
NARROWEST_VALUE = 20


def terminal_width() -> int:
    """The width output is fitted to: ``COLUMNS``, else the terminal's, else 80 (OUT-1)."""
    import os

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for descriptor in (1, 2, 0):  # stdout piped: the terminal the user reads stderr on
        try:
            return os.get_terminal_size(descriptor).columns or 80
        except OSError:
            continue
    return 80


def print_table(rows: list[dict[str, Any]], title: str | None = None) -> None:
    """Rows (dicts with the same keys) as a table on stdout, fitted to the terminal;
    as records when identifiers and words cannot all fit whole side by side (OUT-1)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    # Plain: no styles at all (bold headings included) and no lines, only aligned columns,
    # which a screen reader reads as words and a dumb terminal shows as they are.
    bare = plain()
    # markup=False: a stored "[red]" is text, not a style (SEC-1).
    console = Console(
        color_system=None if bare else "auto",
        highlight=False,
        soft_wrap=False,
        markup=False,
        width=terminal_width(),
    )
    console.on_broken_pipe = _pipe_closed  # type: ignore[method-assign]
    keys = list(rows[0])
    cells = [[_table_cell(v) for v in row.values()] for row in rows]
    headings = [heading(key) for key in keys]
    # Between two columns: a space each side, and the column line (a space) when boxed.
    frame = (2 if bare else 3) * (len(keys) - 1)
    widths = _widths(keys, cells, console.width - frame, headings)
    if widths is None:
        _print_records(console, keys, headings, cells, title)
        return
    # No margin at the edges: at the terminal's width every character goes to the cells.
    table = Table(
        box=None if bare else box.SIMPLE_HEAD, title=title, show_edge=False, pad_edge=False
    )
    for name, width in zip(headings, widths, strict=True):
        # A heading too long for its column wraps at its spaces, never inside a word.
        shown = "\n".join(textwrap.wrap(name, width)) if len(name) > width else name
        table.add_column(shown, width=width, no_wrap=True, overflow="ignore")
    for row in cells:
        table.add_row(
            *(
                text if whole(key) else "\n".join(wrapped(text, width))
                for key, text, width in zip(keys, row, widths, strict=True)
            )
        )
    console.print(table)


def print_record(data: dict[str, Any], title: str | None = None) -> None:
    """One record as aligned ``field  value`` lines, a long value wrapped at its words
    under its column (OUT-1)."""
    keys = list(data)
    lines = _record_lines(keys, keys, [_cell(v) for v in data.values()], terminal_width())
    print("\n".join(([title] if title else []) + [name + rest for name, rest in lines]))


def _print_records(
    console: Any, keys: list[str], headings: list[str], cells: list[list[str]], title: str | None
) -> None:
    """Rows too wide for a table: one block per row, each under a ``-[ RECORD n ]-``
    line, the field names as the table's headings, bold as they are (OUT-1)."""
    from rich.text import Text

    from chorus_cli.i18n import message

    line = "-" if plain() else "─"  # no box drawing in plain output (SET-5)
    width = console.width
    blocks = [_record_lines(keys, headings, row, width) for row in cells]
    longest = max((len(name + rest) for block in blocks for name, rest in block), default=0)
    if title:
        console.print(Text(title), soft_wrap=True)
    for number, block in enumerate(blocks, start=1):
        label = f"{line}[ {message('out1.record', n=number)} ]"
        console.print(Text(label + line * max(0, min(width, longest) - len(label))))
        for name, rest in block:
            # soft_wrap: never folded again (an identifier wider than the terminal).
            console.print(Text.assemble((name, "bold"), rest), soft_wrap=True)


def _record_lines(
    keys: list[str], names: list[str], values: list[str], width: int
) -> list[tuple[str, str]]:
    """``name  value`` lines, as (name, the rest): the names aligned, each value wrapped
    at its words under its column; an identifier or a word too long for that column
    goes on the next lines, from the margin, whole."""
    column = min(max((len(name) for name in names), default=0), NAME_COLUMN)
    room = width - column - 2
    lines: list[tuple[str, str]] = []
    for key, name, value in zip(keys, names, values, strict=True):
        texts = value.split("\n")
        if room >= NARROWEST_VALUE and _unbroken(key, texts) <= room:
            shown = [line for text in texts for line in _wrapped_or_whole(key, text, room)]
            indent = " " * (column + 2)
        else:  # under the name, from the margin: an e-mail of any length stays whole
            shown = [""] + [line for text in texts for line in _wrapped_or_whole(key, text, width)]
            indent = ""
        first, *more = shown
        lines.append((name, f"{' ' * (column - len(name))}  {first}".rstrip()))
        lines.extend(("", (indent + line).rstrip() if line else "") for line in more)
    return lines


def _unbroken(key: str, texts: list[str]) -> int:
    """The longest run of a value that must not be cut: an identifier's lines, or
    another value's longest word."""
    if whole(key):
        return max(len(text) for text in texts)
    return max((len(word) for text in texts for word in text.split()), default=0)


def _wrapped_or_whole(key: str, text: str, width: int) -> list[str]:
    return [text] if whole(key) else wrapped(text, width)


def wrapped(text: str, width: int) -> list[str]:
    """``text`` on lines of at most ``width`` characters, cut at its spaces; a word
    longer than the width (a link) is folded. Its own line breaks are kept."""
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(
            textwrap.wrap(line, max(width, 1), break_on_hyphens=False, drop_whitespace=True) or [""]
        )
    return lines


def heading(key: str) -> str:
    """A column's heading in the message language (``column.KEY``, SET-5); the field's
    own name when the catalogue has none. JSON and CSV keep the field names."""
    from chorus_cli.i18n import known, sentence

    name = f"column.{key}"
    return sentence(name) if known(name, "fr") else key


def _widths(
    keys: list[str], cells: list[list[str]], room: int, headings: list[str] | None = None
) -> list[int] | None:
    """Column widths that fit in ``room``, or None when they cannot (OUT-1): an
    identifier or a time as wide as its longest value, never cut; another column no
    narrower than its longest word nor than its heading's longest word (values and
    headings wrap at their spaces, never inside a word). While the table is wider than ``room``, the
    widest column that can give way loses one character."""
    headings = headings or keys

    def longest(i: int) -> int:
        return max([0, *(len(line) for row in cells for line in row[i].split("\n"))])

    def longest_word(i: int) -> int:
        return max([0, *(len(word) for row in cells for word in row[i].split())])

    values = [longest(i) for i in range(len(keys))]
    word = [max(map(len, name.split()), default=0) for name in headings]
    widths = [max(values[i], len(headings[i])) for i in range(len(keys))]
    least = [
        max(values[i] if whole(key) else longest_word(i), word[i], 1) for i, key in enumerate(keys)
    ]
    if sum(least) > room:
        return None
    excess = sum(widths) - room
    while excess > 0:
        shrinkable = [i for i in range(len(keys)) if widths[i] > least[i]]
        # A heading wider than its values wraps first; then the widest values give way.
        widest = max(shrinkable, key=lambda i: (widths[i] > values[i], widths[i]))
        widths[widest] -= 1
        excess -= 1
    return widths


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
