"""Checking each row of a flow on its own (OPS-1): the rules of the single commands, with
no store. Pure functions over plain data, so chunks of rows can be checked in a second
process while the first one writes (the 100,000-row import uses both cores).

What needs the store (does the structure exist? is the login taken?) is the loader's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chorus_cli.bulk.columns import MANDATORY, fold
from chorus_cli.domain import identifiers, structures
from chorus_cli.domain.accounts import (
    Activation,
    normalise_email,
    normalise_name,
    phone_from_sheet,
)
from chorus_cli.domain.preferences import SWITCH
from chorus_cli.domain.structures import normalise_code
from chorus_cli.kernel import text
from chorus_cli.kernel.errors import BadInput

# A yes/no cell: the words a spreadsheet user types, and the command line's ``on|off``
# (``preferences.SWITCH``: a structure's settings are ``on|off`` for ``structure update``).
TRUE = frozenset(
    {"1", "true", "vrai", "oui", "yes", "o", "y", "x"} | {w for w, v in SWITCH.items() if v}
)
FALSE = frozenset(
    {"0", "false", "faux", "non", "no", "n", ""} | {w for w, v in SWITCH.items() if not v}
)
SERVICE_SPLIT = re.compile(r"[\s,;|]+")
LANGUAGES = ("fr", "en")
ADDRESS_MAX = 500
BIOGRAPHY_MAX = 2000


@dataclass
class RowError:
    """A bad row: its line, the column (as the file names it), the message key and its
    parameters (the key names the rule: ``acc1.email_invalid`` is ACC-1)."""

    line: int
    column: str | None
    key: str
    params: dict[str, Any] = field(default_factory=dict)


# A flow's bad rows listed with their errors (SEC-10); the others are only counted, so
# a file of two million bad rows costs the memory of a thousand.
REPORTED_ROWS = 1_000


class BadRows:
    """The errors of a flow's first ``REPORTED_ROWS`` bad rows (by line), in line order
    when iterated; the bad rows after them are only counted (``unlisted``)."""

    def __init__(self, limit: int = REPORTED_ROWS) -> None:
        self.limit = limit
        self.unlisted = 0
        # (-line, arrival, the row's errors): the last line kept on top, to give way.
        self._kept: list[tuple[int, int, list[RowError]]] = []
        self._arrivals = 0

    def extend(self, errors: list[RowError]) -> None:
        """One bad row's errors."""
        import heapq

        if not errors:
            return
        self._arrivals += 1
        row = (-errors[0].line, self._arrivals, list(errors))
        if len(self._kept) < self.limit:
            heapq.heappush(self._kept, row)
            return
        self.unlisted += 1
        if row[0] > self._kept[0][0]:  # an earlier line than the last one kept
            heapq.heapreplace(self._kept, row)

    def __iter__(self) -> Iterator[RowError]:
        for _line, _arrival, errors in sorted(self._kept, key=lambda r: (-r[0], r[1])):
            yield from errors

    def __len__(self) -> int:
        return sum(len(errors) for _line, _arrival, errors in self._kept)


@dataclass(slots=True)
class Checked:
    """A row after its own checks: the clean values by field, or its errors; for a new
    account, its ``activation`` made ahead."""

    line: int
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)
    activation: Activation | None = None  # ``accounts.activation``
    # What was read otherwise than written, and said (OUT-4): zeros put back in a SIRET…
    warnings: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- values ------------------------------------------------------------------------


@dataclass(slots=True)
class Warned:
    """A value read otherwise than the cell wrote it (OUT-4), with the warning that says
    so (a message key and its parameters) and any other field it settles."""

    value: Any
    key: str
    params: dict[str, Any]
    also: dict[str, Any] = field(default_factory=dict)


def _phone(value: Any, read: Any = phone_from_sheet) -> Any:
    """A phone (E.164); one that a spreadsheet stripped of its ``+`` comes back with a
    warning (OUT-4)."""
    text = _str(value, numbers=True)
    phone, restored = read(text)
    if restored:
        said = BadInput("out4.phone_plus_restored", value=text, phone=phone)
        return Warned(phone, said.key, said.params)
    return phone


