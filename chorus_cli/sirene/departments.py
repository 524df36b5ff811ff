"""Départements, for ``chorus sirene import --departments`` (STR-2): a correspondent
keeps only the establishments of the départements they serve.

An establishment's département comes from its commune code (``codeCommuneEtablissement``:
``38185``, ``2A004``, ``97411``), else from its postal code (``38000``; Corsica's 20xxx
split into 2A and 2B; overseas 97x on three digits). Pure functions: the reader uses
``line_filter`` to skip a line before parsing it, the import ``of`` on the parsed row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from chorus_cli.kernel.errors import BadInput

OVERSEAS = ("971", "972", "973", "974", "976")  # Guadeloupe .. Mayotte (975: a collectivité)
ALL: frozenset[str] = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", *OVERSEAS]
)


def parse(text: str) -> frozenset[str]:
    """``"38,73"`` → {"38", "73"}; BadInput (exit 2) naming the first value that is no
    département. ``"1"`` is ``"01"``; ``"2a"`` is ``"2A"``."""
    found = set()
    for part in text.replace(";", ",").replace(" ", ",").split(","):
        value = part.strip().upper()
        if not value:
            continue
        if value.isdigit() and len(value) == 1:
            value = "0" + value
        if value not in ALL:
            raise BadInput("str2.department_invalid", value=part.strip())
        found.add(value)
    if not found:
        raise BadInput("str2.department_invalid", value=text.strip())
    return frozenset(found)


def of(commune: str | None, postal: str | None) -> str | None:
    """The département of an establishment, from its commune code, else its postal code;
    None abroad or when neither says."""
    code = (commune or "").strip()
    if len(code) == 5:
        return code[:3] if code.startswith("97") else code[:2]
    code = (postal or "").strip()
    if len(code) != 5 or not code.isdigit():
        return None
    if code.startswith("97"):
        return code[:3]
    if code.startswith("20"):
        return "2A" if code[2] in "01" else "2B"
    return code[:2]


def prefixes(departments: Iterable[str]) -> tuple[str, ...]:
    """What a commune or postal code of these départements starts with."""
    found = set()
    for code in departments:
        found.add(code)
        if code in ("2A", "2B"):
            found.add("20")  # their postal codes
    return tuple(sorted(found))


def line_filter(departments: Iterable[str]) -> Callable[[str], object]:
    """A cheap test on a raw CSV line without quotes (the reader parses those): false
    only when no field of the line can start with one of the départements' codes (no
    ``,38`` in it). A line it lets through is parsed and its département checked
    exactly (``of``). Substring tests for a few départements (the fastest test Python
    has), one regular expression for more."""
    marks = [f",{start}" for start in prefixes(departments)]
    if len(marks) == 1:
        (one,) = marks
        return lambda line: one in line
    if len(marks) == 2:
        one, two = marks
        return lambda line: one in line or two in line
    if len(marks) == 3:
        one, two, three = marks
        return lambda line: one in line or two in line or three in line
    import re

    return re.compile("|".join(re.escape(mark) for mark in marks)).search
