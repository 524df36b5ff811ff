"""INSEE's stock files as published: UTF-8 CSV, comma-separated, a header line, given
as ``.csv`` or as the ``.zip`` that holds it. Streams rows; never loads a file whole."""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from chorus_cli.kernel.errors import BadInput
from chorus_cli.kernel.lines import LINE_MAX, RecordBound
from chorus_cli.kernel.text import undecodable
from chorus_cli.sirene import columns

OnError = Callable[[int, str], None]

# SEC-10: an archive may expand to this many times its own size, no more (INSEE's stock
# files expand about 4 times); a line of a stock file is a few hundred bytes, one longer
# than LINE_MAX is refused before it is read whole, and so is a record (a quoted field
# may hold line breaks) whose lines add up to more (``RecordBound``).
EXPANSION_MAX = 100
# The compression methods chorus reads: stored and deflate (INSEE publishes deflate).
# zipfile expands bzip2 and LZMA a whole block at a time, with no bound on what comes
# out of it (SEC-10), so those are refused like the methods it does not read at all.
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# Other methods, by the names archivers give them (APPNOTE 4.4.5).
METHOD_NAMES = {
    9: "Deflate64",
    12: "bzip2",
    14: "LZMA",
    93: "Zstandard",
    95: "XZ",
    98: "PPMd",
    99: "AES",
}

KINDS = {
    "establishments": (columns.ETABLISSEMENT_REQUIRED, columns.ETABLISSEMENT_OPTIONAL),
    "units": (columns.UNITE_LEGALE_REQUIRED, columns.UNITE_LEGALE_OPTIONAL),
}


