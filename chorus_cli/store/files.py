"""Files chorus keeps for itself (SEC-12): the session file, the seed key file, lock files,
backups. Each is made 0600 by chorus, never through a symbolic link: a link planted at
the path (even one that points nowhere) is refused, never followed, and a file that is
damaged is moved aside, never silently overwritten.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from chorus_cli.kernel.errors import BadInput

PRIVATE = 0o600
# Not on every platform (Windows has no symbolic links to follow here).
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _refuse_link(path: Path) -> None:
    raise BadInput("sec12.symlink_refused", path=str(path))


def create_private(path: Path) -> int:
    """A new file at ``path``, 0600, opened for writing; its descriptor. Refused when
    anything (a file, a link, even a dangling one) is already there."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC, PRIVATE)
    except FileExistsError:
        if path.is_symlink():
            _refuse_link(path)
        raise


def open_private(path: Path) -> int:
    """The file at ``path`` opened for reading and writing, made 0600 when new (a lock
    file); a symbolic link there is refused, never followed."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | NOFOLLOW | CLOEXEC, PRIVATE)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            _refuse_link(path)
        raise
    return descriptor


def read_private(path: Path) -> str | None:
    """The text of a file of ours; None when there is none. A link there is refused."""
    try:
        descriptor = os.open(path, os.O_RDONLY | NOFOLLOW | CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            _refuse_link(path)
        raise
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read().decode("utf-8", errors="replace")


def write_private(path: Path, text: str) -> None:
    """Replace the file at ``path`` with ``text`` in one step: written to a new 0600 file
    of our own beside it (two processes never share one), flushed, then renamed over the
    old one (a rename replaces a link, it never writes through it)."""
    import contextlib
    import tempfile

    descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def move_aside(path: Path, stamp: str) -> Path:
    """Put a damaged file out of the way, kept for the user to look at: ``<name>.damaged-
    <stamp>`` beside it (a number added when that name is taken). Returns the new path."""
    candidate = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.rename(path, candidate)
    return candidate
