"""French departments: which exist, and the department of a postal code (PUB-1 scopes,
`structure list --department`) or of an establishment of the SIRENE register (STR-2,
`sirene import --departments`)."""

from __future__ import annotations

import re

from chorus_cli.kernel.errors import BadInput

# Metropolitan 01-95 with Corsica 2A/2B (20 is none since 1976), overseas 971-976.
DEPARTMENT = re.compile(r"^(0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5]|2A|2B|97[1-6])$")


def department(postal_code: str | None) -> str | None:
    """The department of a French postal code (``75008`` → ``75``, ``20090`` → ``2A``,
    ``97411`` → ``974``); None abroad or unknown."""
    code = (postal_code or "").strip()
    if len(code) != 5 or not code.isdigit() or code.startswith(("00", "98", "99")):
        return None
    if code.startswith("97"):
        return code[:3]
    if code.startswith("20"):
        return "2A" if code < "20200" else "2B"
    return code[:2]


def department_sql(postal_code: str) -> str:
    """``department`` in SQL, portable: ``75008`` → ``75``, ``20090`` → ``2A``,
    ``97411`` → ``974``; NULL for a code that is not five characters long, as abroad
    (other codes give text no department list holds)."""
    return (
        f"CASE WHEN length({postal_code}) <> 5 THEN NULL"
        f" WHEN {postal_code} LIKE '97%' THEN substr({postal_code}, 1, 3)"
        f" WHEN {postal_code} LIKE '20%' THEN"
        f" (CASE WHEN {postal_code} < '20200' THEN '2A' ELSE '2B' END)"
        f" ELSE substr({postal_code}, 1, 2) END"
    )


def of_establishment(commune_code: str | None, postal_code: str | None) -> str | None:
    """The department of an establishment of the SIRENE register: from its INSEE commune
    code (``38185`` → ``38``, ``2A004`` → ``2A``, ``97411`` → ``974``), else from its
    postal code (``department``); None abroad or when neither says."""
    code = (commune_code or "").strip()
    if len(code) == 5:
        return code[:3] if code.startswith("97") else code[:2]
    return department(postal_code)


def parse_list(text: str) -> frozenset[str]:
    """``"38,73"`` → {"38", "73"} (commas, semicolons or spaces between); BadInput
    (exit 2, STR-2) naming the first value that is no department. ``"1"`` is ``"01"``;
    ``"2a"`` is ``"2A"``."""
    found = set()
    for part in text.replace(";", ",").replace(" ", ",").split(","):
        value = part.strip().upper()
        if not value:
            continue
        if value.isdigit() and len(value) == 1:
            value = "0" + value
        if not DEPARTMENT.match(value):
            raise BadInput("str2.department_invalid", value=part.strip())
        found.add(value)
    if not found:
        raise BadInput("str2.department_invalid", value=text.strip())
    return frozenset(found)