class Rows:
    """The rows of one open stock file, with the physical line each starts on."""

    def __init__(
        self,
        handle: IO[str],
        raw: IO[bytes],
        display: str,
        on_error: OnError | None = None,
        keep_line: Callable[[str], object] | None = None,
    ) -> None:
        self._raw = raw
        self.display = display
        self._on_error = on_error or (lambda _line, _error: None)
        self._nul_lines: set[int] = set()
        self._keep: Callable[[str], object] | None = None  # set once the header is read
        # Lines ``keep_line`` refused, never parsed: always between two records, so a
        # record's physical line is the CSV reader's count plus those.
        self.passed_over = 0
        self._lines_read = 0  # physical lines, once the file is read to its end
        self._ended = True  # the last line of the file ended with a line break
        self._bound: RecordBound[str] = RecordBound(
            display, "sec10.sirene_line_too_long", "sec10.sirene_record_too_long"
        )
        self._reader = csv.reader(self._lines(handle))
        try:
            # INSEE's own layout has had names with a trailing space.
            self.header = [name.strip() for name in self._next()]
        except StopIteration:
            raise BadInput("str2.empty_file", file=display) from None
        except csv.Error:
            raise BadInput("str2.not_utf8", file=display, line=1) from None
        self.position_of = {name: i for i, name in enumerate(self.header)}
        self._keep = keep_line

    def _lines(self, handle: IO[str]) -> Iterator[str]:
        # csv reads NUL bytes as text since Python 3.11, and PostgreSQL refuses them:
        # a line holding one is noted here, and its row skipped as malformed.
        # Bytes that are not UTF-8 arrive as U+DCxx (surrogateescape), so the line that
        # holds one is named; a strict decoder fails a whole 8 KB chunk ahead of it.
        # ``keep_line`` (``--departments``) passes over a line it refuses before the CSV
        # parser sees it; a line with quotes is always parsed, and so is one inside a
        # quoted field (a record over several lines is parsed whole), and a last line
        # without a line break (a cut file: too short to name its département, it would
        # be passed over, and the cut never seen).
        number = 0
        inside = False
        tail = "\n"
        while line := handle.readline(LINE_MAX + 2):
            number += 1
            keep = self._keep
            if keep is not None:
                if '"' in line:  # parsed: quotes are counted to know where records end
                    inside ^= line.count('"') % 2 == 1
                elif (
                    not inside
                    and not keep(line)
                    and len(line) <= LINE_MAX
                    and line.endswith(("\n", "\r"))  # the last, perhaps cut: read
                    and (line.isascii() or undecodable(line) is None)
                ):  # the cheap path: passed over; else read as usual, or refused below
                    self.passed_over += 1
                    continue
            self._bound.line(line, number)
            if not line.isascii() and undecodable(line) is not None:
                raise BadInput("str2.not_utf8", file=self.display, line=number)
            if "\0" in line:
                self._nul_lines.add(number)
                line = line.replace("\0", "")
            tail = line
            yield line
        self._lines_read = number
        self._ended = tail.endswith(("\n", "\r"))

    def _next(self) -> list[str]:
        """The next record, its lines counted from zero."""
        self._bound.next_record()
        return next(self._reader)

    def pass_over(self, keep_line: Callable[[str], object]) -> None:
        """From the next line on, pass over the lines ``keep_line`` refuses, unparsed."""
        self._keep = keep_line

    def index(self, name: str) -> int | None:
        return self.position_of.get(name)

    def position(self) -> int:
        """Bytes read so far (of the uncompressed CSV), for the progress bar."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        """The records, with the line each starts on. A file whose last line is cut (no
        line break, and too few fields: a download that stopped) is BadInput (exit 2)
        once read: the import that read it is abandoned, the index left as it was."""
        reader = self._reader
        last = reader.line_num
        width = len(self.header)
        whole = True  # the last record had as many fields as the header
        while True:
            try:
                row = self._next()
            except StopIteration:
                if not whole and not self._ended:
                    raise BadInput(
                        "str2.file_truncated", file=self.display, line=self._lines_read
                    ) from None
                return
            except csv.Error as exc:  # a NUL byte, a runaway quoted field...
                if reader.line_num == last:  # the reader cannot move on: stop here
                    return
                self._on_error(last + 1 + self.passed_over, str(exc))
                last = reader.line_num
                whole = False
                continue
            whole = len(row) == width
            # physical lines: the reader's count, plus the lines passed over before
            start, last = last + 1 + self.passed_over, reader.line_num
            end = last + self.passed_over
            if self._nul_lines and any(n in self._nul_lines for n in range(start, end + 1)):
                self._nul_lines.difference_update(range(start, end + 1))
                self._on_error(start, "NUL")
                continue
            if row:  # a blank line is no row at all
                yield start, row


@dataclass(frozen=True)
class StockFile:
    """A stock file checked for reading: it exists, and its header has what is needed."""

    path: Path
    kind: str
    member: str | None  # the CSV inside a zip
    size: int  # bytes of CSV (uncompressed), for the progress bar

    @property
    def display(self) -> str:
        return f"{self.path.name}!{self.member}" if self.member else self.path.name

    @classmethod
    def check(cls, path: str | Path, kind: str) -> StockFile:
        """Open the file and read its header; BadInput (exit 2) when it cannot serve."""
        path = Path(path).expanduser()
        if not path.is_file():
            raise BadInput("str2.file_missing", path=str(path))
        member = None
        size = path.stat().st_size
        if zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as archive:
                    found = [
                        info
                        for info in archive.infolist()
                        if info.filename.lower().endswith(".csv") and not info.is_dir()
                    ]
            except (zipfile.BadZipFile, OSError) as exc:
                raise BadInput("str2.bad_zip", path=path.name, reason=str(exc)) from None
            if len(found) != 1:
                raise BadInput("str2.zip_members", path=path.name, count=len(found))
            info = found[0]
            member, size = info.filename, info.file_size
            _readable(path, info)
            # What the archive says it holds, refused before a byte is expanded; what it
            # really holds is counted as it comes (``_Bounded``).
            _refuse_expansion(path, size, _expansion_limit(path))
        stock = cls(path, kind, member, size)
        with stock.rows() as rows:
            required, _optional = KINDS[kind]
            missing = [name for name in required if rows.index(name) is None]
            if missing:
                raise BadInput(
                    "str2.missing_columns",
                    file=stock.display,
                    columns=", ".join(missing),
                    count=len(missing),
                )
        return stock

    @contextmanager
    def rows(
        self, on_error: OnError | None = None, keep_line: Callable[[str], object] | None = None
    ) -> Iterator[Rows]:
        """The rows; ``on_error(line, error)`` hears of each unreadable CSV line, and a
        line ``keep_line`` refuses is passed over unparsed (counted in ``passed_over``)."""
        try:
            with self._binary() as raw:
                # utf-8-sig: a BOM, if any, is not part of the first column's name.
                handle = io.TextIOWrapper(
                    raw, encoding="utf-8-sig", errors="surrogateescape", newline=""
                )
                yield Rows(handle, raw, self.display, on_error, keep_line)
        except OSError as exc:
            raise BadInput(
                "str2.file_unreadable", path=self.display, reason=exc.strerror or str(exc)
            ) from None
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise BadInput("str2.bad_zip", path=self.path.name, reason=str(exc)) from None

    @contextmanager
    def _binary(self) -> Iterator[IO[bytes]]:
        if self.member is None:
            with open(self.path, "rb") as raw:
                yield raw
            return
        with zipfile.ZipFile(self.path) as archive:
            try:
                raw = archive.open(self.member)
            except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown method
                raise BadInput("str2.bad_zip", path=self.path.name, reason=str(exc)) from None
            with raw, _Bounded(raw, self.path) as bounded:
                yield bounded


def _readable(path: Path, info: zipfile.ZipInfo) -> None:
    """BadInput (exit 2) for a member that zipfile cannot expand: encrypted, or
    compressed by a method it does not know (Deflate64, PPMd…)."""
    if info.flag_bits & 0x1:
        raise BadInput("sec3.zip_encrypted", path=path.name, member=info.filename)
    if info.compress_type not in METHODS:
        method = METHOD_NAMES.get(info.compress_type, f"n° {info.compress_type}")
        raise BadInput("sec3.zip_method", path=path.name, member=info.filename, method=method)


def _expansion_limit(path: Path) -> int:
    """How many bytes the archive at ``path`` may expand to (SEC-10)."""
    import shutil

    ratio = EXPANSION_MAX * max(path.stat().st_size, 1)
    return min(ratio, shutil.disk_usage(path.parent).free)


def _refuse_expansion(path: Path, size: int, limit: int) -> None:
    """BadInput (exit 2) when ``size`` expanded bytes pass ``limit``, saying which bound."""
    if size <= limit:
        return
    compressed = max(path.stat().st_size, 1)
    if size > EXPANSION_MAX * compressed:
        raise BadInput("sec10.zip_ratio", path=path.name, ratio=EXPANSION_MAX)
    raise BadInput("sec10.zip_disk", path=path.name)


class _Bounded(io.BufferedIOBase):
    """An archive member's bytes, counted as they come (SEC-10): past ``EXPANSION_MAX``
    times the archive's size, or past the free space of the disk that holds it, the
    reading stops with BadInput (exit 2), whatever sizes the archive declares."""

    def __init__(self, raw: zipfile.ZipExtFile, path: Path) -> None:
        super().__init__()
        self._raw = raw
        self._path = path
        self._limit = _expansion_limit(path)
        self._count = 0

    def _counted(self, data: bytes) -> bytes:
        self._count += len(data)
        _refuse_expansion(self._path, self._count, self._limit)
        return data

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._counted(self._raw.read(-1 if size is None else size))

    def read1(self, size: int = -1) -> bytes:
        return self._counted(self._raw.read1(size))

    def tell(self) -> int:
        return self._count