def _siret(value: str) -> Any:
    """A SIRET (STR-1); one that a spreadsheet stripped of its leading zeros comes back
    padded, with a warning (OUT-4)."""
    siret, restored = identifiers.siret_from_sheet(value)
    if restored:
        said = BadInput("out4.siret_zeros_restored", value=value, siret=siret)
        return Warned(siret, said.key, said.params)
    return siret


def _str(value: Any, numbers: bool = False) -> str | None:
    """A cell as text: stripped, None when empty. A JSON value that is no string is
    refused (``true``, ``1e309``, ``NaN`` are no names), except a whole number where
    ``numbers`` says digits may come as one (a SIRET, a phone, a service code)."""
    if isinstance(value, str):
        return value.strip() or None
    if value is None:
        return None
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, bool | int | float):
        import json

        raise BadInput("ops1.value_not_string", value=json.dumps(value))
    raise BadInput("ops1.value_not_text")


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = (_str(value, numbers=True) or "").lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise BadInput("ops1.not_boolean", value=str(value))


def setting(value: Any) -> bool | None:
    """A structure setting (``on|off`` as ``structure update`` takes it, or any boolean
    above); an empty cell leaves it as it is."""
    if isinstance(value, str) and not value.strip():
        return None
    return boolean(value)


def service_codes(value: Any) -> list[str]:
    """``ACHATS, RH`` or ``ACHATS|RH`` (or a JSON list) → ``["ACHATS", "RH"]``."""

    if isinstance(value, list):
        parts = [_str(v, numbers=True) or "" for v in value]
    else:
        parts = SERVICE_SPLIT.split(_str(value, numbers=True) or "")
    return list(dict.fromkeys(normalise_code(p) for p in parts if p))


def _text(value: Any, field: str, limit: int, multiline: bool = False) -> str | None:

    value = _str(value)
    if value is None:
        return None
    text.check(value, field, multiline)
    if len(value) > limit:
        raise BadInput("field.too_long", field=field, max=limit)
    return value


def _email(value: Any, field: str) -> str | None:

    value = _str(value)
    return normalise_email(value, field) if value else None


def _structure_ref(value: Any) -> str | None:
    """A structure named by its identifier (any accepted spelling): the loader finds it."""

    value = _str(value, numbers=True)
    if value is None:
        return None
    siret = None
    # Too few digits for a SIRET: one that lost its zeros, whatever the column? Not when
    # they are another type's own number (a RIDET), found as such.
    if value.isdigit() and len(value) < 14 and not identifiers.other_number(value):
        try:
            siret = _siret(value)
        except BadInput:
            siret = None  # no SIRET even padded: another type's identifier perhaps
    if isinstance(siret, Warned):
        siret.also["structure_type"] = "SIRET"
        return siret
    if not identifiers.candidates(value):
        raise BadInput("ops1.structure_invalid", value=value)
    return value


# --- each kind's fields -------------------------------------------------------------


def _account_fields() -> dict[str, Any]:

    return {
        "login_email": lambda v: _email(v, "login_email"),
        "last_name": lambda v: normalise_name(_str(v), "last_name"),
        "first_name": lambda v: normalise_name(_str(v), "first_name"),
        "phone": _phone,
        "contact_email": lambda v: _email(v, "contact_email"),
        "workplace_address": lambda v: _text(v, "workplace_address", ADDRESS_MAX, True),
        "biography": lambda v: _text(v, "biography", BIOGRAPHY_MAX, True),
        "language": _language,
        "structure": _structure_ref,
        "services": service_codes,
    }


def _language(value: Any) -> str | None:
    text = (_str(value) or "").lower()
    if text and text not in LANGUAGES:
        raise BadInput("ops1.language_invalid", value=text, languages=", ".join(LANGUAGES))
    return text or None


