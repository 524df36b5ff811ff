"""Flow files as people and management software write them (OPS-1), streamed.

- CSV with ``,`` or ``;`` (or a tab) between fields, found from the header line; a
  header line is required.
- UTF-8, with or without a BOM, or cp1252 (Excel for French Windows): the first line
  holding a non-ASCII byte decides. A later line that does not decode names its number.
- JSON Lines (``.jsonl``/``.ndjson``, or a file whose first character is ``{``): one
  object per line.
- A workbook (``.xlsx``, ``.ods``; OUT-4): one sheet, read by ``sheets.SheetFlow`` as a
  CSV is, rows numbered as the spreadsheet numbers them.

The file is read line by line in binary and decoded one line at a time, so a 1 GB flow
costs the memory of one line (a line longer than ``LINE_MAX`` is refused, SEC-10);
``position()`` says how far the reading got, for the progress bar. Lines are numbered
as an editor numbers them (the header is line 1).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chorus_cli.kernel.errors import BadInput
from chorus_cli.kernel.lines import LINE_MAX, RecordBound
from chorus_cli.kernel.text import unquoted

if TYPE_CHECKING:
    from chorus_cli.bulk.sheets import SheetFlow

SNIFF_BYTES = 64 * 1024
BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
DELIMITERS = (";", ",", "\t")


# (first line, the record's values, why the line is no record)
Record = tuple[int, Any, tuple[str, dict[str, Any]] | None]


class _Decoder:
    """UTF-8 or cp1252, decided by the first line that is not plain ASCII."""

    def __init__(self, display: str, encoding: str | None = None) -> None:
        self.display = display
        self.encoding = encoding

    def __call__(self, data: bytes, line: int) -> str:
        if data.isascii():
            return data.decode("ascii")
        if self.encoding is None:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                self.encoding = "cp1252"
            else:
                self.encoding = "utf-8"
                return text
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError:
            key = "ops1.not_utf8" if self.encoding == "utf-8" else "ops1.not_text"
            raise BadInput(key, file=self.display, line=line) from None


@dataclass
class FlowFile:
    """An open flow file: its format, and for CSV its delimiter and header."""

    path: Path
    format: str  # csv | jsonl
    size: int
    delimiter: str = ","
    header: list[str] = field(default_factory=list)
    _handle: IO[bytes] | None = None
    _decoder: _Decoder | None = None
    number: int = 0  # the line read last
    _bound: RecordBound[bytes] | None = None  # lines and CSV records (SEC-10)

    @property
    def display(self) -> str:
        return self.path.name

    @property
    def encoding(self) -> str:
        """What the file turned out to be (plain ASCII reads as UTF-8)."""
        found = self._decoder.encoding if self._decoder else None
        return found or "utf-8"

    def position(self) -> int:
        """Bytes read so far."""
        try:
            return self._handle.tell() if self._handle else 0
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> FlowFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- lines -------------------------------------------------------------------

    def _lines(self) -> Iterator[str]:
        """Every physical line from the second (``open`` read the header) for CSV, from
        the first for JSON Lines, decoded; ``self.number`` is the last one's number. A NUL
        byte means a binary file."""
        assert self._handle is not None and self._decoder is not None
        decode = self._decoder
        number = 1 if self.format == "csv" else 0
        handle = self._handle
        bound = self._bounds()
        csv_record = self.format == "csv"
        while data := handle.readline(LINE_MAX + 2):
            number += 1
            self.number = number
            bound.line(data, number, record=csv_record)
            if number == 1 and data.startswith(BOM):
                data = data[len(BOM) :]
            if b"\0" in data:
                raise BadInput("ops1.binary", file=self.display, line=number)
            yield decode(data, number)

    def _bounds(self) -> RecordBound[bytes]:
        if self._bound is None:
            self._bound = RecordBound(
                self.display, "sec10.flow_line_too_long", "sec10.flow_record_too_long"
            )
        return self._bound

    def records(self) -> Iterator[Record]:
        """(line, values, error) for each record, blank lines skipped, in file order.

        ``values``: for CSV the list of fields (the header gives their names), for JSON
        Lines the object; ``error``: why the line is no record (a message key and its
        parameters), else None.
        """
        if self.format == "jsonl":
            yield from self._json_records()
        else:
            yield from self._csv_records()

    def _json_records(self) -> Iterator[Record]:
        for text in self._lines():
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield self.number, None, ("ops1.bad_json", {"reason": exc.msg})
                continue
            except RecursionError:  # [[[[… nested past what the parser can follow
                yield self.number, None, ("sec3.json_too_deep", {})
                continue
            if not isinstance(value, dict):
                yield self.number, None, ("ops1.not_object", {"type": type(value).__name__})
                continue
            yield self.number, value, None

    def _csv_records(self) -> Iterator[Record]:
        reader = csv.reader(self._lines(), delimiter=self.delimiter)
        width = len(self.header)
        last = 1  # the header's line
        bound = self._bounds()
        while True:
            bound.next_record()
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a quoted field never closed: the file ends here
                yield last + 1, None, ("ops1.bad_csv", {"reason": str(exc)})
                return
            line, last = last + 1, reader.line_num + 1
            if not record or not "".join(record).strip():
                continue  # a blank line, or only separators
            if len(record) > width and "".join(record[width:]).strip():
                yield (
                    line,
                    None,
                    ("ops1.too_many_fields", {"count": len(record), "expected": width}),
                )
                continue
            # SEC-9: the ' that an export put in front of a formula-like cell goes.
            yield line, [unquoted(f) if f[:1] == "'" else f for f in record], None


def open_flow(path: str | Path, sheet: str | None = None) -> FlowFile | SheetFlow:
    """Open a flow file and find its format (and for CSV, delimiter and header); a
    workbook's sheet (the first, or ``sheet``) reads as a CSV (OUT-4).

    BadInput (exit 2), naming the file, when it is missing, empty, binary, UTF-16, a JSON
    array, or has no header line; when it is no workbook but ``sheet`` names one, or is a
    workbook without that sheet.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise BadInput("ops1.file_missing", path=str(path))
    try:
        handle = open(path, "rb")  # noqa: SIM115  (closed by FlowFile)
    except OSError as exc:
        raise BadInput("ops1.file_unreadable", path=str(path), reason=exc.strerror) from None
    try:
        sample = handle.read(SNIFF_BYTES)
        handle.seek(0)
        from chorus_cli.bulk import sheets

        if sample.startswith(sheets.OLE_MAGIC):
            raise BadInput("out4.old_workbook", file=path.name)  # Excel 97-2003
        if sheets.is_workbook(path, sample):
            handle.close()
            return sheets.SheetFlow(path, sheet)
        if sheet is not None:
            raise BadInput("out4.sheet_not_workbook", file=path.name, sheet=sheet)
        return _sniff(path, handle, sample)
    except BaseException:
        handle.close()
        raise


