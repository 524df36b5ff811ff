"""``chorus bulk export`` (OPS-2): accounts, structures, attachments or habilitations as
CSV or JSON Lines, streamed: rows are written as the store yields them, so memory stays
flat whatever the size. The fields are those of the JSON of the matching ``show`` (or
listing), so an export re-imports as it is (``unchanged N``).

Both are safe to open (SEC-9): control characters come escaped; a CSV cell that a
spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``…) starts with a ``'``,
which ``bulk import`` takes off again.

A correspondent sees their departments: the public structures there, the accounts
attached to one of them, and those accounts' attachments and profiles there.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from chorus_cli.domain import accounts, authz, habilitations, structures, technical
from chorus_cli.domain.departments import department_sql
from chorus_cli.kernel.errors import BadInput
from chorus_cli.kernel.text import json_safe, spreadsheet_cell
from chorus_cli.store.sql import Sql

if TYPE_CHECKING:
    from chorus_cli.domain.authz import Scope
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork

KINDS = ("accounts", "structures", "attachments", "habilitations", "technical")
FORMATS = ("csv", "jsonl", "xlsx")

ACCOUNT_FIELDS = accounts.VIEW_FIELDS  # `account show`'s JSON, in its order
STRUCTURE_FIELDS = structures.VIEW_FIELDS  # `structure show`'s
ATTACHMENT_FIELDS = (
    "login_email",
    "structure",
    "services",
    "raison_sociale",
    "role",
    "scope",
    "status",
    "attached_at",
)
HABILITATION_FIELDS = ("login_email", *habilitations.FIELDS)  # whose, then `habil list`'s
# TECH-1: a structure's technical accounts, a kind of their own (they are not people:
# no names, contact, profiles); never their password or its hash. Not importable.
# `account technical list`'s fields but the status, which the day of reading decides.
TECHNICAL_FIELDS = tuple(name for name in technical.FIELDS if name != "status")
FIELDS = {
    "technical": TECHNICAL_FIELDS,
    "accounts": ACCOUNT_FIELDS,
    "structures": STRUCTURE_FIELDS,
    "attachments": ATTACHMENT_FIELDS,
    "habilitations": HABILITATION_FIELDS,
}


@dataclass(frozen=True)
class Only:
    """``--structure`` / ``--department``: the rows of one structure, or of the structures
    whose address is in one department, within the actor's scope as always."""

    structure_id: int | None = None
    department: str | None = None

    def __bool__(self) -> bool:
        return self.structure_id is not None or self.department is not None


def _in_scope(db: Sql, scope: Scope, alias: str, only: Only = Only()) -> tuple[str, list[Any]]:
    """A WHERE condition keeping the structures ``alias`` of the scope (and of ``only``)."""
    conditions: list[str] = []
    params: list[Any] = []
    area = department_sql(alias + ".postal_code")
    if scope.departments is not None:
        departments = sorted(scope.departments)
        marks = ", ".join("?" * len(departments))
        conditions.append(f"{alias}.public = ? AND {area} IN ({marks})")
        params += [db.flag(True), *departments]
    if only.structure_id is not None:
        conditions.append(f"{alias}.id = ?")
        params.append(only.structure_id)
    if only.department is not None:
        conditions.append(f"{area} = ?")
        params.append(only.department)
    return " AND ".join(conditions) or "1 = 1", params


