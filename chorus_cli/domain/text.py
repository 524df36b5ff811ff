"""Text typed by people, checked on the way in (SEC-1): no control characters, no
bidirectional overrides, no invisible characters that make two strings look alike."""

from __future__ import annotations

import re

from chorus_cli.domain.errors import BadInput

# C0 and C1 controls (newline and tab only where a field is multi-line), the bidi
# embeddings, overrides and isolates, and the zero-width characters.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_UNSAFE_SINGLE_LINE = re.compile("[\t\n]")


def check(value: str, field: str, multiline: bool = False) -> str:
    """``value`` unchanged, or BadInput (exit 2) naming the field (SEC-1)."""
    found = _UNSAFE.search(value) or (None if multiline else _UNSAFE_SINGLE_LINE.search(value))
    if found:
        raise BadInput("sec1.control_character", field=field, code=f"U+{ord(found.group()):04X}")
    return value


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: str) -> str:
    """``value`` as a message may repeat it: what ``check`` refuses, tabs and newlines
    too, is escaped (``\\x1b``), so nothing typed reaches the terminal as a control."""
    return _UNSAFE_SINGLE_LINE.sub(_escape, _UNSAFE.sub(_escape, value))


_TAB = re.compile("\t")


def displayed(value: str) -> str:
    """Stored text as a table, a message or a mail shows it: every character ``check``
    refuses is escaped (rows stored before SEC-1, or by another tool), tabs too;
    newlines stay, for multi-line fields and cells."""
    return _TAB.sub(_escape, _UNSAFE.sub(_escape, value))


def json_safe(encoded: str) -> str:
    """JSON text with the C1 controls, bidi and zero-width characters written as
    ``\\uXXXX`` escapes: the same data for a parser, inert on a terminal."""
    return _UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", encoded)
