"""What the store has to tell the user (a fallback chosen, a file others can read): kept
here as message keys, said by the command line (``chorus_cli.cli``), never printed by the
store itself."""

from __future__ import annotations

from typing import Any

_pending: list[tuple[str, dict[str, Any]]] = []


def note(key: str, **params: Any) -> None:
    """Something to tell the user once the command has run."""
    _pending.append((key, params))


def drain() -> list[tuple[str, dict[str, Any]]]:
    """The notes so far, forgotten once taken."""
    taken = list(_pending)
    _pending.clear()
    return taken
