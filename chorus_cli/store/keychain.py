"""Where the CLI keeps its session token (AUTH-3): the system keyring, service
``chorus-cli``, one entry per store; and the keys that seal TOTP seeds (SEC-2), one
entry per key id.

On a machine with no usable keyring backend (headless Linux: keyring falls back to
``fail`` or, with keyrings.alt, silently to a plaintext file), the token goes to a
0600 file in the user data dir instead (``FileKeyring``), and the user is warned once;
so does a keyring that fails when asked (locked, D-Bus not answering). The TOTP seed keys
have a 0600 file of their own there, ``seed-keys.json`` (SEC-12).
"""

from __future__ import annotations

import contextlib
import os
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from chorus_cli.store.rehearsal import rehearsing

if TYPE_CHECKING:
    from collections.abc import Iterator

    from keyring.backend import KeyringBackend

SERVICE = "chorus-cli"
FALLBACK_FILE = "session-keyring.json"
SEED_FILE = "seed-keys.json"  # the TOTP seed keys' own file (SEC-12)
SEED_PREFIX = "seed-key:"
WARNED_MARKER = ".keyring-warning-shown"
ERROR_MARKER = ".keyring-error-warning-shown"


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


def backend() -> KeyringBackend | FileKeyring | Guarded:
    """The keyring in use: the system's (its failures fall back to the 0600 file), the
    file, or the one set by ``use_backend``."""
    return _override[0] if _override else _system_backend()


def _headless_linux() -> bool:
    """No session bus: Secret Service and KWallet cannot answer, so don't ask them.

    keyring's discovery loads every backend plugin (one runs gcc through ctypes to look
    for macOS' Security framework) only to end on a plaintext file: ~100 ms a command.
    """
    return sys.platform.startswith("linux") and not os.environ.get("DBUS_SESSION_BUS_ADDRESS")


@cache
def _system_backend() -> KeyringBackend | FileKeyring | Guarded:
    try:
        chosen = _chosen_backend()
    except Exception as exc:  # a backend that fails as it is made (D-Bus, secretstorage)
        return _unusable(exc)
    return chosen if isinstance(chosen, FileKeyring) else Guarded(chosen)


def _chosen_backend(warn: bool = True) -> KeyringBackend | FileKeyring:
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        from keyring.backends import fail
        from keyring.core import load_env

        # The variable's backend as it is now (keyring.get_keyring() keeps the first one a
        # process loaded): an explicit choice is respected as it is,
        # unless it is "no keyring at all": then the 0600 file, as when none is found
        # (SEC-3: else the login code goes out and the session has nowhere to go).
        chosen = load_env()
        return _file_backend(warn) if isinstance(chosen, fail.Keyring) else chosen
    if _headless_linux():
        return _file_backend(warn)
    import keyring
    from keyring.backends import fail

    chosen = keyring.get_keyring()
    priority = getattr(chosen, "priority", 0)
    if isinstance(chosen, fail.Keyring) or priority < 1:
        return _file_backend(warn)
    return chosen


def _unusable(exc: Exception) -> FileKeyring:
    """The keyring failed (locked, no answer on D-Bus: keyring's InitError, KeyringLocked,
    secretstorage's and jeepney's own errors): the 0600 file serves instead, said once."""
    from chorus_cli.config import data_dir
    from chorus_cli.store import notes

    folder = data_dir()
    marker = folder / ERROR_MARKER
    if not marker.exists():
        notes.note("keyring.unusable", error=type(exc).__name__, path=str(folder / FALLBACK_FILE))
        _mark(marker)
    return _file_backend(warn=False)


