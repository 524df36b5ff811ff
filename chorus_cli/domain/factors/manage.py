"""«Mes facteurs d'authentification»: adding and removing a TOTP app or a security key,
one use case each (MFA-2, MFA-4, MFA-5).

The current password is asked before any change (SEC-5, ASVS 5 7.5.1): the use case
calls ``password()`` only once what refuses the change without it has been checked,
and each one commits before it waits for a person (the password, a key touch, the app's
next code), so no transaction stays open meanwhile (SEC-4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chorus_cli.domain.factors import security_key, totp
from chorus_cli.kernel.errors import WrongEnrolmentCode

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Authenticator
    from chorus_cli.store.uow import UnitOfWork

Password = Callable[[], str]
# A security key's side of a registration: (creation options, origin) -> its response.
Touch = Callable[[dict[str, Any], str], dict[str, Any]]


def add_totp(
    uow: UnitOfWork, account: Account, name: str | None, password: Password
) -> totp.Enrolment:
    """Start adding a TOTP app: refused at once if the account has one (MFA-2), else the
    password (SEC-5), then a secret that waits 10 minutes for its first code."""
    totp.ready(uow, account)
    uow.commit()
    enrolment = totp.begin(uow, account, name, password())
    uow.commit()
    return enrolment


def confirm_totp(uow: UnitOfWork, account: Account, code: str) -> Authenticator:
    """Save the app being added once it shows a right code (MFA-2); a wrong one is a
    :class:`WrongEnrolmentCode`, and nothing is held while the person reads the app
    again (SEC-4)."""
    try:
        row = totp.confirm(uow, account, code)
    except WrongEnrolmentCode:
        uow.release()
        raise
    uow.commit()
    return row


def remove_totp(uow: UnitOfWork, account: Account, password: Password) -> Authenticator:
    """Remove the TOTP app after the password, asked only if there is one (MFA-5)."""
    totp.require(uow, account)
    uow.commit()
    row = totp.remove(uow, account, password())
    uow.commit()
    return row


def add_key(
    uow: UnitOfWork, account: Account, name: str | None, password: Password, touch: Touch
) -> Authenticator:
    """Register a security key (MFA-4): the password (SEC-5), then ``touch`` asks the key
    to sign the registration challenge. If it never answers (no key, refused, Ctrl-C),
    the challenge goes and the store is as it was."""
    uow.commit()
    registration = security_key.register_begin(uow, account, name, password())
    uow.commit()
    try:
        response = touch(registration.options, security_key.origin(uow.settings))
    except BaseException:
        security_key.abandon(uow, account, registration.state_id)
        raise
    row = security_key.register_complete(uow, account, registration.state_id, response)
    uow.commit()
    return row


def remove_key(uow: UnitOfWork, account: Account, key_id: int, password: Password) -> Authenticator:
    """Remove a security key after the password, asked only if the key is there (MFA-5)."""
    security_key.get(uow, account, key_id)
    uow.commit()
    row = security_key.remove(uow, account, key_id, password())
    uow.commit()
    return row
