"""Départements, for ``chorus sirene import --departments`` (STR-2): a correspondent
keeps only the establishments of the départements they serve.

Which départements exist, and an establishment's (from its commune code, else its
postal code), are the domain's rules (``chorus_cli.domain.departments``): the import
and the update are given them. Here, the mechanics of reading fast: the reader uses
``line_filter`` to pass over a line before parsing it; the parsed row is then checked
exactly with the domain's rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# The department of an establishment from its commune code and its postal code: the
# domain's rule (``chorus_cli.domain.departments.of_establishment``), given by the caller.
DepartmentOf = Callable[[str | None, str | None], str | None]


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
    exactly (the domain's ``of_establishment``). Substring tests for a few
    départements (the fastest test Python has), one regular expression for more."""
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