def _time(value: Any) -> str | None:
    """A time as the JSON shows it (``iso``), from what each engine returns."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{value[:10]}T{value[11:19]}Z"  # SQLite: '2026-12-01 18:49:46.000000'


def iso_sql(db: Sql, column: str) -> str:
    """``iso`` in SQL, so the rows of a big export need no conversion in Python (NULL
    stays NULL)."""
    if db.sqlite:  # stored as '2026-12-01 18:49:46.000000', in UTC
        return f"substr({column}, 1, 10) || 'T' || substr({column}, 12, 8) || 'Z'"
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"


def _accounts(
    db: Sql, scope: Scope, now: datetime, for_csv: bool, only: Only = Only()
) -> Iterator[tuple]:
    """The accounts' rows as ``show`` has them: built by the SQL itself (the export of a
    large store is bound by it), times as text, ``locked`` derived from the lock."""
    where, params = "1 = 1", []
    if not scope.everywhere or only:
        inside, params = _in_scope(db, scope, "s", only)
        where = (
            "EXISTS (SELECT 1 FROM attachment a JOIN structure s ON s.id = a.structure_id"
            f" WHERE a.account_id = account.id AND {inside})"
        )
    flag = "CASE WHEN to_complete THEN 'true' ELSE 'false' END" if for_csv else "to_complete"
    # The photo as `show` describes it (SET-1), its size read by the SQL, never the blob;
    # in a CSV, the JSON object a `show --format csv` cell holds.
    photo = (
        "CASE WHEN photo_type IS NULL THEN '' ELSE '{\"type\": \"' || photo_type"
        ' || \'", "size": \' || CAST(length(photo) AS TEXT)'
        " || ', \"width\": ' || CAST(photo_width AS TEXT)"
        " || ', \"height\": ' || CAST(photo_height AS TEXT) || '}' END"
        if for_csv
        else "photo_type, length(photo), photo_width, photo_height"
    )
    sql = (
        "SELECT login_email, contact_email, first_name, last_name, phone,"
        " CASE WHEN status = 'active' AND locked_until > ? THEN 'locked' ELSE status END,"
        f" workplace_address, biography, language, {iso_sql(db, 'created_at')},"
        f" {iso_sql(db, 'activated_at')}, {flag}, {photo} FROM account WHERE {where}"
        " ORDER BY id"
    )
    rows = db.stream(sql, [db.time(now), *params])
    if for_csv:
        return rows
    return (row[:11] + (bool(row[11]), _photo(*row[12:])) for row in rows)


def _photo(kind: str | None, size: int, width: int, height: int) -> dict[str, Any] | None:
    if kind is None:
        return None
    return {"type": kind, "size": size, "width": width, "height": height}


def _merged(
    db: Sql, rows_sql: str, rows_params: list[Any], children_sql: str, children_params: list[Any]
) -> Iterator[tuple[tuple, list[tuple]]]:
    """Each row with its children, both streams ordered by the same key (first column):
    services of structures, services of attachments, without a query per row."""
    children = db.stream(children_sql, children_params, name="chorus_children")
    pending = next(children, None)
    for row in db.stream(rows_sql, rows_params):
        mine = []
        while pending is not None and pending[0] < row[0]:
            pending = next(children, None)
        while pending is not None and pending[0] == row[0]:
            mine.append(pending)
            pending = next(children, None)
        yield row, mine


def _structures(
    db: Sql, scope: Scope, now: datetime, for_csv: bool, only: Only = Only()
) -> Iterator[tuple]:
    where, params = _in_scope(db, scope, "s", only)
    rows_sql = (
        "SELECT s.id, s.id_type, s.identifier, s.raison_sociale, s.label, s.status,"
        " s.non_diffusible, s.address, s.postal_code, s.commune, s.country, m.login_email,"
        " s.email, s.phone, s.public, s.helios, s.created_at, s.refusal_reason,"
        " s.service_code_required, s.engagement_number_required"
        " FROM structure s LEFT JOIN account m ON m.id = s.primary_manager_id"
        f" WHERE {where} ORDER BY s.id"
    )
    children_sql = (
        "SELECT v.structure_id, v.code, v.label, v.active FROM service v"
        f" JOIN structure s ON s.id = v.structure_id WHERE {where}"
        " ORDER BY v.structure_id, v.code"
    )
    for row, services in _merged(db, rows_sql, params, children_sql, params):
        hidden = bool(row[6])
        address = None
        if not hidden and (row[7] or row[8]):
            address = {
                "lines": row[7].split("\n") if row[7] else [],
                "postal_code": row[8],
                "commune": row[9],
                "country": row[10],
            }
        listed = [
            {"code": code, "label": label, "active": bool(active)}
            for _id, code, label, active in services
        ]
        yield (
            *row[1:6],
            hidden,
            address,
            *row[11:14],
            bool(row[14]),
            bool(row[15]),
            listed,
            _time(row[16]),
            row[17],
            bool(row[18]),
            bool(row[19]),
        )


def _attachments(
    db: Sql, scope: Scope, now: datetime, for_csv: bool, only: Only = Only()
) -> Iterator[tuple]:
    where, params = _in_scope(db, scope, "s", only)
    # One key for the merge: an attachment's (account, structure) as one number.
    key = "(a.account_id * 4294967296 + a.structure_id)"
    rows_sql = (
        f"SELECT {key}, acc.login_email, s.identifier, s.raison_sociale, s.primary_manager_id,"
        " acc.id, s.status, a.created_at FROM attachment a"
        " JOIN account acc ON acc.id = a.account_id JOIN structure s ON s.id = a.structure_id"
        f" WHERE {where} ORDER BY 1"
    )
    children_sql = (
        f"SELECT {key.replace('a.', 'x.')}, v.code FROM service_attachment x"
        " JOIN service v ON v.id = x.service_id JOIN structure s ON s.id = x.structure_id"
        f" WHERE {where} ORDER BY 1, v.code"
    )
    for row, services in _merged(db, rows_sql, params, children_sql, params):
        codes = [code for _key, code in services]
        role = "primary" if row[4] == row[5] else "member"
        scope_ = "services" if codes else "structure"
        yield (row[1], row[2], codes, row[3], role, scope_, row[6], _time(row[7]))


def _habilitations(
    db: Sql, scope: Scope, now: datetime, for_csv: bool, only: Only = Only()
) -> Iterator[tuple]:
    from chorus_cli.domain import catalogue

    where, params = _in_scope(db, scope, "s", only)
    # Only the profiles of attached holders give rights (authz.attached_profiles).
    sql = (
        "SELECT acc.login_email, s.identifier, v.code, h.application, h.level,"
        " s.raison_sociale, h.granted_at FROM habilitation h"
        " JOIN attachment a ON a.account_id = h.account_id AND a.structure_id = h.structure_id"
        " JOIN account acc ON acc.id = h.account_id JOIN structure s ON s.id = h.structure_id"
        " LEFT JOIN service v ON v.id = h.service_id"
        f" WHERE {where} ORDER BY h.account_id, h.structure_id, h.service_id, h.id"
    )
    for login, identifier, service, application, level, name, granted in db.stream(sql, params):
        domain = catalogue.domain(application)
        profile = catalogue.profile_label(application, level)
        yield (
            login,
            identifier,
            service,
            application,
            level,
            name,
            domain,
            profile,
            _time(granted),
        )


def _technical(
    db: Sql, scope: Scope, now: datetime, for_csv: bool, only: Only = Only()
) -> Iterator[tuple]:
    where, params = _in_scope(db, scope, "s", only)
    sql = (
        "SELECT t.login, s.identifier, s.raison_sociale, t.created_at, t.created_by,"
        " t.password_set_at, t.expires_at, t.last_used_at FROM technical_account t"
        f" JOIN structure s ON s.id = t.structure_id WHERE {where} ORDER BY t.login_key"
    )
    for login, identifier, name, created, by, set_at, expires, used in db.stream(sql, params):
        yield (
            login,
            identifier,
            name,
            _time(created),
            by,
            _time(set_at),
            _time(expires),
            _time(used),
        )


READERS: dict[str, Callable[[Sql, Scope, datetime, bool, Only], Iterator[tuple]]] = {
    "technical": _technical,
    "accounts": _accounts,
    "structures": _structures,
    "attachments": _attachments,
    "habilitations": _habilitations,
}


def _csv_cell(value: Any) -> Any:
    """A CSV cell: lists of codes comma-joined, an address on one line, flags as words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(v["code"] if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, dict):  # an address
        place = " ".join(filter(None, (value.get("postal_code"), value.get("commune"))))
        return ", ".join(filter(None, (*value["lines"], place, value.get("country"))))
    return value


