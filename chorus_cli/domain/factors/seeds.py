"""TOTP seeds sealed in the store (SEC-2): AES-256-GCM under a key kept outside it.

The store records only the id of its current seed key (``store_setting`` row
``seed_key_id``). The key itself is ``CHORUS_SEED_KEY`` (base64 of 32 bytes: a shared
deployment where several machines use one PostgreSQL store, CI), else the keyring entry
``seed-key:<id>`` (without a usable keyring: ``seed-keys.json``, a 0600 file of its
own beside the session file, which no login rewrites, SEC-12), made on first use.
Keyring entries are found by key id, not by store: a store copied with ``db copy``
still opens on the same machine. A key's id is a fingerprint of it, so a
wrong ``CHORUS_SEED_KEY`` is told apart from a missing one.

A sealed seed is ``{"sealed": "v1:<key id>:<base64 nonce + ciphertext>"}``; the header and
the account id are its associated data, so a sealed seed copied onto another account's
row does not open. Rows written before sealing (``"secret"``) are still read, and sealed
when next accepted, by ``db upgrade`` and by ``db rotate-key``.

``cryptography`` is imported only when a seed is sealed or opened (start-up time).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel.errors import BadInput, RuleRefused, SeedKeyMissing

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork

VERSION = "v1"
SETTING = "seed_key_id"
KEY_BYTES = 32
NONCE_BYTES = 12


def key_id(key: bytes) -> str:
    """A key's public name: 16 hex digits of a hash of it (never the key)."""
    return hashlib.sha256(b"chorus totp seed key\0" + key).hexdigest()[:16]


def _entry(kid: str) -> str:
    return f"seed-key:{kid}"


def _decode(text: str) -> bytes | None:
    import binascii

    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def _env_keys(uow: UnitOfWork) -> dict[str, bytes]:
    """The keys of CHORUS_SEED_KEY by id, newest first (``new,old`` during a rotation)."""
    raw = uow.settings.seed_key
    keys: dict[str, bytes] = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        key = _decode(part)
        if key is None:
            raise BadInput("sec2.seed_key_invalid")
        keys[key_id(key)] = key
    return keys


def _lookup(uow: UnitOfWork, kid: str) -> bytes | None:
    """The key named ``kid``, from CHORUS_SEED_KEY or the keyring; None when neither has it."""
    from chorus_cli.store import keychain

    env = _env_keys(uow)
    if kid in env:
        return env[kid]
    stored = keychain.get_entry(_entry(kid))
    key = _decode(stored) if stored else None
    return key if key is not None and key_id(key) == kid else None


def _require(uow: UnitOfWork, kid: str) -> bytes:
    key = _lookup(uow, kid)
    if key is None:
        raise SeedKeyMissing("sec2.seed_key_missing", key_id=kid)
    return key


def recorded_id(uow: UnitOfWork) -> str | None:
    """The id of the store's current seed key; None until the first seed is sealed."""
    from chorus_cli.store.models import StoreSetting

    row = uow.session.get(StoreSetting, SETTING)
    return row.value if row is not None else None


def _record(uow: UnitOfWork, kid: str) -> None:
    from chorus_cli.store.models import StoreSetting

    row = uow.session.get(StoreSetting, SETTING)
    if row is None:
        row = StoreSetting(name=SETTING, value=kid)
    row.value = kid
    uow.add(row)


def _new_key() -> tuple[str, bytes]:
    """A fresh key, put in the keyring (before the store names it: never the other way)."""
    from chorus_cli.store import keychain

    key = os.urandom(KEY_BYTES)
    kid = key_id(key)
    keychain.put_entry(_entry(kid), base64.b64encode(key).decode("ascii"))
    return kid, key


def current_key(uow: UnitOfWork) -> tuple[str, bytes]:
    """The store's seed key; on first use, CHORUS_SEED_KEY's (its first) or a new one
    kept in the keyring, and its id recorded in the store."""
    from sqlalchemy.exc import IntegrityError

    from chorus_cli.store import keychain
    from chorus_cli.store.models import StoreSetting

    kid = recorded_id(uow)
    if kid is not None:
        return kid, _require(uow, kid)
    env = _env_keys(uow)
    made = not env
    kid, key = next(iter(env.items())) if env else _new_key()
    try:
        with uow.session.begin_nested():  # two first enrolments at once: one key wins
            uow.session.add(StoreSetting(name=SETTING, value=kid))
    except IntegrityError:
        if made:
            keychain.delete_entry(_entry(kid))
        kid = recorded_id(uow) or kid
        return kid, _require(uow, kid)
    return kid, key


def _aad(header: str, account_id: int) -> bytes:
    return f"chorus totp seed|{header}|account={account_id}".encode()