class Guarded:
    """A system keyring that may fail at any call: the first failure sends this call and
    every later one of the process to the 0600 file (SEC-3)."""

    def __init__(self, chosen: KeyringBackend) -> None:
        self.chosen: KeyringBackend | FileKeyring = chosen

    def __getattr__(self, name: str) -> object:
        return getattr(self.chosen, name)

    def _call(self, method: str, *args: str) -> str | None:
        try:
            return getattr(self.chosen, method)(*args)
        except Exception as exc:
            if method == "delete_password" and type(exc).__name__ == "PasswordDeleteError":
                raise  # not there: not a failure of the keyring
            if isinstance(self.chosen, FileKeyring):
                raise
            self.chosen = _unusable(exc)
            return getattr(self.chosen, method)(*args)

    def get_password(self, service: str, username: str) -> str | None:
        return self._call("get_password", service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._call("set_password", service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._call("delete_password", service, username)


class FileKeyring:
    """The fallback: JSON files only their owner can read (0600), written atomically.

    It stands in for a keyring backend (same three methods) without importing keyring,
    which costs ~40 ms on every command of a headless machine. TOTP seed keys
    (``seed-key:<id>``) live in a file of their own (``seed-keys.json``), which no login
    rewrites (SEC-12); a seed key found in the session file (where older versions kept it) is
    moved there on first sight. A file that is not what chorus wrote (bad JSON, another
    shape) is moved aside with a warning, never overwritten (SEC-12).
    """

    def __init__(self, path: Path, seed_path: Path | None = None) -> None:
        self.path = path
        self.seed_path = seed_path or path.with_name(SEED_FILE)
        self._held = False

    def _file(self, username: str) -> Path:
        return self.seed_path if username.startswith(SEED_PREFIX) else self.path

    def _read(self, path: Path) -> dict[str, str]:
        """The entries of one file; a damaged file is moved aside (under the lock)."""
        entries = _parse(path)
        if entries is not None:
            return entries
        with self._locked():
            entries = _parse(path)  # another process may have moved it aside meanwhile
            if entries is None:
                import time

                from chorus_cli.store import files, notes

                aside = files.move_aside(path, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
                notes.note("sec12.file_damaged", path=str(path), aside=str(aside))
                entries = {}
        return entries

    def _write(self, path: Path, entries: dict[str, str]) -> None:
        import json

        from chorus_cli.store import files

        files.write_private(path, json.dumps(entries))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time: a read-modify-write of another process (a login against
        another store, from the same HOME) would otherwise drop this one's entry."""
        if self._held:  # this process holds it already (a damaged file met while writing)
            yield
            return
        import fcntl

        from chorus_cli.store import files

        descriptor = files.open_private(self.path.with_name(self.path.name + ".lock"))
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            self._held = True
            yield
        finally:
            self._held = False
            os.close(descriptor)  # closing releases the lock

    def _migrate(self) -> dict[str, str]:
        """Under the lock: seed keys left in the session file move to their own file
        (written first, so a crash between the two steps loses nothing); the session
        file's other entries."""
        entries = self._read(self.path)
        seeds = {k: v for k, v in entries.items() if k.split("/", 1)[-1].startswith(SEED_PREFIX)}
        if seeds:
            kept = self._read(self.seed_path)
            self._write(self.seed_path, {**seeds, **kept})
            entries = {k: v for k, v in entries.items() if k not in seeds}
            self._write(self.path, entries)
        return entries

    def get_password(self, service: str, username: str) -> str | None:
        key = _key(service, username)
        found = self._read(self._file(username)).get(key)
        if found is None and username.startswith(SEED_PREFIX) and key in self._read(self.path):
            with self._locked():
                self._migrate()
            found = self._read(self.seed_path).get(key)
        return found

    def set_password(self, service: str, username: str, password: str) -> None:
        path = self._file(username)
        with self._locked():
            entries = self._migrate() if path == self.path else self._read(path)
            self._write(path, {**entries, _key(service, username): password})

    def delete_password(self, service: str, username: str) -> None:
        path = self._file(username)
        with self._locked():
            entries = self._migrate() if path == self.path else self._read(path)
            if entries.pop(_key(service, username), None) is not None:
                self._write(path, entries)

    def peek(self, service: str, username: str) -> str | None:
        """``get_password`` with no side effect (shell completion, OUT-6): a damaged file
        stays where it is, a seed key still in the session file is read there."""
        key = _key(service, username)
        for path in dict.fromkeys((self._file(username), self.path)):
            found = (_parse(path) or {}).get(key)
            if found is not None:
                return found
        return None


def _key(service: str, username: str) -> str:
    """An entry's key in the fallback files, as keyring's own file backends name it."""
    return f"{service}/{username}"


def _parse(path: Path) -> dict[str, str] | None:
    """A file's entries ({} when there is no file); None when it is damaged."""
    import json

    from chorus_cli.store import files

    text = files.read_private(path)
    if text is None:
        return {}
    try:
        entries = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entries, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in entries.items()
    ):
        return None
    return entries


def _mark(marker: Path) -> None:
    """A marker file (a warning shown once), made 0600 without following a link."""
    from chorus_cli.store import files

    with contextlib.suppress(FileExistsError):
        os.close(files.create_private(marker))


def _file_backend(warn: bool = True) -> FileKeyring:
    from chorus_cli.config import data_dir

    folder = data_dir()
    path = folder / FALLBACK_FILE
    marker = folder / WARNED_MARKER
    if warn and not marker.exists() and not marker.is_symlink():
        from chorus_cli.store import notes

        notes.note("keyring.fallback", path=str(path))
        _mark(marker)
    return FileKeyring(path)


def _entry(kind: str, database_url: str) -> str:
    return f"{kind}:{store_id(database_url)}"


def get(kind: str, database_url: str) -> str | None:
    return get_entry(_entry(kind, database_url))


def peek(kind: str, database_url: str) -> str | None:
    """``get`` for shell completion (OUT-6), which must say nothing and change nothing:
    the same backend, and the same fall back to the 0600 file when the system keyring
    fails, but no warning said or marked as said (the next command says it) and a
    damaged file left where it is."""
    entry = _entry(kind, database_url)
    try:
        chosen = _override[0] if _override else _chosen_backend(warn=False)
        if not isinstance(chosen, FileKeyring):
            return chosen.get_password(SERVICE, entry)
    except Exception:  # noqa: BLE001 - as Guarded: the keyring failed, the file serves
        chosen = _file_backend(warn=False)
    try:
        return chosen.peek(SERVICE, entry)
    except Exception:  # noqa: BLE001 - completion offers nothing rather than fail
        return None


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
    if rehearsing() is not None:  # a dry run keeps nothing, here as in the store (OUT-5)
        return
    backend().set_password(SERVICE, entry, value)


def delete_entry(entry: str) -> None:
    if rehearsing() is not None:  # a dry run removes nothing either (OUT-5)
        return
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