def _only(
    uow: UnitOfWork,
    scope: Scope,
    structure: str | None,
    department: str | None,
    id_type: str | None,
) -> Only:
    """The ``--structure`` and ``--department`` filters, checked: an unknown structure is
    exit 3, one outside the actor's scope exit 4 (PUB-1), a malformed department exit 2."""
    from chorus_cli.domain.departments import DEPARTMENT
    from chorus_cli.domain.structure_lookup import get
    from chorus_cli.kernel.errors import NotAllowed

    structure_id = None
    if structure is not None:
        found = get(uow, structure, id_type)
        if not scope.covers(found.public, found.postal_code):
            raise NotAllowed("pub1.out_of_scope", structure=found.identifier)
        structure_id = found.id
    if department is not None:
        department = department.strip().upper()
        if not DEPARTMENT.match(department):
            raise BadInput("role.department_invalid", department=department)
    return Only(structure_id, department)


@contextmanager
def output_file(path: str, binary: bool) -> Iterator[IO[Any]]:
    """``--output FILE``: written to a new file beside it, then renamed over ``FILE`` when
    the export is done, so ``FILE`` is never half-written and a symbolic link there is
    replaced, never written through. The user's file: the umask's mode, as any file
    they make. BadInput (exit 2) naming it when its folder cannot take it."""
    import os
    import tempfile
    from pathlib import Path

    target = Path(path).expanduser()
    folder = target.parent
    try:
        descriptor, partial = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.")
    except OSError as exc:
        raise BadInput("out4.output_unwritable", path=str(target), reason=exc.strerror) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(descriptor, 0o666 & ~umask)
        mode = "wb" if binary else "w"
        options = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(descriptor, mode, **options) as handle:
            yield handle
        try:
            os.replace(partial, target)
        except OSError as exc:
            reason = exc.strerror
            raise BadInput("out4.output_unwritable", path=str(target), reason=reason) from None
    except BaseException:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def check_format(kind: str, fmt: str, excel: bool, output: str | None) -> None:
    """BadInput (exit 2) for an unknown kind or format, a workbook with no ``--output``
    (OUT-4: a workbook is no text for a terminal or a pipe), ``--excel`` but on CSV."""
    if kind not in KINDS:
        raise BadInput("ops2.kind_unknown", kind=kind, kinds=", ".join(KINDS))
    if fmt not in FORMATS:
        raise BadInput("ops2.format_unknown", format=fmt, formats=", ".join(FORMATS))
    if fmt == "xlsx" and output is None:
        raise BadInput("out4.xlsx_needs_output")
    if excel and fmt != "csv":
        raise BadInput("out4.excel_csv_only", format=fmt)


