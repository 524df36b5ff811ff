"""Tokens, codes and password hashes (ACC-8): secrets come from ``secrets`` and are
stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher


def new_token() -> str:
    """A 256-bit URL-safe token that never starts with ``-``: pasted bare after a command
    (``account activate TOKEN``), such a token would be read as an option."""
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


def new_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# Argon2id at the ASVS 5 minimum (t=2, 19 MiB, p=1): ~35 ms on these machines. Fixed in
# code on purpose: no setting, option or environment variable can lower it.
ARGON2_PARAMETERS = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}


@cache
def hasher() -> PasswordHasher:
    """The one password hasher, at ``ARGON2_PARAMETERS``. A hash made with other
    parameters still verifies (Argon2 writes them into the hash); ``needs_rehash`` then
    says so and a login rehashes it at these."""
    from argon2 import PasswordHasher, Type

    return PasswordHasher(**ARGON2_PARAMETERS, type=Type.ID)


# Checked against when the account does not exist or has no password yet. A constant
# made by ``hasher()`` from a discarded random token: hashing one at run time would
# happen in every ``chorus`` process (each command is one) and make an unknown address
# cost two Argon2 runs instead of one, a timing oracle. Regenerate it if the parameters
# change (tests check ``needs_rehash(DUMMY_HASH)`` is false).
DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$UR+jC32qQLkEvIxYlh7row"
    "$no8amtXIeMMGcZj5to+IopZLZ1zGU30r8JH75igj2a4"
)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Check a password; with no stored hash, still pay for one check (no timing oracle)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher().verify(stored or DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return hasher().check_needs_rehash(stored)
