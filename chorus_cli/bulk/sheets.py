"""Workbooks read as flows (OUT-4): ``.xlsx`` and ``.ods``, one sheet (the first, or the
one named), through python-calamine, imported only here.

A sheet reads as a CSV does (``reader.FlowFile``): its first row is the header, each
other row a record of text cells numbered as the spreadsheet numbers its rows, with the
same bounds (SEC-10: a row past ``LINE_MAX``) and the same checks after (SEC-1). Cells
come back as the text a CSV would have held: a number that the spreadsheet stored as
one (a SIRET, a phone typed without spaces) as its digits, never ``5.52e13``; a date
as ISO 8601; an empty cell empty.

Before calamine opens it, the file is checked as an archive (SEC-9, SEC-10): a zip
whose members are a workbook's, none encrypted, and whose members expand, counted as
they are read and whatever the archive declares, to no more than ``EXPANSION_MAX``
times its size and ``EXPANDED_MAX`` bytes in all: a zip bomb is one sentence, exit 2.

Memory: calamine holds the whole sheet (about 1.7 times a CSV import's peak at 100,000
rows, benchmarks/sheets.py), so ``EXPANDED_MAX`` is what bounds it (SEC-10): some
400,000 rows of an accounts export. A bigger flow is saved as CSV, which is streamed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from chorus_cli.kernel.errors import BadInput
from chorus_cli.kernel.lines import LINE_MAX
from chorus_cli.kernel.text import unquoted

SUFFIXES = (".xlsx", ".xlsm", ".ods")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003): not read
EXPANSION_MAX = 100  # times the file's size, as for a SIRENE archive (SEC-10)
EXPANDED_MAX = 256 * 1024**2  # bytes of XML in all, whatever the file's size
CHUNK = 1024 * 1024
# What makes a zip a workbook: Office Open XML's part list, OpenDocument's manifest.
MARKERS = {".ods": ("content.xml",), "": ("[Content_Types].xml", "xl/workbook.xml")}


def is_workbook(path: Path, sample: bytes) -> bool:
    """A workbook by its name; a zip named otherwise is one too if it says so."""
    return path.suffix.lower() in SUFFIXES or sample.startswith(b"PK\x03\x04")


def check_archive(path: Path) -> str:
    """BadInput (exit 2), one sentence naming the file, unless ``path`` is a workbook's
    archive that expands within bounds (SEC-9, SEC-10). Every member is inflated here, in
    chunks, and counted: the sizes an archive declares are not trusted."""
    display = path.name
    size = max(path.stat().st_size, 1)
    limit = min(EXPANSION_MAX * size, EXPANDED_MAX)
    by_ratio = limit < EXPANDED_MAX  # which bound stops it, for the sentence
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BadInput("out4.not_workbook", file=display) from None
    with archive:
        names = set(archive.namelist())
        if set(MARKERS[".ods"]) <= names:
            kind = "ods"
        elif set(MARKERS[""]) <= names:
            kind = "xlsx"
        else:
            raise BadInput("out4.not_workbook", file=display)
        expanded = 0
        for info in archive.infolist():
            if info.flag_bits & 0x1:
                raise BadInput("out4.workbook_encrypted", file=display)
            try:
                with archive.open(info) as member:
                    while data := member.read(CHUNK):
                        expanded += len(data)
                        if expanded > limit and by_ratio:
                            raise BadInput(
                                "out4.workbook_expands", file=display, ratio=EXPANSION_MAX
                            )
                        if expanded > limit:
                            raise BadInput(
                                "out4.workbook_too_big", file=display, mib=EXPANDED_MAX >> 20
                            )
            except BadInput:
                raise
            except Exception:  # BadZipFile, zlib.error, EOFError…: a damaged member
                raise BadInput("out4.not_workbook", file=display) from None
    return kind


def cell_text(value: Any) -> str:
    """A cell as the text a CSV holds (see the module's docstring)."""
    if isinstance(value, str):
        # SEC-9: the ' that an export put in front of a formula-like cell goes.
        return unquoted(value) if value[:1] == "'" else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))  # 5.5203253400034e13 → 55203253400034
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat() if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return "" if value is None else str(value)


class SheetFlow:
    """A workbook's sheet as ``reader.FlowFile`` is a CSV: ``header``, ``records()``,
    ``position()`` (a share of the file's size, as rows are read), ``number``."""

    format = "xlsx"
    delimiter = None
    encoding = "utf-8"

    def __init__(self, path: Path, sheet: str | None) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.number = 0
        self.format = check_archive(path)  # xlsx | ods
        from python_calamine import CalamineError, CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(path))
        except (CalamineError, OSError, ValueError) as exc:
            raise BadInput("out4.not_workbook", file=path.name) from exc
        try:
            names = book.sheet_names
            if sheet is None:
                if not names:
                    raise BadInput("ops1.empty", file=path.name)
                sheet = names[0]
            elif sheet not in names:
                raise BadInput(
                    "out4.sheet_unknown",
                    file=path.name,
                    sheet=sheet,
                    sheets=", ".join(names),
                )
            self.sheet = sheet
            try:
                found = book.get_sheet_by_name(sheet)
            except (CalamineError, ValueError) as exc:
                raise BadInput("out4.not_workbook", file=path.name) from exc
        finally:
            book.close()
        self._first = found.start[0] if found.start else 0  # the used range's first row
        self._height = max(found.height, 1)
        self._rows = iter(found.iter_rows())
        header = next(self._rows, None)
        if header is None or not any(cell_text(c).strip() for c in header):
            raise BadInput("ops1.no_header", file=path.name)
        self.number = self._first + 1
        self._check_size(header)
        self.header = [cell_text(c).strip() for c in header]

    @property
    def display(self) -> str:
        return self.path.name

    def position(self) -> int:
        done = self.number - self._first
        return min(self.size, self.size * done // self._height)

    def _check_size(self, row: list[Any]) -> None:
        """SEC-10: a row is bound as a CSV line is."""
        if sum(len(c) if isinstance(c, str) else 24 for c in row) > LINE_MAX:
            raise BadInput("sec10.flow_line_too_long", file=self.display, line=self.number)

    def records(self) -> Iterator[tuple[int, Any, tuple[str, dict[str, Any]] | None]]:
        """(row number, the cells as text, None) for each row that is not blank."""
        width = len(self.header)
        for row in self._rows:
            self.number += 1
            self._check_size(row)
            cells = [cell_text(c) for c in row]
            if not "".join(cells).strip():
                continue
            if len(cells) > width and "".join(cells[width:]).strip():
                error = ("ops1.too_many_fields", {"count": len(cells), "expected": width})
                yield self.number, None, error
                continue
            yield self.number, cells, None

    def close(self) -> None:
        self._rows = iter(())

    def __enter__(self) -> SheetFlow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
