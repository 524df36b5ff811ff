"""French departments: of a postal code (PUB-1 scopes, `structure list --department`)."""

from __future__ import annotations

import re

# Metropolitan 01-95 with Corsica 2A/2B, overseas 971-976.
DEPARTMENT = re.compile(r"^(0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6])$")


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
