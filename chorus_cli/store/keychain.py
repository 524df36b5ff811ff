"""Where the CLI keeps its session token (AUTH-3): the system keyring, service
``chorus-cli``, one entry per store; and the keys that seal TOTP seeds (SEC-2), one
entry per key id.

On a machine with no usable keyring backend (headless Linux: keyring falls back to
``fail`` or, with keyrings.alt, silently to a plaintext file), the token goes to a
0600 file in the user data dir instead (``FileKeyring``), and the user is warned once.
"""

from __future__ import annotations

import contextlib
import os
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from keyring.backend import KeyringBackend

SERVICE = "chorus-cli"
FALLBACK_FILE = "session-keyring.json"
WARNED_MARKER = ".keyring-warning-shown"


SECRET_QUERY_KEYS = ("password", "passwd", "pass", "pwd", "secret", "token", "sslpassword")


def store_id(database_url: str) -> str:
    """The store's URL without its passwords (user info and query, SEC-3): what errors
    show, and the key of the store's keyring entries."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(database_url)
    except Exception:  # not a URL at all: show nothing of it but its scheme
        return database_url.split(":", 1)[0] + ":…"
    hidden = {
        key: "***" if key.lower() in SECRET_QUERY_KEYS else value
        for key, value in url.query.items()
    }
    return url.set(query=hidden).render_as_string(hide_password=True)


_override: list[KeyringBackend] = []


def use_backend(chosen: KeyringBackend | None) -> None:
    """Use this backend in this process (the demo keeps its session out of your keyring)."""
    _override[:] = [chosen] if chosen is not None else []


def backend() -> KeyringBackend | FileKeyring:
    return _override[0] if _override else _system_backend()


def _headless_linux() -> bool:
    """No session bus: Secret Service and KWallet cannot answer, so don't ask them.

    keyring's discovery loads every backend plugin (one runs gcc through ctypes to look
    for macOS' Security framework) only to end on a plaintext file: ~100 ms a command.
    """
    return sys.platform.startswith("linux") and not os.environ.get("DBUS_SESSION_BUS_ADDRESS")


@cache
def _system_backend() -> KeyringBackend | FileKeyring:
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        import keyring
        from keyring.backends import fail

        chosen = keyring.get_keyring()  # an explicit choice is respected as it is,
        # unless it is "no keyring at all": then the 0600 file, as when none is found
        # (SEC-3: else the login code goes out and the session has nowhere to go).
        return _file_backend() if isinstance(chosen, fail.Keyring) else chosen
    if _headless_linux():
        return _file_backend()
    import keyring
    from keyring.backends import fail

    chosen = keyring.get_keyring()
    priority = getattr(chosen, "priority", 0)
    if isinstance(chosen, fail.Keyring) or priority < 1:
        return _file_backend()
    return chosen


class FileKeyring:
    """The fallback: a JSON file only its owner can read (0600), written atomically.

    It stands in for a keyring backend (same three methods) without importing keyring,
    which costs ~40 ms on every command of a headless machine.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        import json

        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def _write(self, entries: dict[str, str]) -> None:
        """Through a temporary file of our own (0600, unique: two processes never share
        one), then renamed over the old file in one step."""
        import json
        import tempfile

        descriptor, partial = tempfile.mkstemp(
            dir=self.path.parent, prefix=self.path.name + ".", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(entries, handle)
            os.replace(partial, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time: a read-modify-write of another process (a login against
        another store, from the same HOME) would otherwise drop this one's entry."""
        import fcntl

        descriptor = os.open(
            self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600
        )
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._locked():
            self._write({**self._read(), f"{service}/{username}": password})

    def delete_password(self, service: str, username: str) -> None:
        with self._locked():
            entries = self._read()
            if entries.pop(f"{service}/{username}", None) is not None:
                self._write(entries)


def _file_backend() -> FileKeyring:
    from chorus_cli.config import data_dir

    folder = data_dir()
    path = folder / FALLBACK_FILE
    marker = folder / WARNED_MARKER
    if not marker.exists():
        from chorus_cli.store import notes

        notes.note("keyring.fallback", path=str(path))
        marker.touch()
    return FileKeyring(path)


def _entry(kind: str, database_url: str) -> str:
    return f"{kind}:{store_id(database_url)}"


def get(kind: str, database_url: str) -> str | None:
    return get_entry(_entry(kind, database_url))


def put(kind: str, database_url: str, value: str) -> None:
    put_entry(_entry(kind, database_url), value)


def delete(kind: str, database_url: str) -> None:
    delete_entry(_entry(kind, database_url))


# Entries of no one store: a TOTP seed key is found by its id (``seed-key:<id>``), so a
# store copied with `db copy` opens with it on the same machine (SEC-2).


def smtp_entry(user: str, host: str) -> str:
    """The entry of an SMTP password (`chorus mail password`, SEC-8): one per user@host."""
    return f"smtp:{user}@{host}"


def get_entry(entry: str) -> str | None:
    return backend().get_password(SERVICE, entry)


def put_entry(entry: str, value: str) -> None:
    backend().set_password(SERVICE, entry, value)


def delete_entry(entry: str) -> None:
    chosen = backend()
    if isinstance(chosen, FileKeyring):
        chosen.delete_password(SERVICE, entry)
        return
    from keyring.errors import PasswordDeleteError

    with contextlib.suppress(PasswordDeleteError):
        chosen.delete_password(SERVICE, entry)


def memory_backend() -> KeyringBackend:
    """A keyring that lives in this process only (the demo, and tests)."""
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            self.entries: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.entries.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.entries[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if self.entries.pop((service, username), None) is None:
                raise PasswordDeleteError(username)

    return MemoryKeyring()
