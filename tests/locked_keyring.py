"""A keyring backend that answers as Secret Service does when its collection cannot be
unlocked (SSH into a desktop session): keyring's ``InitError`` on every call, and a
backend error of its own type (as secretstorage's and jeepney's surface) on delete."""

from keyring.backend import KeyringBackend
from keyring.errors import InitError


class LockedKeyring(KeyringBackend):
    priority = 5

    def get_password(self, service, username):
        raise InitError("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise InitError("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise DBusLikeError("org.freedesktop.DBus.Error.NoReply")


class DBusLikeError(Exception):
    """Not a KeyringError: what a D-Bus library raises through a backend."""