def _structure_fields() -> dict[str, Any]:

    return {
        "id_type": lambda v: _id_type(v),
        "identifier": lambda v: _str(v, numbers=True),  # checked with its type, below
        "raison_sociale": lambda v: _text(v, "raison_sociale", structures.TEXT_MAX),
        "label": lambda v: _text(v, "label", structures.TEXT_MAX),
        "email": lambda v: structures.normalise_email(_str(v)),
        "phone": lambda v: _phone(v, structures.phone_from_sheet),
        "public": boolean,
        "helios": boolean,
        "service_code_required": setting,
        "engagement_number_required": setting,
        "primary_manager": lambda v: _email(v, "primary_manager"),
    }


def _id_type(value: Any) -> str:

    text = _str(value)
    return identifiers.normalise_type(text) if text else "SIRET"


def _attachment_fields() -> dict[str, Any]:
    return {
        "login_email": lambda v: _email(v, "login_email"),
        "structure": _structure_ref,
        "services": service_codes,
    }


_FIELDS: dict[str, dict[str, Any]] = {}


def fields_of(kind: str) -> dict[str, Any]:
    if kind not in _FIELDS:
        maker = {
            "accounts": _account_fields,
            "structures": _structure_fields,
            "attachments": _attachment_fields,
        }[kind]
        _FIELDS[kind] = maker()
    return _FIELDS[kind]


def check_row(kind: str, line: int, values: dict[str, Any], names: dict[str, str]) -> Checked:
    """Every field's own rule; every broken one is reported (line, column, rule)."""
    checks = fields_of(kind)
    clean: dict[str, Any] = {}
    errors: list[RowError] = []
    warnings: list[RowError] = []
    for name, value in values.items():
        try:
            result = checks[name](value)
        except BadInput as exc:
            errors.append(RowError(line, names.get(name, name), exc.key, exc.params))
            continue
        if isinstance(result, Warned):
            warnings.append(RowError(line, names.get(name, name), result.key, result.params))
            clean.update(result.also)
            result = result.value
        clean[name] = result
    for name in MANDATORY[kind]:  # a JSON line may lack a key a CSV header must have
        if clean.get(name) is None and not any(e.column == names.get(name, name) for e in errors):
            errors.append(RowError(line, names.get(name, name), "ops1.value_missing"))
    if kind == "structures":
        clean["id_type"] = clean.get("id_type") or "SIRET"
        if clean.get("identifier") and not errors:
            column = names.get("identifier", "identifier")
            try:
                if clean["id_type"] == "SIRET":
                    found = _siret(clean["identifier"])
                    if isinstance(found, Warned):
                        warnings.append(RowError(line, column, found.key, found.params))
                        found = found.value
                    clean["identifier"] = found
                else:
                    clean["identifier"] = identifiers.normalise(
                        clean["id_type"], clean["identifier"]
                    )
            except BadInput as exc:
                errors.append(RowError(line, column, exc.key, exc.params))
    if clean.get("structure") and fold(names.get("structure", "")) == "siret":
        # A column headed «SIRET» holds SIRETs: checked as such (STR-1), found as such,
        # their lost zeros put back whatever other type the digits could be (OUT-4).
        try:
            found = _siret(clean["structure"])
        except BadInput as exc:
            errors.append(RowError(line, names["structure"], exc.key, exc.params))
        else:
            if isinstance(found, Warned):
                warnings.append(RowError(line, names["structure"], found.key, found.params))
                found = found.value
            clean["structure"], clean["structure_type"] = found, "SIRET"
    if clean.get("services") and not clean.get("structure") and kind == "accounts":
        errors.append(RowError(line, names.get("services", "services"), "ops1.services_alone"))
    return Checked(line, clean, errors, warnings=warnings)


def check_chunk(
    kind: str, rows: list[tuple[int, dict[str, Any], RowError | None]], names: dict[str, str]
) -> list[Checked]:
    """A chunk of rows, in order (what the worker process runs)."""
    out = []
    for line, values, error in rows:
        if error is not None:
            out.append(Checked(line, {}, [error]))
        else:
            out.append(check_row(kind, line, values, names))
    return out