def _sniff(path: Path, handle: IO[bytes], sample: bytes) -> FlowFile:
    display = path.name
    if sample.startswith(UTF16_BOMS):
        raise BadInput("ops1.utf16", file=display)
    if b"\0" in sample:
        raise BadInput(
            "ops1.binary", file=display, line=sample[: sample.index(b"\0")].count(b"\n") + 1
        )
    body = sample[len(BOM) :] if sample.startswith(BOM) else sample
    if not body.strip():
        raise BadInput("ops1.empty", file=display)
    first = body.lstrip()[:1]
    decoder = _Decoder(display, "utf-8" if sample.startswith(BOM) else None)
    size = path.stat().st_size
    if first == b"[":
        raise BadInput("ops1.json_array", file=display)
    if path.suffix.lower() in JSONL_SUFFIXES or first == b"{":
        return FlowFile(path, "jsonl", size, _handle=handle, _decoder=decoder)

    header_bytes = handle.readline(LINE_MAX + 2)
    if len(header_bytes.rstrip(b"\r\n")) > LINE_MAX:
        raise BadInput("sec10.flow_line_too_long", file=display, line=1)
    if header_bytes.startswith(BOM):
        header_bytes = header_bytes[len(BOM) :]
    header_text = decoder(header_bytes, 1)
    delimiter = max(DELIMITERS, key=lambda d: (header_text.count(d), d == ","))
    if header_text.count(delimiter) == 0:
        delimiter = ","
    try:
        header = next(csv.reader([header_text], delimiter=delimiter))
    except (csv.Error, StopIteration):
        raise BadInput("ops1.no_header", file=display) from None
    header = [name.strip() for name in header]
    if not any(header):
        raise BadInput("ops1.no_header", file=display)
    return FlowFile(
        path, "csv", size, delimiter=delimiter, header=header, _handle=handle, _decoder=decoder
    )
