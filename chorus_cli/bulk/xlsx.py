"""A workbook written as the rows come (OUT-4): ``bulk export … --format xlsx``.

One sheet, a header row, then one row per record, streamed into the zip (memory stays
that of a thousand rows, whatever the export's size). Text is written as text cells in
the text number format (``@``), so a SIRET keeps its leading zeros and a phone its ``+``
when the file is opened, edited and saved again; numbers stay numbers (SEC-9).

Whatever the cells hold, the XML stays well-formed and reads back as written: a
character XML 1.0 cannot hold (a C0 control, a lone surrogate, U+FFFE) or a carriage
return (which XML parsers fold) is written ``_xHHHH_`` as ECMA-376 escapes them, and so
a ``_`` that starts such a sequence in the text itself is written ``_x005F_``; a float
that is no number (NaN, infinities) is written as text; the sheet's name keeps to
Excel's rules (31 characters, none of ``: \\ / ? * [ ]``, no ``'`` at either end).

Written here with the standard library rather than through XlsxWriter or openpyxl: for
100,000 accounts, XlsxWriter's constant-memory mode took 8 s and openpyxl's write-only
mode 13 s where this takes about 1.3 s, the CSV export under 1 s (benchmarks/bulk.py
keeps the ratio). The parts are the smallest SpreadsheetML package that Excel,
LibreOffice, calamine and openpyxl all open (tests/test_sheets.py reads it back with
them).
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import IO, Any
from xml.sax.saxutils import escape

FLUSH_ROWS = 1_000
WIDTH = 22  # characters, every column
SHEET_NAME_MAX = 31  # Excel's limit
# What a cell's text cannot hold as it is (see the module's doc).
_UNWRITABLE = re.compile(
    "[\x00-\x08\x0b-\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)"
)
_NOT_IN_SHEET_NAME = re.compile(r"[:\\/?*\[\]\x00-\x1f]")

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

CONTENT_TYPES = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/></Types>'
)
ROOT_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
)
# Style 0: general; 1: text (number format 49, «@»); 2: text, bold (the header).
STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"'
    ' applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def sheet_name(name: str) -> str:
    """``name`` as Excel takes a sheet's name: its forbidden characters as ``_``, no
    ``'`` at either end, 31 characters at most, never empty."""
    kept = _NOT_IN_SHEET_NAME.sub("_", name).strip("'")[:SHEET_NAME_MAX].strip("'")
    return kept or "Sheet1"


def cell_xml(value: str) -> str:
    """Text as a cell's ``<t>`` holds it (see the module's doc)."""
    if value.isprintable() and "_x" not in value:  # nearly every cell: nothing to escape
        return escape(value)
    return escape(_UNWRITABLE.sub(lambda found: f"_x{ord(found.group()):04X}_", value))


def _workbook(sheet: str) -> str:
    return (
        _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        f'<sheet name="{escape(sheet_name(sheet), {chr(34): "&quot;"})}" sheetId="1"'
        ' r:id="rId1"/>'
        "</sheets></workbook>"
    )


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write(out: IO[bytes], sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """The workbook into ``out`` (a binary file, seekable or not): ``header`` then
    ``rows``, whose cells are text (already made safe by the caller, SEC-9), numbers, or
    None (an empty cell); returns how many rows."""
    letters = [column_letters(i) for i in range(len(header))]
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheet))
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(
                (
                    _HEAD + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
                    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1"'
                    ' topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    "</sheetView></sheetViews>"
                    f'<cols><col min="1" max="{len(header) or 1}" width="{WIDTH}"'
                    ' customWidth="1"/></cols><sheetData>' + _row(1, letters, header, 2)
                ).encode()
            )
            buffer: list[str] = []
            for count, row in enumerate(rows, 1):  # noqa: B007  (count is returned)
                buffer.append(_row(count + 1, letters, row, 1))
                if len(buffer) >= FLUSH_ROWS:
                    part.write("".join(buffer).encode())
                    buffer.clear()
            part.write("".join(buffer).encode())
            part.write(b"</sheetData></worksheet>")
    return count


def _row(number: int, letters: list[str], cells: Sequence[Any], style: int) -> str:
    parts = [f'<row r="{number}">']
    for letter, value in zip(letters, cells, strict=False):
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, float) and not math.isfinite(value):
                value = repr(value)  # nan, inf, -inf: no number a spreadsheet reads
            else:
                parts.append(f'<c r="{letter}{number}"><v>{value!r}</v></c>')
                continue
        parts.append(
            f'<c r="{letter}{number}" s="{style}" t="inlineStr"><is>'
            f'<t xml:space="preserve">{cell_xml(value)}</t></is></c>'
        )
    parts.append("</row>")
    return "".join(parts)