def export(
    uow: UnitOfWork,
    actor: Account,
    kind: str,
    fmt: str,
    out: IO[Any],
    *,
    structure: str | None = None,
    department: str | None = None,
    id_type: str | None = None,
    excel: bool = False,
) -> int:
    """OPS-2: write every row the actor may see to ``out``, of one structure or of one
    department's structures when asked; returns how many. A CSV has its header even
    with no row; with ``excel``, it is French Excel's (``;``, BOM, CRLF: OUT-4). For
    ``xlsx``, ``out`` is binary: a workbook of one sheet named after the kind, its text
    in text cells (OUT-4)."""
    check_format(kind, fmt, excel, "" if fmt == "xlsx" else None)
    scope = authz.oversight_scope(uow, actor)
    only = _only(uow, scope, structure, department, id_type)
    uow.commit()  # the export reads in a transaction of its own, holding no write lock
    db = Sql(uow, read_only=True)
    rows = READERS[kind](db, scope, uow.clock.now(), fmt != "jsonl", only)
    count = 0
    if fmt != "jsonl":
        plain = kind == "accounts"  # its rows come ready from the SQL
        # SEC-9: control characters escaped, formulas quoted; numbers stay numbers.
        cells = (
            [
                spreadsheet_cell(v) if isinstance(v, str) else v
                for v in (row if plain else map(_csv_cell, row))
            ]
            for row in rows
        )
        if fmt == "xlsx":
            from chorus_cli.bulk import xlsx

            return xlsx.write(out, kind, FIELDS[kind], cells)
        from chorus_cli.kernel.excel import BOM, csv_dialect

        if excel:
            out.write(BOM)
        writer = csv.writer(out, **csv_dialect(excel))
        writer.writerow(FIELDS[kind])
        for count, row in enumerate(cells, 1):  # noqa: B007  (count is returned)
            writer.writerow(row)
        return count
    fields = FIELDS[kind]
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    for row in rows:
        # SEC-9: C1 controls, bidi and zero-width characters as \uXXXX (the same data).
        out.write(json_safe(dumps(dict(zip(fields, row, strict=True)))))
        out.write("\n")
        count += 1
    return count
