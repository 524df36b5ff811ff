"""What a cell shows, in a table, a record or CSV; and whether output is plain (SET-5)."""

from __future__ import annotations

import json
import os
from typing import Any

# The logged-in account's accessibility preference (SET-5): read by ``plain()``, set
# by ``set_plain`` once per command (the root resets it, the session's account sets it).
_plain_chosen = False


def set_plain(plain: bool) -> None:
    """The logged-in account's accessibility preference (SET-5), set once per command."""
    global _plain_chosen
    _plain_chosen = plain


def plain() -> bool:
    """Plain output: no colour, no box drawing, no progress bar redraws. For an account
    that chose accessibility (SET-5), with NO_COLOR set (no-color.org) or on a terminal
    that declares itself dumb."""
    return _plain_chosen or bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


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


def photo_read(account: dict[str, Any]) -> dict[str, Any]:
    """An account (``account show``, ``whoami``) as a table or a record shows it: its
    photo as one phrase, ``image/png, 590 o, 200×200`` (SET-1)."""
    if not account.get("photo"):
        return account
    return {**account, "photo": photo_summary(account["photo"])}


def photo_summary(photo: dict[str, Any]) -> str:
    """``image/png, 12.3 kB, 200×200``, in the message language's units (SET-1)."""
    from chorus_cli.i18n import current, message

    size = photo["size"]
    if size < 1000:
        amount = message("set1.bytes", n=size)
    else:
        megabytes = size >= 999_950  # else 999.96 kB would read "1000.0 kB"
        figure = f"{size / (1_000_000 if megabytes else 1000):.1f}"
        if current() == "fr":
            figure = figure.replace(".", ",")
        amount = message("set1.megabytes" if megabytes else "set1.kilobytes", n=figure)
    return message(
        "set1.photo_summary",
        type=photo["type"],
        size=amount,
        width=photo["width"],
        height=photo["height"],
    )


def _csv_cell(value: Any) -> Any:
    """A CSV cell (SEC-9): a number stays a number; text is escaped as a table cell is,
    and a cell a spreadsheet would read as a formula gets a ``'`` in front."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    from chorus_cli.kernel.text import spreadsheet_cell

    return spreadsheet_cell(_cell(value))


def _json(data: Any, indent: int | None) -> str:
    from chorus_cli.kernel.text import json_safe

    return json_safe(json.dumps(data, ensure_ascii=False, indent=indent))


def displayed(value: str) -> str:
    from chorus_cli.kernel.text import displayed as escaped

    return escaped(value)


def _pipe_closed() -> None:
    """Rich's own answer to a closed pipe is a silent exit 1; the command line's is a
    quiet exit 0 (SEC-3), so the error goes on to it."""
    import errno
    import os

    raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