def _seal_with(kid: str, key: bytes, account_id: int, secret: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header = f"{VERSION}:{kid}"
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret.encode("ascii"), _aad(header, account_id))
    return f"{header}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def sealed(uow: UnitOfWork, account_id: int, data: dict[str, Any], secret: str) -> dict[str, Any]:
    """``data`` with ``secret`` sealed under the store's key, in place of any plaintext."""
    kid, key = current_key(uow)
    return _with_seal(data, _seal_with(kid, key, account_id, secret))


def _with_seal(data: dict[str, Any], seal: str) -> dict[str, Any]:
    rest = {k: v for k, v in data.items() if k not in ("secret", "sealed")}
    return {**rest, "sealed": seal}


def is_plain(data: dict[str, Any]) -> bool:
    """A row written before seeds were sealed."""
    return "secret" in data and "sealed" not in data


def opened(uow: UnitOfWork, account_id: int, data: dict[str, Any]) -> str:
    """The Base32 seed of a factor row or a pending enrolment (a legacy row: as it is)."""
    if is_plain(data):
        return data["secret"]
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    parts = str(data.get("sealed", "")).split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise RuleRefused("sec2.seed_unreadable")
    version, kid, blob = parts
    key = _require(uow, kid)
    try:
        raw = base64.b64decode(blob, validate=True)
        secret = AESGCM(key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(f"{version}:{kid}", account_id)
        )
    except (InvalidTag, ValueError):  # binascii.Error is a ValueError
        raise RuleRefused("sec2.seed_unreadable") from None
    return secret.decode("ascii")


# --- every seed of the store: `db upgrade` and `db rotate-key` --------------------------


def _every_seed(uow: UnitOfWork) -> list[Any]:
    """Every TOTP factor row and pending enrolment, locked until commit."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Authenticator, FactorState

    apps = select(Authenticator).where(col(Authenticator.type) == "totp")
    pending = select(FactorState).where(col(FactorState.purpose) == "totp_enrol")
    return [
        *uow.session.exec(apps.order_by(col(Authenticator.id)).with_for_update()).all(),
        *uow.session.exec(pending.order_by(col(FactorState.id)).with_for_update()).all(),
    ]


def seal_plaintext(uow: UnitOfWork) -> int:
    """Seal the seeds written before sealing (``db upgrade``); how many. Nothing when
    none is left, so no key is made for a store without TOTP apps."""
    plain = [row for row in _every_seed(uow) if is_plain(row.data)]
    for row in plain:
        row.data = sealed(uow, row.account_id, row.data, row.data["secret"])
        uow.session.add(row)
    uow.session.flush()
    if plain:
        uow.audit("system", "sec2.seeds_sealed", "store", count=len(plain))
    return len(plain)


@dataclass
class Rotation:
    """What `db rotate-key` did: the keys' ids, the seeds re-sealed, the new key's home."""

    old: str | None
    new: str
    count: int
    from_env: bool  # the new key is CHORUS_SEED_KEY's: nothing was put in the keyring
    old_in_env: bool  # the old key is CHORUS_SEED_KEY's too: the user removes it there


def rotate(uow: UnitOfWork, actor: Account) -> Rotation:
    """A new seed key; every TOTP seed (apps and pending enrolments) re-sealed with it and
    its id recorded, in this transaction (admin only). The new key is CHORUS_SEED_KEY's
    first when it is set (put a new one first, the old one after a comma), else a new one
    in the keyring. The old key stays where it is: ``retire`` it once this committed."""
    from chorus_cli.domain import authz
    from chorus_cli.store import keychain

    authz.require_role(uow, actor, *authz.ADMIN)
    old = recorded_id(uow)
    env = _env_keys(uow)
    if env:
        new, key = next(iter(env.items()))
        if new == old:
            raise RuleRefused("sec2.rotate_same_env_key", key_id=new)
    else:
        new, key = _new_key()
    try:
        rows = _every_seed(uow)
        for row in rows:
            secret = opened(uow, row.account_id, row.data)
            row.data = _with_seal(row.data, _seal_with(new, key, row.account_id, secret))
            uow.session.add(row)
        _record(uow, new)
    except BaseException:
        if not env:  # the store never named it: forget it
            keychain.delete_entry(_entry(new))
        raise
    uow.audit(actor.login_email, "db.rotate_key", "store", old=old, new=new, count=len(rows))
    return Rotation(old, new, len(rows), bool(env), old in env)


def retire(rotation: Rotation) -> None:
    """After the rotation committed: the old key leaves the keyring (CHORUS_SEED_KEY is
    the user's to edit)."""
    from chorus_cli.store import keychain

    if rotation.old is not None and rotation.old != rotation.new:
        keychain.delete_entry(_entry(rotation.old))


def discard(rotation: Rotation) -> None:
    """The rotation did not commit: its new keyring key names nothing."""
    from chorus_cli.store import keychain

    if not rotation.from_env:
        keychain.delete_entry(_entry(rotation.new))
