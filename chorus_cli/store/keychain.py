"""Where the CLI keeps its session token (AUTH-3): the system keyring, service
``chorus-cli``, one entry per store.

On a machine with no usable keyring backend (headless Linux: keyring falls back to
``fail`` or, with keyrings.alt, silently to a plaintext file), the token goes to a
0600 file in the user data dir instead, and the user is warned once.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "chorus-cli"
FALLBACK_FILE = "session-keyring.cfg"
WARNED_MARKER = ".keyring-warning-shown"


def store_id(database_url: str) -> str:
    """The store's URL without its password: one keyring entry per store."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


_override: list[KeyringBackend] = []


def use_backend(chosen: KeyringBackend | None) -> None:
    """Use this backend in this process (the demo keeps its session out of your keyring)."""
    _override[:] = [chosen] if chosen is not None else []


def backend() -> KeyringBackend:
    return _override[0] if _override else _system_backend()


@cache
def _system_backend() -> KeyringBackend:
    import keyring
    from keyring.backends import fail

    chosen = keyring.get_keyring()
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return chosen  # an explicit choice is respected as it is
    priority = getattr(chosen, "priority", 0)
    if isinstance(chosen, fail.Keyring) or priority < 1:
        return _file_backend()
    return chosen


def _file_backend() -> KeyringBackend:
    from keyrings.alt.file import PlaintextKeyring

    from chorus_cli.config import data_dir

    folder = data_dir()
    path = folder / FALLBACK_FILE
    file_backend = PlaintextKeyring()
    file_backend.file_path = str(path)
    if not path.exists():
        path.touch(mode=0o600)
    os.chmod(path, 0o600)
    marker = folder / WARNED_MARKER
    if not marker.exists():
        from chorus_cli.ui.i18n import message

        print(message("keyring.fallback", path=str(path)), file=sys.stderr)
        marker.touch()
    return file_backend


def _entry(kind: str, database_url: str) -> str:
    return f"{kind}:{store_id(database_url)}"


def get(kind: str, database_url: str) -> str | None:
    return backend().get_password(SERVICE, _entry(kind, database_url))


def put(kind: str, database_url: str, value: str) -> None:
    backend().set_password(SERVICE, _entry(kind, database_url), value)


def delete(kind: str, database_url: str) -> None:
    from contextlib import suppress

    from keyring.errors import PasswordDeleteError

    with suppress(PasswordDeleteError):
        backend().delete_password(SERVICE, _entry(kind, database_url))


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
