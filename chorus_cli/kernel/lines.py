"""The bound on a line and on a CSV record of a file read line by line (SEC-10),
shared by the flow reader (bytes) and the SIRENE stock reader (text)."""

from __future__ import annotations

from typing import AnyStr, Generic

from chorus_cli.kernel.errors import BadInput

# A longer line is refused before it is read whole: no record of a flow or a stock file
# comes near it, and memory stays that of one line whatever the file. A CSV record (a
# quoted field may hold line breaks) whose lines add up to more is refused as well.
LINE_MAX = 1024 * 1024


def _content(data: AnyStr) -> int:
    """The length of ``data`` without its line break."""
    if isinstance(data, bytes):
        return len(data.rstrip(b"\r\n"))
    return len(data.rstrip("\r\n"))


def too_long(data: AnyStr) -> bool:
    """A line read with ``readline(LINE_MAX + 2)`` that is past ``LINE_MAX``, its line
    break aside: refused before the rest is read (memory stays that of one line)."""
    return len(data) > LINE_MAX and _content(data) > LINE_MAX


class RecordBound(Generic[AnyStr]):
    """Counts the physical lines of the CSV record being read. ``line(data, number)``
    raises BadInput (exit 2) for a line past ``LINE_MAX`` (``line_key``, naming it) or a
    record whose lines add up to more (``record_key``, naming the line it starts on).
    csv reads a record's lines one by one and no further than its end, and the reader
    calls ``next_record`` before each: a quoted field opened and never closed cannot
    gather millions of fields."""

    def __init__(self, display: str, line_key: str, record_key: str) -> None:
        self.display = display
        self.line_key = line_key
        self.record_key = record_key
        self._size = 0  # bytes (or characters) of the record, across its lines
        self._start = 1  # the line it starts on

    def next_record(self) -> None:
        self._size = 0

    def line(self, data: AnyStr, number: int, record: bool = True) -> None:
        """Check one physical line (read with ``readline(LINE_MAX + 2)``); with
        ``record`` False only its own length counts (JSON Lines)."""
        if too_long(data):
            raise BadInput(self.line_key, file=self.display, line=number)
        if not record:
            return
        if not self._size:
            self._start = number
        self._size += len(data)
        if self._size - (len(data) - _content(data)) > LINE_MAX:
            raise BadInput(self.record_key, file=self.display, line=self._start)
