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
    """A 256-bit URL-safe token."""
    return secrets.token_urlsafe(32)


def new_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@cache
def hasher() -> PasswordHasher:
    """Argon2id at the ASVS 5 minimum (t=2, 19 MiB, p=1): ~35 ms on these machines."""
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)


@cache
def _dummy_hash() -> str:
    return hasher().hash(new_token())


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Check a password; with no stored hash, still pay for one check (no timing oracle)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return hasher().check_needs_rehash(stored)
