"""Logging in as one use case (AUTH-1..4, SET-4): :func:`begin` checks the password and
starts the second factor, :func:`answer` checks one answer to it and opens the session.
A terminal that asks again after a wrong code loops around :func:`answer`, which raises
:class:`~chorus_cli.kernel.errors.WrongCode` with the tries left.

Between two processes (`chorus login EMAIL --code CODE`), the client keeps the attempt
it started (:attr:`LoginAttempt.kept`) and hands it back to :func:`begin`, which then
finishes it and reads no password (SEC-7). Both steps commit before they return, so no
transaction is open while chorus waits for a person: a code, a key touch (SEC-4).

The checks themselves, inside one transaction, are ``auth.check_password`` and
``auth.check_second_factor``: this module is the conversation around them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import auth
from chorus_cli.kernel.errors import BadInput, LinkExpired, NotAllowed, WrongCode

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork


@dataclass
class LoginAttempt:
    """A login (or a reactivation, SET-4) past its password, waiting for its second factor.

    ``resumed``: started by an earlier process and given back (``--code``); then its
    method and expiry are not known here.
    """

    secret: str  # kept by the client, hashed in the store
    email: str
    purpose: str
    method: str | None = None
    expires_at: datetime | None = None
    data: dict[str, Any] | None = None  # what a security key needs to answer (WebAuthn)
    resumed: bool = False

    @property
    def kept(self) -> str:
        """What the client keeps to finish the attempt in another process."""
        return f"{self.email}\n{self.secret}"


@dataclass
class LoggedIn:
    """A session opened: its token for the client, the account and what whoami shows."""

    token: str
    account: Account
    summary: dict[str, Any]


def _kept_for(kept: str | None, email: str) -> str | None:
    """The secret of the attempt the client keeps, if it is this address's."""
    if not kept or "\n" not in kept:
        return None
    kept_email, secret = kept.split("\n", 1)
    return secret if kept_email == email else None


def begin(
    uow: UnitOfWork,
    email: str,
    password: Callable[[], str],
    *,
    method: str | None = None,
    code: str | None = None,
    fresh: bool = False,
    kept: str | None = None,
    purpose: str = "login",
) -> LoginAttempt:
    """Start a login: ``password()`` is called for it, then the second factor begins
    (AUTH-1, AUTH-2, AUTH-4); committed, so a mailed code and a counted failure stay.

    A ``code`` without ``fresh`` (no password comes with it) finishes the attempt the
    client ``kept`` instead: with none pending for this address, exit 6 and no password
    is read (SEC-7). ``purpose`` ``reactivate``: `account reactivate` (SET-4).
    """
    email = email.strip().lower()
    from chorus_cli.domain import technical

    if technical.is_login(email):  # TECH-1: never interactively; no password is read
        raise NotAllowed("tech1.no_interactive_login", login=email)
    if method == "key" and code:
        raise BadInput("mfa4.code_not_for_key")
    if code and not fresh:
        secret = _kept_for(kept, email)
        if secret is None:
            raise LinkExpired("sec7.no_attempt", email=email)
        return LoginAttempt(secret, email, purpose, resumed=True)
    secret = password()  # before any query: no transaction open while it is typed (SEC-4)
    pending = auth.check_password(uow, email, secret, method, typed=bool(code), purpose=purpose)
    uow.commit()
    return LoginAttempt(
        pending.attempt, pending.email, purpose, pending.method, pending.expires_at, pending.data
    )


def answer(uow: UnitOfWork, attempt: LoginAttempt, response: str) -> LoggedIn:
    """Check one answer to the second factor and open the session (AUTH-1, AUTH-3).

    A wrong code is counted toward the lockout and for the attempt, committed, and
    refused with :class:`WrongCode`; nothing is left open while another is typed
    (SEC-4). `chorus login --code` finishes any attempt of the address; `account
    reactivate --code` only a reactivation's.
    """
    purpose = None if attempt.purpose == "login" else attempt.purpose
    try:
        opened = auth.check_second_factor(uow, attempt.secret, response, purpose)
    except WrongCode:
        uow.release()
        raise
    uow.commit()
    return LoggedIn(opened.token, opened.account, auth.whoami(uow, opened.account))
