"""TOTP app (MFA-2, MFA-3): RFC 6238 with SHA-1, 6 digits, 30-second steps, ±1 step;
a time step is accepted once per account.

pyotp alone accepts a code as often as it is shown within its window (SECURITY.md), so
the last accepted step is kept on the factor row and only a strictly greater one passes
(RFC 6238 §5.2), read under a row lock: two processes cannot both accept one code.

The secret must stay readable to check codes, so it cannot be hashed: it is sealed in
the store under a key kept outside it (SEC-2, ``seeds``), shown once at enrolment, and
never printed, logged or audited afterwards.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from chorus_cli.domain.factors import common, seeds
from chorus_cli.kernel.errors import (
    LinkExpired,
    NotFound,
    RuleRefused,
    SeedKeyMissing,
    WrongEnrolmentCode,
)

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Authenticator, FactorState, LoginChallenge
    from chorus_cli.store.uow import UnitOfWork

ISSUER = "Chorus Pro"
DIGITS = 6
PERIOD = 30
WINDOW = 1  # one step either side: a code lives about 90 s
ENROL_TTL = timedelta(minutes=10)
DEFAULT_NAME = "TOTP"


@dataclass
class Enrolment:
    """A TOTP app shown to the user, waiting for its first code (MFA-2)."""

    secret: str
    uri: str
    name: str
    expires_at: datetime


def new_secret() -> str:
    """32 Base32 characters: a 160-bit secret, the length RFC 4226 recommends for SHA-1."""
    import pyotp

    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """``otpauth://totp/Chorus%20Pro:EMAIL?secret=...&issuer=Chorus%20Pro`` (Key URI format).

    Built by hand rather than by pyotp, so the label keeps the address readable; the
    defaults (SHA1, 6 digits, 30 s) are implied, as every app assumes them.
    """
    label = quote(f"{ISSUER}:{email}", safe=":@")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(ISSUER)}"


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type by hand: ``ABCD EFGH ...``."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step the code belongs to, within ±1 step of ``now``; None if it does not."""
    import pyotp
    from pyotp.exceptions import OTPVerificationError

    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    try:
        return totp.verify_and_get_timecode(code, for_time=now.timestamp(), valid_window=WINDOW)
    except OTPVerificationError:
        return None


def app(uow: UnitOfWork, account: Account, lock: bool = False) -> Authenticator | None:
    """The account's TOTP app, if it has one (one at most: MFA-2)."""
    rows = common.authenticators(uow, account, "totp", lock=lock)
    return rows[0] if rows else None


def require(uow: UnitOfWork, account: Account) -> Authenticator:
    row = app(uow, account)
    if row is None:
        raise NotFound("mfa2.no_totp")
    return row


def _pending(uow: UnitOfWork, account: Account) -> list[FactorState]:
    from sqlmodel import col, select

    from chorus_cli.store.models import FactorState

    return list(
        uow.session.exec(
            select(FactorState)
            .where(col(FactorState.account_id) == account.id)
            .where(col(FactorState.purpose) == "totp_enrol")
            .order_by(col(FactorState.id).desc())
            .with_for_update()
        ).all()
    )


def ready(uow: UnitOfWork, account: Account) -> None:
    """What refuses an enrolment before the password is asked: one app per account."""
    if app(uow, account) is not None:
        raise RuleRefused("mfa2.totp_exists")


def begin(uow: UnitOfWork, account: Account, name: str | None, password: str) -> Enrolment:
    """Draw a secret for a new app, after the current password (SEC-5, ASVS 5 7.5.1); it
    waits 10 minutes for its first code (MFA-2).

    A second app is refused until the first is removed; a new enrolment replaces one
    still waiting, whose secret is forgotten.
    """
    from chorus_cli.store.models import FactorState

    ready(uow, account)
    name = common.clean_name(name, DEFAULT_NAME)
    common.reauthenticate(uow, account, password, "sec5.password_wrong_factor")
    common.purge_states(uow)
    for old in _pending(uow, account):
        uow.session.delete(old)
    secret = new_secret()
    now = uow.clock.now()
    state = uow.add(
        FactorState(
            account_id=account.id,
            purpose="totp_enrol",
            data=seeds.sealed(uow, account.id, {"name": name}, secret),
            created_at=now,
            expires_at=now + ENROL_TTL,
        )
    )
    return Enrolment(secret, provisioning_uri(secret, account.login_email), name, state.expires_at)


def confirm(uow: UnitOfWork, account: Account, code: str) -> Authenticator:
    """Save the app once it shows a right code (MFA-2). That code's step counts as used,
    so it cannot open a session afterwards (MFA-3)."""
    from chorus_cli.store.models import Authenticator

    now = uow.clock.now()
    waiting = [s for s in _pending(uow, account) if s.expires_at > now]
    if not waiting:
        raise LinkExpired("mfa2.no_enrolment")
    if app(uow, account) is not None:
        raise RuleRefused("mfa2.totp_exists")
    state = waiting[0]
    secret = seeds.opened(uow, account.id, state.data)
    step = matching_step(secret, code, now)
    if step is None:
        raise WrongEnrolmentCode("mfa2.code_wrong")
    uow.session.delete(state)
    row = uow.add(
        Authenticator(
            account_id=account.id,
            type="totp",
            name=state.data["name"],
            data=seeds.sealed(uow, account.id, {"last_step": step}, secret),
            created_at=now,
        )
    )
    common.added(uow, account, row)
    return row


def remove(uow: UnitOfWork, account: Account, password: str) -> Authenticator:
    """Remove the app after the current password (ASVS 5 7.5.1); a notice is mailed (MFA-5)."""
    row = require(uow, account)
    common.reauthenticate(uow, account, password)
    common.removed(uow, account, row)
    return row


class Totp:
    """The TOTP app as a login factor (AUTH-1, MFA-3)."""

    method = "totp"
    refusal = "mfa3.code_wrong"
    typed = True

    def available(self, uow: UnitOfWork, account: Account) -> bool:
        return app(uow, account) is not None

    def start(
        self, uow: UnitOfWork, account: Account, challenge: LoginChallenge, attempt: str
    ) -> None:
        return None  # the app shows the code: nothing to send

    def verify(
        self,
        uow: UnitOfWork,
        account: Account,
        challenge: LoginChallenge,
        attempt: str,
        response: str,
    ) -> bool:
        row = app(uow, account, lock=True)
        if row is None:
            return False
        now = uow.clock.now()
        secret = seeds.opened(uow, account.id, row.data)
        step = matching_step(secret, response, now)
        last = row.data.get("last_step")
        if step is None or (last is not None and step <= last):
            return False
        row.data = {**row.data, "last_step": step}
        if seeds.is_plain(row.data):  # a seed from before sealing: sealed now (SEC-2),
            with contextlib.suppress(SeedKeyMissing):  # unless the key is elsewhere
                row.data = seeds.sealed(uow, account.id, row.data, secret)
        row.last_used_at = now
        uow.add(row)
        return True
