"""Text typed by people, checked on the way in (SEC-1): no control characters, no
bidirectional overrides, no invisible characters that make two strings look alike."""

from __future__ import annotations

import re

from chorus_cli.kernel.errors import BadInput

# C0 and C1 controls (newline and tab only where a field is multi-line), the line and
# paragraph separators (U+2028, U+2029: a line break to a terminal or a JavaScript
# reader, whitespace to str.split), the bidi embeddings, overrides and isolates, and
# the zero-width characters.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_UNSAFE_SINGLE_LINE = re.compile("[\t\n]")


# Bytes that were not UTF-8, as Python hands them over from argv and stdin
# (surrogateescape: 0xff becomes U+DCFF).
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def undecodable(value: str) -> int | None:
    """The first byte of ``value`` that was not UTF-8 (0x80..0xff), or None."""
    found = _UNDECODABLE.search(value)
    return None if found is None else ord(found.group()) - 0xDC00


def undecodable_shown(value: str) -> str:
    """``value`` with each byte that was not UTF-8 written ``\\xff``, to name it."""
    return _UNDECODABLE.sub(lambda found: f"\\x{ord(found.group()) - 0xDC00:02x}", value)


def check(value: str, field: str, multiline: bool = False) -> str:
    """``value`` unchanged, or BadInput (exit 2) naming the field (SEC-1)."""
    byte = undecodable(value)
    if byte is not None:
        raise BadInput("sec3.invalid_utf8_field", field=field, byte=f"0x{byte:02x}")
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


# What a spreadsheet reads as the start of a formula (OWASP CSV injection), after any
# number of the quotes that chorus adds in front of such a cell.
_FORMULA = re.compile("'*[=+\\-@\t\r]")
# The first characters that may make ``spreadsheet_cell`` quote a cell.
_FORMULA_START = frozenset("'=+-@\t\r")


def spreadsheet_cell(value: str) -> str:
    """Text as a CSV cell holds it (SEC-9): escaped as a table shows it (``displayed``),
    then with a ``'`` in front when a spreadsheet would read a formula (``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return first) or when it already starts with
    quotes before one, so that ``unquoted`` gives the text back exactly. Numbers are
    no text: the caller writes them as they are."""
    # Nearly every cell of a big export: printable (no control, no bidi or zero-width
    # character, no line separator; isprintable runs in C), no formula's start.
    if value.isprintable() and (not value or value[0] not in _FORMULA_START):
        return value
    value = displayed(value)
    return "'" + value if _FORMULA.match(value) else value


def unquoted(cell: str) -> str:
    """A CSV cell as ``spreadsheet_cell`` wrote it, read back: the one ``'`` it added in
    front of a formula's first character taken off (``'+33 6…`` → ``+33 6…``)."""
    return cell[1:] if cell[:1] == "'" and _FORMULA.match(cell, 1) else cell


def script(char: str) -> str | None:
    """The script of a letter (``LATIN``, ``CYRILLIC``, ``GREEK``…), None for the rest:
    digits, signs and marks belong to every script."""
    if not char.isalpha():
        return None
    import unicodedata

    name = unicodedata.name(char, "?").split(" ", 1)[0]
    if name == "MODIFIER":
        return None
    return _ONE_WRITING.get(name, name)


# Japanese writes one word in three scripts (UTS #39's "Jpan"), Korean in two ("Kore").
_ONE_WRITING = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK"}


def mixed_scripts(label: str) -> tuple[str, str] | None:
    """Two scripts that ``label`` mixes (``LATIN``, ``CYRILLIC``), or None: the look-alike
    of ``аdmin`` (a Cyrillic а) in a Latin word (SEC-1, UTS #39's single-script test)."""
    if label.isascii():
        return None
    seen: str | None = None
    for char in label:
        found = script(char)
        if found is None or found == seen:
            continue
        if seen is not None:
            return seen, found
        seen = found
    return None
